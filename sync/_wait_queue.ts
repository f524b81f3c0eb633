// Copyright the @seed/concurrency authors. MIT license.
// Internal: the FIFO waiter queue shared by every primitive in `sync/`.
//
// A waiter is one pending promise plus its place in the library's intrusive
// list (`../_list.ts`): it is the list node itself, so that push, shift and
// removal of an aborted waiter from the middle are all O(1) and allocate
// nothing beyond the waiter itself. The waiter is its own abort listener
// (`handleEvent`), so waiting with a signal allocates no closure either.

import { List, ListNode } from "../_list.ts";

/** Listener options shared by every wait, so that a wait allocates none. */
export const ONCE: AddEventListenerOptions = Object.freeze({ once: true });

/** The primitive that owns a queue; told when one of its waiters aborts. */
export interface WaiterOwner<T> {
  /**
   * Called synchronously from the waiter's abort listener. The owner removes
   * the waiter from its queue, rejects it with `waiter.signal.reason` and
   * hands on whatever the waiter was blocking.
   */
  abortWaiter(waiter: Waiter<T>): void;
}

/**
 * One pending wait: a promise and its settle functions; as a list node, its
 * place in a queue (`linked` says whether it is in one).
 */
export class Waiter<T> extends ListNode {
  /** Number of permits asked for, or any per-waiter number (arrival index). */
  readonly weight: number;
  /** The primitive told when the signal aborts. */
  readonly owner: WaiterOwner<T>;
  /** The caller's signal, if any; never already aborted when constructed. */
  readonly signal: AbortSignal | undefined;
  /** The promise handed to the caller. */
  readonly promise: Promise<T>;
  /** Fulfils {@linkcode Waiter.promise}. */
  resolve!: (value: T) => void;
  /** Rejects {@linkcode Waiter.promise}. */
  reject!: (reason: unknown) => void;

  /**
   * Creates a waiter and, when there is a signal, starts listening for its
   * abort. The caller must have checked `signal.aborted` already.
   */
  constructor(
    owner: WaiterOwner<T>,
    signal: AbortSignal | undefined,
    weight: number,
  ) {
    super();
    this.owner = owner;
    this.signal = signal;
    this.weight = weight;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal !== undefined) signal.addEventListener("abort", this, ONCE);
  }

  /** The abort listener: the waiter is its own `EventListenerObject`. */
  handleEvent(): void {
    this.owner.abortWaiter(this);
  }

  /** Stops listening for abort; called on every settle path but the abort. */
  detach(): void {
    if (this.signal !== undefined) {
      this.signal.removeEventListener("abort", this);
    }
  }

  /**
   * Whether the signal is already aborted although its abort listener has
   * not run yet (another listener of the same abort, or a source signal of an
   * `AbortSignal.any()`, is running). A waiter in this state must not be given
   * a permit or a wake-up: it is rejected and the next waiter served instead.
   */
  get aborting(): boolean {
    return this.signal !== undefined && this.signal.aborted;
  }

  /**
   * Settles a waiter that was taken off its queue: rejects it with its
   * signal's reason if it is {@linkcode Waiter.aborting}, else fulfils it
   * with `value`.
   *
   * @returns Whether the waiter was fulfilled.
   */
  settle(value: T): boolean {
    if (this.aborting) {
      this.cancel();
      return false;
    }
    this.detach();
    this.resolve(value);
    return true;
  }

  /** Rejects a waiter taken off its queue with its (aborted) signal's reason. */
  cancel(): void {
    this.detach();
    this.reject(this.signal?.reason);
  }
}

/**
 * A FIFO list of waiters with O(1) push, shift and remove. As a
 * {@linkcode WaiterOwner} it removes and rejects an aborted waiter; a
 * primitive that must hand on something after an abort overrides
 * {@linkcode WaitQueue.abortWaiter} or uses its own owner.
 */
export class WaitQueue<T> extends List<Waiter<T>> implements WaiterOwner<T> {
  /** Removes an aborted waiter and rejects it with its signal's reason. */
  abortWaiter(waiter: Waiter<T>): void {
    if (this.remove(waiter)) waiter.reject(waiter.signal?.reason);
  }
}
