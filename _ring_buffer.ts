// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the one growable ring buffer of the library, a FIFO with O(1)
 * `push`, `shift` and `unshift`, used by the pool's queue, channels and pipes.
 *
 * The backing array always has a power-of-two length, so wrapping an index is
 * a bit mask. It doubles when full and never shrinks; a slot is cleared when
 * its value leaves, so the buffer keeps no reference to values already taken.
 *
 * @module
 */

/** A FIFO queue over a ring buffer that grows by doubling. */
export class RingBuffer<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  /**
   * @param initialCapacity Slots to allocate up front, rounded up to a power
   *   of two (at least 1).
   */
  constructor(initialCapacity = 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity <<= 1;
    this.#items = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** The number of values in the buffer. */
  get length(): number {
    return this.#length;
  }

  /** Appends `value` at the back. */
  push(value: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = value;
    this.#length++;
  }

  /** Puts `value` at the front. */
  unshift(value: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = value;
    this.#length++;
  }

  /**
   * Removes and returns the front value, or `undefined` when empty (check
   * `length` first when `undefined` is a valid value).
   */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return value;
  }

  /** The front value without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The value `index` places from the front, or `undefined`. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  /** Removes every value and returns them in order. */
  drain(): T[] {
    // Counts rather than stopping at the first `undefined`, which may be a
    // value.
    const out: T[] = [];
    while (this.#length > 0) out.push(this.shift() as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) {
      items[i] = old[(this.#head + i) & (old.length - 1)];
    }
    this.#items = items;
    this.#head = 0;
  }
}
