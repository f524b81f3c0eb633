// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import type { FairSemaphore } from "./_fair_semaphore.ts";
import { lockCore } from "./_lock_core.ts";
import { Waiter, WaitQueue } from "./_wait_queue.ts";
import { Lock } from "./lock.ts";

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

/**
 * The condition's queue. Whether notified or aborted, a waiter taken off
 * this queue first re-acquires the lock, then settles.
 */
class ConditionQueue extends WaitQueue<void> {
  readonly #core: FairSemaphore;

  constructor(core: FairSemaphore) {
    super();
    this.#core = core;
  }

  override abortWaiter(waiter: Waiter<void>): void {
    if (this.remove(waiter)) this.reacquire(waiter, false);
  }

  /**
   * Re-acquires the lock for a waiter taken off the queue, then resolves it
   * (`notified`) or rejects it with its signal's reason. The re-acquire
   * itself cannot be aborted.
   */
  reacquire(waiter: Waiter<void>, notified: boolean): void {
    const settle = notified
      ? () => waiter.resolve()
      : () => waiter.reject(waiter.signal?.reason);
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
 * - **Misuse:** calling {@linkcode Condition.wait} or
 *   {@linkcode Condition.notify} while the lock is not held throws a
 *   `TypeError`. The lock does not record which task holds it, so a call
 *   from a task that does not hold a held lock is not detected.
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
 *   using _guard = await condition.lock.acquire();
 *   await condition.waitFor(() => items.length > 0);
 *   return items.shift()!;
 * }
 *
 * async function produce(item: number): Promise<void> {
 *   using _guard = await condition.lock.acquire();
 *   items.push(item);
 *   condition.notify();
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
   * The lock the condition waits on; acquire it before calling
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
   * const waiting = condition.wait();
   * assert.equal(condition.waiting, 1);
   * await condition.lock.run(() => condition.notify());
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
   * before resolving. Call it while holding the lock; the caller's guard
   * stays valid and still releases the lock afterwards. Because other tasks
   * run in between, re-check the awaited state after waking (or use
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
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves, with the lock held again, after a
   * notification.
   * @throws {TypeError} If the lock is not held.
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
   *   using _guard = await condition.lock.acquire();
   *   while (!ready) await condition.wait();
   *   return "woken";
   * })();
   *
   * await condition.lock.run(() => {
   *   ready = true;
   *   condition.notifyAll();
   * });
   * assert.equal(await waiter, "woken");
   * ```
   */
  wait(options?: ConditionWaitOptions): Promise<void> {
    if (this.#core.permits !== 0) {
      return Promise.reject(
        new TypeError("Cannot wait on Condition as its lock is not held"),
      );
    }
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    const waiter = new Waiter<void>(this.#queue, signal, 0);
    this.#queue.push(waiter);
    this.#core.release(1);
    return waiter.promise;
  }

  /**
   * Waits until `predicate()` returns `true`, checking it first and again
   * after every notification, always with the lock held. Call it while
   * holding the lock.
   *
   * **Cancel safety:** if `options.signal` aborts before `predicate()`
   * returns `true`, this call leaves the queue, re-acquires the lock, and
   * then rejects with `signal.reason`: it consumes no notification and
   * leaves nothing behind. A signal already aborted when this method is
   * called rejects at once, without calling `predicate`.
   *
   * @param predicate Tells whether the awaited state is reached.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves, with the lock held, once `predicate()`
   * returned `true`.
   * @throws {TypeError} If the lock is not held.
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
   * const reachedThree = condition.lock.run(() =>
   *   condition.waitFor(() => count >= 3)
   * );
   * for (let i = 0; i < 3; i++) {
   *   await condition.lock.run(() => {
   *     count++;
   *     condition.notifyAll();
   *   });
   * }
   * await reachedThree;
   * assert.equal(count, 3);
   * ```
   */
  async waitFor(
    predicate: () => boolean,
    options?: ConditionWaitOptions,
  ): Promise<void> {
    if (this.#core.permits !== 0) {
      throw new TypeError("Cannot wait on Condition as its lock is not held");
    }
    options?.signal?.throwIfAborted();
    while (!predicate()) await this.wait(options);
  }

  /**
   * Wakes up to `n` waiting tasks, longest waiting first. Each re-acquires
   * the lock after the caller releases it. With no waiters, it does nothing
   * (a notification is not stored).
   *
   * @param n The most tasks to wake.
   * @throws {TypeError} If the lock is not held.
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
   *   condition.lock.run(async () => {
   *     await condition.wait();
   *     woken.push(id);
   *   })
   * );
   * await condition.lock.run(() => condition.notify(2));
   * await condition.lock.run(() => condition.notify());
   * await Promise.all(waiters);
   * assert.deepEqual(woken, [1, 2, 3]);
   * ```
   */
  notify(n: number = 1): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot notify Condition as 'n' must be a non-negative integer: received ${
          String(n)
        }`,
      );
    }
    if (this.#core.permits !== 0) {
      throw new TypeError("Cannot notify Condition as its lock is not held");
    }
    this.#wake(n);
  }

  /**
   * Wakes every waiting task. Each re-acquires the lock in turn after the
   * caller releases it.
   *
   * @throws {TypeError} If the lock is not held.
   *
   * @example Usage
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * let woken = 0;
   * const waiters = Array.from({ length: 3 }, () =>
   *   condition.lock.run(async () => {
   *     await condition.wait();
   *     woken++;
   *   }));
   * await condition.lock.run(() => condition.notifyAll());
   * await Promise.all(waiters);
   * assert.equal(woken, 3);
   * ```
   */
  notifyAll(): void {
    if (this.#core.permits !== 0) {
      throw new TypeError("Cannot notify Condition as its lock is not held");
    }
    this.#wake(Infinity);
  }

  #wake(n: number): void {
    const queue = this.#queue;
    let waiter: Waiter<void> | undefined;
    while (n > 0 && (waiter = queue.shift()) !== undefined) {
      // A waiter whose signal aborted in this same tick, before its listener
      // ran, does not use up the notification.
      const notified = !waiter.aborting;
      waiter.detach();
      queue.reacquire(waiter, notified);
      if (notified) n--;
    }
  }
}
