// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import {
  type FairSemaphore,
  lendPermit,
  Permit,
  permitState,
  reclaimPermit,
} from "./_fair_semaphore.ts";
import { lockCore } from "./_lock_core.ts";
import { Waiter, WaitQueue } from "./_wait_queue.ts";
import { Lock, type LockGuard } from "./lock.ts";

/** Options for {@linkcode Condition.wait} and {@linkcode Condition.waitFor}. */
export interface ConditionWaitOptions {
  /**
   * Aborts the wait. An aborted wait leaves the queue, re-acquires the lock,
   * then rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** A wait on the condition, holding the guard it lent back to the lock. */
class ConditionWaiter extends Waiter<void> {
  readonly guard: Permit;

  constructor(
    queue: ConditionQueue,
    signal: AbortSignal | undefined,
    guard: Permit,
  ) {
    super(queue, signal, 0);
    this.guard = guard;
  }
}

/**
 * The condition's queue. Whether notified or aborted, a waiter taken off
 * this queue first re-acquires the lock (its guard is held again), then
 * settles.
 */
class ConditionQueue extends WaitQueue<void> {
  readonly #core: FairSemaphore;

  constructor(core: FairSemaphore) {
    super();
    this.#core = core;
  }

  override abortWaiter(waiter: Waiter<void>): void {
    if (this.remove(waiter)) {
      this.reacquire(waiter as ConditionWaiter, false);
    }
  }

  /**
   * Re-acquires the lock for a waiter taken off the queue, marks its guard
   * held again, then resolves it (`notified`) or rejects it with its signal's
   * reason. The re-acquire itself cannot be aborted.
   */
  reacquire(waiter: ConditionWaiter, notified: boolean): void {
    const settle = () => {
      reclaimPermit(waiter.guard);
      if (notified) waiter.resolve();
      else waiter.reject(waiter.signal?.reason);
    };
    if (this.#core.tryAcquire(1) !== undefined) settle();
    else this.#core.acquire(1, undefined).then(settle);
  }
}

/**
 * A condition variable: tasks holding a {@linkcode Lock} wait until another
 * task changes shared state and notifies them. Like Python's
 * `asyncio.Condition`: {@linkcode Condition.wait} releases the lock while
 * waiting and re-acquires it before it settles.
 *
 * Every method takes the guard that `condition.lock.acquire()` (or
 * `condition.lock.run()`) gave the caller, as proof that the caller holds
 * the lock: the lock alone cannot tell which task holds it.
 *
 * - **Fairness:** FIFO. {@linkcode Condition.notify} wakes the longest
 *   waiting task first; woken tasks then queue for the lock behind tasks
 *   already waiting for it.
 * - **Cancellation:** aborting abandons the wait. An aborted wait leaves the
 *   queue without consuming a notification (a `notify()` that reaches it
 *   while its abort is under way wakes the next waiter instead),
 *   re-acquires the lock, and only then rejects with `signal.reason`, so
 *   the caller always holds the lock when `wait()` settles. A waiter
 *   notified before the abort resolves.
 * - **Reuse:** a condition needs no closing.
 * - **Misuse:** passing a guard that is not the current guard of this
 *   condition's lock (a released guard, another lock's guard, a guard whose
 *   `wait()` is still pending, or no guard) throws a `TypeError`, so a task
 *   that does not hold the lock cannot wait or notify. While `wait(guard)` is
 *   pending, releasing `guard` throws a `TypeError` too.
 *
 * @example Usage
 * ```ts
 * import { Condition } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const condition = new Condition();
 * const items: number[] = [];
 *
 * async function consume(): Promise<number> {
 *   using guard = await condition.lock.acquire();
 *   await condition.waitFor(guard, () => items.length > 0);
 *   return items.shift()!;
 * }
 *
 * async function produce(item: number): Promise<void> {
 *   using guard = await condition.lock.acquire();
 *   items.push(item);
 *   condition.notify(guard);
 * }
 *
 * const consumed = consume();
 * await produce(42);
 * assert.equal(await consumed, 42);
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  readonly #core: FairSemaphore;
  readonly #queue: ConditionQueue;

  /**
   * Creates a condition variable over `lock`, or over a new lock.
   *
   * @param lock The lock that guards the shared state.
   * @throws {TypeError} If `lock` is given and is not a {@linkcode Lock}.
   *
   * @example Sharing a lock
   * ```ts
   * import { Condition, Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const notEmpty = new Condition(lock);
   * const notFull = new Condition(lock);
   * assert.equal(notEmpty.lock, notFull.lock);
   * ```
   */
  constructor(lock: Lock = new Lock()) {
    if (!(lock instanceof Lock)) {
      throw new TypeError(
        `Cannot create Condition as 'lock' must be a Lock: received ${
          describe(lock)
        }`,
      );
    }
    this.#lock = lock;
    this.#core = lockCore(lock);
    this.#queue = new ConditionQueue(this.#core);
  }

