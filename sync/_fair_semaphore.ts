// Copyright the @seed/concurrency authors. MIT license.
// Internal: the fair batch semaphore under Lock, Semaphore and RwLock.
//
// A waiter asks for `weight` permits. Waiters are served strictly in arrival
// order: the head of the queue blocks everyone behind it, even a waiter that
// asks for fewer permits than are free. That one rule gives Lock and
// Semaphore their FIFO order and keeps RwLock writers (which ask for every
// permit) from being starved by a stream of readers (which ask for one).

import { List } from "../_list.ts";
import { Waiter, type WaiterOwner } from "./_wait_queue.ts";

/** Where a permit stands; see {@linkcode lendPermit}. */
export type PermitState = "held" | "lent" | "released";

let access: {
  state(permit: Permit, owner: FairSemaphore): PermitState | "foreign";
  set(permit: Permit, state: "held" | "lent"): void;
};

/**
 * A held share of a {@linkcode FairSemaphore}: the guard object handed out by
 * Lock, Semaphore and RwLock. Releasing it a second time does nothing.
 * Releasing a permit lent to a pending `Condition.wait()` throws.
 */
export class Permit {
  readonly #owner: FairSemaphore;
  readonly #weight: number;
  #state: PermitState = "held";

  static {
    access = {
      state: (permit, owner) =>
        permit.#owner === owner ? permit.#state : "foreign",
      set: (permit, state) => {
        permit.#state = state;
        if (state === "lent") permit.#owner.release(permit.#weight);
      },
    };
  }

  constructor(owner: FairSemaphore, weight: number) {
    this.#owner = owner;
    this.#weight = weight;
  }

  /**
   * Gives the permits back, once; later calls do nothing.
   *
   * @throws {TypeError} If the permit is lent to a pending `Condition.wait()`.
   */
  release(): void {
    if (this.#state !== "held") {
      if (this.#state === "released") return;
      throw new TypeError(
        "Cannot release Lock as its guard is lent to a pending Condition.wait(): await the wait first",
      );
    }
    this.#state = "released";
    this.#owner.release(this.#weight);
  }

  /** Same as {@linkcode Permit.release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * `"foreign"` if another semaphore handed `permit` out, else where it stands:
 * held, lent or released.
 */
export function permitState(
  permit: Permit,
  owner: FairSemaphore,
): PermitState | "foreign" {
  return access.state(permit, owner);
}

/**
 * Gives a held permit's weight back to its semaphore but keeps the permit
 * (`"lent"`), so that `Condition.wait()` frees the lock while the caller's
 * guard stays its proof of holding it. {@linkcode reclaimPermit} ends it.
 */
export function lendPermit(permit: Permit): void {
  access.set(permit, "lent");
}

/** Marks a lent permit held again, once its weight was re-acquired. */
export function reclaimPermit(permit: Permit): void {
  access.set(permit, "held");
}

/** The FIFO batch semaphore. Fields are public for the primitives above it. */
export class FairSemaphore implements WaiterOwner<Permit> {
  /** Permits free right now. */
  permits: number;
  /** Upper bound of {@linkcode FairSemaphore.permits}. */
  readonly max: number;
  /** Waiters in arrival order. */
  readonly queue: List<Waiter<Permit>> = new List();

  constructor(permits: number, max: number = permits) {
    this.permits = permits;
    this.max = max;
  }

  /**
   * Takes `weight` permits at once if they are free and nobody is queued
   * (a try never overtakes a waiter).
   */
  tryAcquire(weight: number): Permit | undefined {
    if (this.queue.head === undefined && this.permits >= weight) {
      this.permits -= weight;
      return new Permit(this, weight);
    }
    return undefined;
  }

  /**
   * Takes `weight` permits, waiting in FIFO order. Rejects with
   * `signal.reason` if the signal aborts first.
   */
  acquire(weight: number, signal: AbortSignal | undefined): Promise<Permit> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.queue.head === undefined && this.permits >= weight) {
      this.permits -= weight;
      return Promise.resolve(new Permit(this, weight));
    }
    const waiter = new Waiter<Permit>(this, signal, weight);
    this.queue.push(waiter);
    return waiter.promise;
  }

  /**
   * Gives back `weight` permits and serves the waiters they unblock.
   *
   * @throws {RangeError} If that would raise the free permits above `max`.
   */
  release(weight: number): void {
    if (this.permits + weight > this.max) {
      throw new RangeError(
        `Cannot release Semaphore as no permit is held: ${this.max} of ${this.max} are available`,
      );
    }
    this.permits += weight;
    if (this.queue.head !== undefined) this.#serve();
  }

  /** Serves queued waiters from the head while their weight is free. */
  #serve(): void {
    const queue = this.queue;
    let waiter: Waiter<Permit> | undefined;
    while (
      (waiter = queue.head) !== undefined && this.permits >= waiter.weight
    ) {
      queue.remove(waiter);
      // A waiter whose signal aborted in this same tick, before its listener
      // ran, is rejected and its permits stay for the next waiter.
      if (waiter.aborting) {
        waiter.cancel();
        continue;
      }
      this.permits -= waiter.weight;
      waiter.detach();
      waiter.resolve(new Permit(this, waiter.weight));
    }
  }

  /** Abort listener path: leave the queue, reject, serve who is unblocked. */
  abortWaiter(waiter: Waiter<Permit>): void {
    const wasHead = this.queue.head === waiter;
    if (!this.queue.remove(waiter)) return;
    waiter.reject(waiter.signal!.reason);
    if (wasHead) this.#serve();
  }
}
