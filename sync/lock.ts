// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { FairSemaphore } from "./_fair_semaphore.ts";
import { registerLockInternals } from "./_lock_core.ts";

/** Options for {@linkcode Lock.acquire} and {@linkcode Lock.run}. */
export interface LockAcquireOptions {
  /**
   * Aborts the wait for the lock. An aborted wait leaves the queue and rejects
   * with `signal.reason`; it does not stop a function already running under
   * {@linkcode Lock.run}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Proof of holding a {@linkcode Lock}. Release it with
 * {@linkcode LockGuard.release} or let a `using` declaration dispose of it.
 * A `Condition` over the lock takes it to check that its caller holds the
 * lock; releasing it while a `Condition.wait()` given it is pending throws a
 * `TypeError`.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * {
 *   using _guard = await lock.acquire();
 *   assert.equal(lock.locked, true);
 * }
 * assert.equal(lock.locked, false);
 * ```
 */
export interface LockGuard extends Disposable {
  /**
   * Releases the lock, handing it to the next waiter if there is one. The
   * first call releases; later calls do nothing.
   *
   * @throws {TypeError} If a `Condition.wait()` given this guard is pending:
   * the lock is not held until it settles.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const guard = await lock.acquire();
   * guard.release();
   * guard.release(); // no-op: the lock was released once
   * assert.equal(lock.locked, false);
   * ```
   */
  release(): void;
  /**
   * Same as {@linkcode LockGuard.release}, for `using` declarations.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * {
   *   using _guard = await lock.acquire();
   * } // released here
   * assert.equal(lock.locked, false);
   * ```
   */
  [Symbol.dispose](): void;
}

/**
 * A mutual-exclusion lock for async code on one event loop: at most one
 * holder at a time. It does not exclude across workers.
 *
 * - **Fairness:** FIFO. Waiters get the lock in the order they called
 *   {@linkcode Lock.acquire}, and {@linkcode Lock.tryAcquire} never
 *   overtakes a waiter.
 * - **Cancellation:** aborting abandons the wait, never the holder's work.
 *   An aborted wait leaves the queue and leaves nothing behind. A waiter
 *   whose abort is under way when the lock reaches it (released from an
 *   abort listener that runs first) rejects, and the lock goes to the next
 *   waiter; a waiter that got the lock before the abort keeps it.
 * - **Reuse:** a lock needs no closing; it can be acquired any number of
 *   times.
 * - **Misuse:** releasing a guard twice is a no-op (the lock is released
 *   once). There is no raw `release()`: only a holder's guard releases the
 *   lock. The lock is not reentrant: acquiring it again while holding it
 *   waits forever. Releasing a guard while a `Condition.wait()` given it
 *   is pending throws a `TypeError`.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * let balance = 100;
 *
 * async function withdraw(amount: number): Promise<boolean> {
 *   using _guard = await lock.acquire();
 *   const current = balance;
 *   await Promise.resolve(); // other tasks run here, but cannot withdraw
 *   if (current < amount) return false;
 *   balance = current - amount;
 *   return true;
 * }
 *
 * const results = await Promise.all([withdraw(80), withdraw(80)]);
 * assert.deepEqual(results, [true, false]);
 * assert.equal(balance, 20);
 * ```
 *
 * @example Giving up after a timeout
 * ```ts
 * import { Lock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * using _held = await lock.acquire();
 * const controller = new AbortController();
 * const waiting = lock.acquire({ signal: controller.signal });
 * controller.abort(new Error("gave up"));
 * await assert.rejects(waiting, { message: "gave up" });
 * ```
 */
export class Lock {
  readonly #core: FairSemaphore = new FairSemaphore(1);

  static {
    registerLockInternals({ core: (lock) => lock.#core });
  }

  /**
   * Creates an unlocked lock.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(lock.locked, false);
   * ```
   */
  constructor() {}

  /**
   * Whether the lock is held right now.
   *
   * @returns `true` while a guard is unreleased.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const guard = await lock.acquire();
   * assert.equal(lock.locked, true);
   * guard.release();
   * assert.equal(lock.locked, false);
   * ```
   */
  get locked(): boolean {
    return this.#core.permits === 0;
  }

  /**
   * Waits for the lock and resolves to a guard that releases it. An unlocked
   * lock with nobody queued is taken at once (the promise is already
   * resolved).
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is handed
   * over, this call leaves the queue and rejects with `signal.reason`, and the
   * lock goes to the next waiter: nothing is left behind. A signal that
   * aborts after the hand-over is ignored: the call resolves and the caller
   * must release the guard.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the guard of the held lock.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const order: string[] = [];
   * const first = await lock.acquire();
   * const second = lock.acquire().then((guard) => {
   *   order.push("second");
   *   guard.release();
   * });
   * order.push("first");
   * first.release();
   * await second;
   * assert.deepEqual(order, ["first", "second"]);
   * ```
   */
  acquire(options?: LockAcquireOptions): Promise<LockGuard> {
    return this.#core.acquire(1, options?.signal);
  }

  /**
   * Takes the lock if it is free and nobody is waiting for it, without
   * waiting.
   *
   * @returns The guard, or `undefined` if the lock is held or has waiters.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const guard = lock.tryAcquire();
   * assert.ok(guard !== undefined);
   * assert.equal(lock.tryAcquire(), undefined);
   * guard.release();
   * ```
   */
  tryAcquire(): LockGuard | undefined {
    return this.#core.tryAcquire(1);
  }

  /**
   * Runs `fn` while holding the lock and releases the lock when it settles,
   * whether it returns or throws. `fn` gets the guard, which a
   * {@linkcode Condition} takes as proof of holding the lock; `run` releases
   * it, so `fn` need not.
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is handed
   * over, this call leaves the queue and rejects with `signal.reason`, `fn`
   * is not called, and the lock goes to the next waiter: nothing is left
   * behind. A signal that aborts after the hand-over is ignored: `fn` runs
   * and is not interrupted.
   *
   * @typeParam T The result type of `fn`.
   * @param fn The function to run under the lock; it gets the guard.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the result of `fn`.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason. Whatever `fn`
   * throws is passed on unchanged.
   * @throws {TypeError} If `fn` settles while a `Condition.wait()` given its
   * guard is still pending (the guard cannot be released then).
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * let counter = 0;
   * await Promise.all(
   *   Array.from({ length: 10 }, () =>
   *     lock.run(async () => {
   *       const seen = counter;
   *       await Promise.resolve();
   *       counter = seen + 1;
   *     })),
   * );
   * assert.equal(counter, 10);
   * ```
   *
   * @example Passing the guard to a condition
   * ```ts
   * import { Condition } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const condition = new Condition();
   * const queue: string[] = [];
   * const taken = condition.lock.run(async (guard) => {
   *   await condition.waitFor(guard, () => queue.length > 0);
   *   return queue.shift();
   * });
   * await condition.lock.run((guard) => {
   *   queue.push("job");
   *   condition.notify(guard);
   * });
   * assert.equal(await taken, "job");
   * ```
   */
  async run<T>(
    fn: (guard: LockGuard) => T | PromiseLike<T>,
    options?: LockAcquireOptions,
  ): Promise<T> {
    const guard = await this.#core.acquire(1, options?.signal);
    try {
      return await fn(guard);
    } finally {
      guard.release();
    }
  }
}