  /**
   * The lock the condition waits on; acquire it, and pass its guard to
   * {@linkcode Condition.wait} or {@linkcode Condition.notify}.
   *
   * @returns The lock given to the constructor, or the one it created.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * using _guard = await condition.lock.acquire();
   * assert.equal(condition.lock.locked, true);
   * ```
   */
  get lock(): Lock {
    return this.#lock;
  }

  /**
   * The number of tasks waiting to be notified.
   *
   * @returns The number of pending {@linkcode Condition.wait} calls that have
   * not been notified or aborted.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * const guard = await condition.lock.acquire();
   * const waiting = condition.wait(guard);
   * assert.equal(condition.waiting, 1);
   * await condition.lock.run((other) => condition.notify(other));
   * await waiting;
   * assert.equal(condition.waiting, 0);
   * guard.release();
   * ```
   */
  get waiting(): number {
    return this.#queue.size;
  }

  /**
   * Releases the lock, waits for a notification, then re-acquires the lock
   * before resolving. Call it with the guard of the held lock; the guard
   * stays valid and still releases the lock afterwards (releasing it while
   * the wait is pending throws). Because other tasks run in between,
   * re-check the awaited state after waking (or use
   * {@linkcode Condition.waitFor}).
   *
   * **Cancel safety:** if `options.signal` aborts before a notification
   * reaches this call, the call leaves the queue, re-acquires the lock, and
   * then rejects with `signal.reason`: it consumes no notification and
   * leaves nothing behind. A signal that aborts after the notification is
   * ignored: the call re-acquires the lock and resolves. A signal already
   * aborted when this method is called rejects at once and the lock is never
   * released.
   *
   * @param guard The guard `condition.lock.acquire()` gave the caller.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves, with the lock held again, after a
   * notification.
   * @throws {TypeError} If `guard` is not the current guard of this
   * condition's lock: released, another lock's, or already waiting.
   * @throws {DOMException} If `options.signal` aborts before a notification:
   * rejects with `signal.reason`, an `"AbortError"` `DOMException` unless the
   * caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * let ready = false;
   *
   * const waiter = (async () => {
   *   using guard = await condition.lock.acquire();
   *   while (!ready) await condition.wait(guard);
   *   return "woken";
   * })();
   *
   * await condition.lock.run((guard) => {
   *   ready = true;
   *   condition.notifyAll(guard);
   * });
   * assert.equal(await waiter, "woken");
   * ```
   *
   * @example Giving up after a timeout
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * using guard = await condition.lock.acquire();
   * const controller = new AbortController();
   * const waiting = condition.wait(guard, { signal: controller.signal });
   * controller.abort(new Error("gave up"));
   * await assert.rejects(waiting, { message: "gave up" });
   * assert.equal(condition.lock.locked, true); // held again by `guard`
   * ```
   */
  wait(guard: LockGuard, options?: ConditionWaitOptions): Promise<void> {
    const misuse = this.#misuse(guard, "wait on");
    if (misuse !== undefined) return Promise.reject(misuse);
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    const permit = guard as Permit;
    const waiter = new ConditionWaiter(this.#queue, signal, permit);
    this.#queue.push(waiter);
    lendPermit(permit);
    return waiter.promise;
  }

  /**
   * Waits until `predicate()` returns `true`, checking it first and again
   * after every notification, always with the lock held. Call it with the
   * guard of the held lock.
   *
   * **Cancel safety:** if `options.signal` aborts before `predicate()`
   * returns `true`, this call leaves the queue, re-acquires the lock, and
   * then rejects with `signal.reason`: it consumes no notification and
   * leaves nothing behind. A signal already aborted when this method is
   * called rejects at once, without calling `predicate`.
   *
   * @param guard The guard `condition.lock.acquire()` gave the caller.
   * @param predicate Tells whether the awaited state is reached.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves, with the lock held, once `predicate()`
   * returned `true`.
   * @throws {TypeError} If `guard` is not the current guard of this
   * condition's lock: released, another lock's, or already waiting.
   * @throws {DOMException} If `options.signal` aborts first: rejects with
   * `signal.reason`, an `"AbortError"` `DOMException` unless the caller
   * chose another reason. Whatever `predicate` throws is passed on.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * let count = 0;
   * const reachedThree = condition.lock.run((guard) =>
   *   condition.waitFor(guard, () => count >= 3)
   * );
   * for (let i = 0; i < 3; i++) {
   *   await condition.lock.run((guard) => {
   *     count++;
   *     condition.notifyAll(guard);
   *   });
   * }
   * await reachedThree;
   * assert.equal(count, 3);
   * ```
   */
  async waitFor(
    guard: LockGuard,
    predicate: () => boolean,
    options?: ConditionWaitOptions,
  ): Promise<void> {
    const misuse = this.#misuse(guard, "wait on");
    if (misuse !== undefined) throw misuse;
    options?.signal?.throwIfAborted();
    while (!predicate()) await this.wait(guard, options);
  }

  /**
   * Wakes up to `n` waiting tasks, longest waiting first. Each re-acquires
   * the lock after the caller releases it. With no waiters, it does nothing
   * (a notification is not stored).
   *
   * @param guard The guard `condition.lock.acquire()` gave the caller.
   * @param n The most tasks to wake.
   * @throws {TypeError} If `guard` is not the current guard of this
   * condition's lock: released, another lock's, or waiting.
   * @throws {RangeError} If `n` is not a non-negative integer.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * const woken: number[] = [];
   * const waiters = [1, 2, 3].map((id) =>
   *   condition.lock.run(async (guard) => {
   *     await condition.wait(guard);
   *     woken.push(id);
   *   })
   * );
   * await condition.lock.run((guard) => condition.notify(guard, 2));
   * await condition.lock.run((guard) => condition.notify(guard));
   * await Promise.all(waiters);
   * assert.deepEqual(woken, [1, 2, 3]);
   * ```
   */
  notify(guard: LockGuard, n: number = 1): void {
    const misuse = this.#misuse(guard, "notify");
    if (misuse !== undefined) throw misuse;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot notify Condition as 'n' must be a non-negative integer: received ${
          String(n)
        }`,
      );
    }
    this.#wake(n);
  }

  /**
   * Wakes every waiting task. Each re-acquires the lock in turn after the
   * caller releases it.
   *
   * @param guard The guard `condition.lock.acquire()` gave the caller.
   * @throws {TypeError} If `guard` is not the current guard of this
   * condition's lock: released, another lock's, or waiting.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * let woken = 0;
   * const waiters = Array.from({ length: 3 }, () =>
   *   condition.lock.run(async (guard) => {
   *     await condition.wait(guard);
   *     woken++;
   *   }));
   * await condition.lock.run((guard) => condition.notifyAll(guard));
   * await Promise.all(waiters);
   * assert.equal(woken, 3);
   * ```
   */
  notifyAll(guard: LockGuard): void {
    const misuse = this.#misuse(guard, "notify");
    if (misuse !== undefined) throw misuse;
    this.#wake(Infinity);
  }

  /**
   * The `TypeError` for a `guard` that is not proof of holding this
   * condition's lock right now, or `undefined` if it is.
   */
  #misuse(guard: unknown, action: string): TypeError | undefined {
    const state = guard instanceof Permit
      ? permitState(guard, this.#core)
      : undefined;
    switch (state) {
      case "held":
        return undefined;
      case "released":
        return new TypeError(
          `Cannot ${action} Condition as 'guard' was released: the caller does not hold the lock`,
        );
      case "lent":
        return new TypeError(
          `Cannot ${action} Condition as 'guard' is lent to a pending wait(): the lock is not held until that wait settles`,
        );
      case "foreign":
        return new TypeError(
          `Cannot ${action} Condition as 'guard' belongs to another lock`,
        );
      default:
        return new TypeError(
          `Cannot ${action} Condition as 'guard' must be the guard of its lock: received ${
            describe(guard)
          }`,
        );
    }
  }

  #wake(n: number): void {
    const queue = this.#queue;
    let waiter: Waiter<void> | undefined;
    while (n > 0 && (waiter = queue.shift()) !== undefined) {
      // A waiter whose signal aborted in this same tick, before its listener
      // ran, does not use up the notification.
      const notified = !waiter.aborting;
      waiter.detach();
      queue.reacquire(waiter as ConditionWaiter, notified);
      if (notified) n--;
    }
  }
}
