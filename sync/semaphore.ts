// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import { FairSemaphore } from "./_fair_semaphore.ts";

/** Options for {@linkcode Semaphore.acquire} and {@linkcode Semaphore.run}. */
export interface SemaphoreAcquireOptions {
  /**
   * Aborts the wait for a permit. An aborted wait leaves the queue and
   * rejects with `signal.reason`; it does not stop a function already running
   * under {@linkcode Semaphore.run}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * One permit held from a {@linkcode Semaphore}. Release it with
 * {@linkcode SemaphoreGuard.release} or let a `using` declaration dispose of
 * it.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const semaphore = new Semaphore(1);
 * {
 *   using _permit = await semaphore.acquire();
 *   assert.equal(semaphore.available, 0);
 * }
 * assert.equal(semaphore.available, 1);
 * ```
 */
export interface SemaphoreGuard extends Disposable {
  /**
   * Gives the permit back, handing it to the next waiter if there is one.
   * The first call releases; later calls do nothing.
   *
   * @throws {RangeError} If every permit is already back, because
   * {@linkcode Semaphore.release} was also called for this permit.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(2);
   * const permit = await semaphore.acquire();
   * permit.release();
   * permit.release(); // no-op: the permit was given back once
   * assert.equal(semaphore.available, 2);
   * ```
   */
  release(): void;
  /**
   * Same as {@linkcode SemaphoreGuard.release}, for `using` declarations.
   *
   * @throws {RangeError} If every permit is already back, because
   * {@linkcode Semaphore.release} was also called for this permit.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(2);
   * {
   *   using _permit = await semaphore.acquire();
   * } // given back here
   * assert.equal(semaphore.available, 2);
   * ```
   */
  [Symbol.dispose](): void;
}

/**
 * A counting semaphore: at most `permits` holders at a time, for example to
 * bound how many requests run at once.
 *
 * - **Fairness:** FIFO. Waiters get permits in the order they called
 *   {@linkcode Semaphore.acquire}, and {@linkcode Semaphore.tryAcquire} never
 *   overtakes a waiter.
 * - **Cancellation:** aborting abandons the wait, never a holder's work.
 *   An aborted wait leaves the queue and leaves nothing behind. A waiter
 *   whose abort is under way when a permit reaches it (released from an
 *   abort listener that runs first) rejects, and the permit goes to the next
 *   waiter; a waiter that got a permit before the abort keeps it.
 * - **Reuse:** a semaphore needs no closing.
 * - **Misuse:** releasing a guard twice is a no-op (the permit is given back
 *   once). Giving back more permits than the semaphore was created with
 *   (through {@linkcode Semaphore.release}) throws a `RangeError`.
 *
 * @example Bounding concurrency
 * ```ts
 * import { Semaphore } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const semaphore = new Semaphore(2);
 * let running = 0;
 * let peak = 0;
 * await Promise.all(
 *   Array.from({ length: 6 }, () =>
 *     semaphore.run(async () => {
 *       peak = Math.max(peak, ++running);
 *       await Promise.resolve();
 *       running--;
 *     })),
 * );
 * assert.equal(peak, 2);
 * ```
 */
export class Semaphore {
  readonly #core: FairSemaphore;

  /**
   * Creates a semaphore with `permits` permits, all available.
   *
   * @param permits The number of permits, which is also the most that can
   * ever be available.
   * @throws {RangeError} If `permits` is not a non-negative integer.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(3);
   * assert.equal(semaphore.available, 3);
   * assert.throws(() => new Semaphore(-1), RangeError);
   * ```
   */
  constructor(permits: number) {
    if (!Number.isSafeInteger(permits) || permits < 0) {
      throw new RangeError(
        `Cannot create Semaphore as 'permits' must be a non-negative integer: received ${
          describe(permits)
        }`,
      );
    }
    this.#core = new FairSemaphore(permits);
  }

  /**
   * The number of permits free right now.
   *
   * @returns A number from 0 to the `permits` given to the constructor.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(2);
   * using _permit = await semaphore.acquire();
   * assert.equal(semaphore.available, 1);
   * ```
   */
  get available(): number {
    return this.#core.permits;
  }

  /**
   * Waits for a permit and resolves to a guard that gives it back. A free
   * permit with nobody queued is taken at once (the promise is already
   * resolved).
   *
   * **Cancel safety:** if `options.signal` aborts before a permit is handed
   * over, this call leaves the queue and rejects with `signal.reason`, and the
   * permit goes to the next waiter: nothing is left behind. A signal that
   * aborts after the hand-over is ignored: the call resolves and the caller
   * must release the guard.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the guard of the held permit.
   * @throws {DOMException} If `options.signal` aborts before a permit is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(1);
   * const first = await semaphore.acquire();
   * const controller = new AbortController();
   * const second = semaphore.acquire({ signal: controller.signal });
   * controller.abort();
   * await assert.rejects(second, { name: "AbortError" });
   * first.release();
   * assert.equal(semaphore.available, 1);
   * ```
   */
  acquire(options?: SemaphoreAcquireOptions): Promise<SemaphoreGuard> {
    return this.#core.acquire(1, options?.signal);
  }

  /**
   * Takes a permit if one is free and nobody is waiting, without waiting.
   *
   * @returns The guard, or `undefined` if no permit is free or others wait.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(1);
   * const permit = semaphore.tryAcquire();
   * assert.ok(permit !== undefined);
   * assert.equal(semaphore.tryAcquire(), undefined);
   * permit.release();
   * ```
   */
  tryAcquire(): SemaphoreGuard | undefined {
    return this.#core.tryAcquire(1);
  }

  /**
   * Gives back one permit without a guard, for code that acquires in one
   * place and releases in another, ignoring the guard. Use either the guard
   * or this method for a permit, not both.
   *
   * @throws {RangeError} If every permit the semaphore was created with is
   * already available (over-releasing).
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(1);
   * await semaphore.acquire();
   * semaphore.release();
   * assert.equal(semaphore.available, 1);
   * assert.throws(() => semaphore.release(), RangeError);
   * ```
   */
  release(): void {
    this.#core.release(1);
  }

  /**
   * Runs `fn` while holding a permit and gives the permit back when it
   * settles, whether it returns or throws.
   *
   * **Cancel safety:** if `options.signal` aborts before a permit is handed
   * over, this call leaves the queue and rejects with `signal.reason`, `fn` is
   * not called, and the permit goes to the next waiter: nothing is left
   * behind. A signal that aborts after the hand-over is ignored: `fn` runs
   * and is not interrupted.
   *
   * @typeParam T The result type of `fn`.
   * @param fn The function to run while holding a permit.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the result of `fn`.
   * @throws {DOMException} If `options.signal` aborts before a permit is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason. Whatever `fn`
   * throws is passed on unchanged.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const semaphore = new Semaphore(2);
   * const doubled = await Promise.all(
   *   [1, 2, 3].map((n) => semaphore.run(() => n * 2)),
   * );
   * assert.deepEqual(doubled, [2, 4, 6]);
   * ```
   */
  async run<T>(
    fn: () => T | PromiseLike<T>,
    options?: SemaphoreAcquireOptions,
  ): Promise<T> {
    const guard = await this.#core.acquire(1, options?.signal);
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }
}
