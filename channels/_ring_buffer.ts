// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * A growable FIFO ring buffer with O(1) `push` and `shift`.
 *
 * The backing array always has a power-of-two length, so wrapping an index is
 * a bit mask. It doubles when full and never shrinks; slots are cleared on
 * `shift` so the buffer holds no reference to values already taken.
 *
 * Internal: the channel bounds the length itself.
 *
 * @typeParam T The type of the buffered values.
 */
export class RingBuffer<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  /**
   * @param initialSize Slots to allocate up front, rounded up to a power of
   *   two (at least 1).
   */
  constructor(initialSize: number) {
    let size = 1;
    while (size < initialSize) size *= 2;
    this.#items = new Array<T | undefined>(size).fill(undefined);
    this.#mask = size - 1;
  }

  /** The number of values in the buffer. */
  get length(): number {
    return this.#length;
  }

  /** Appends `value` at the back. */
  push(value: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  /**
   * Removes and returns the front value. The caller checks `length` first:
   * on an empty buffer the result is `undefined`, which is also a valid `T`.
   */
  shift(): T {
    const head = this.#head;
    const value = this.#items[head] as T;
    if (this.#length === 0) return value;
    this.#items[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    this.#length--;
    return value;
  }

  #grow(): void {
    const old = this.#items;
    const size = old.length * 2;
    const items = new Array<T | undefined>(size).fill(undefined);
    for (let i = 0; i < this.#length; i++) {
      items[i] = old[(this.#head + i) & this.#mask];
    }
    this.#items = items;
    this.#mask = size - 1;
    this.#head = 0;
  }
}
