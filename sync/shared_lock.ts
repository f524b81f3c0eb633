// Copyright the @seed/concurrency authors. MIT license.

import {
  refuseStructuredClone,
  registerWireClass,
  sharedCellsCodec,
} from "../_wire.ts";
import {
  assertMayBlock,
  type Attempt,
  checkTimeoutMs,
  waitAsyncUntil,
  waitSyncUntil,
} from "./_atomics.ts";
import { registerSharedLockInternals } from "./_shared_lock_internals.ts";

// The lock word, after Drepper's "Futexes are tricky" (mutex 3):
const UNLOCKED = 0;
/** Held, and no thread is (known to be) waiting: release needs no notify. */
const LOCKED = 1;
/** Held, and some thread may be waiting: release must notify one. */
const CONTENDED = 2;

const WAIT_FOR_CONTENDED: Attempt<never> = Object.freeze({
  done: false,
  expected: CONTENDED,
});

/** Options for {@linkcode SharedLock.acquire} and {@linkcode SharedLock.run}. */
export interface SharedLockAcquireOptions {
  /**
   * Aborts the wait for the lock. An aborted wait rejects with
   * `signal.reason` and leaves nothing behind; it does not stop a function
   * already running under {@linkcode SharedLock.run}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode SharedLock.acquireSync} and
 * {@linkcode SharedLock.runSync}.
 */
export interface SharedLockAcquireSyncOptions {
  /**
   * The longest time to block, in milliseconds, before throwing a
   * `"TimeoutError"` `DOMException` (the error `AbortSignal.timeout()` gives
   * the async methods). `0` only tries once.
   *
   * @default {Infinity}
   */
  timeoutMs?: number;
}

/**
 * Proof of holding a {@linkcode SharedLock} in this thread. Release it with
 * {@linkcode SharedLockGuard.release} or let a `using` declaration dispose of
 * it. A guard stays in the thread that acquired it: it cannot be sent to a
 * worker.
 *
 * @example Usage
 * ```ts
 * import { SharedLock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const lock = new SharedLock();
 * {
 *   using _guard = await lock.acquire();
 *   assert.equal(lock.locked, true);
 * }
 * assert.equal(lock.locked, false);
 * ```
 */
export interface SharedLockGuard extends Disposable {
  /**
   * Releases the lock and wakes one waiting thread, if any. The first call
   * releases; later calls do nothing.
   *
   * @throws {TypeError} If the lock was not held when this guard released it
   * for the first time, which only happens when its shared memory was
   * written by something other than a `SharedLock`.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const guard = await lock.acquire();
   * guard.release();
   * guard.release(); // no-op: the lock was released once
   * assert.equal(lock.locked, false);
   * ```
   */
  release(): void;
  /**
   * Same as {@linkcode SharedLockGuard.release}, for `using` declarations.
   *
   * @throws {TypeError} As {@linkcode SharedLockGuard.release} does.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * {
   *   using _guard = lock.tryAcquire();
   *   assert.equal(lock.locked, true);
   * } // released here
   * assert.equal(lock.locked, false);
   * ```
   */
  [Symbol.dispose](): void;
}

class Guard implements SharedLockGuard {
  #cells: Int32Array | undefined;

  constructor(cells: Int32Array) {
    this.#cells = cells;
  }

  release(): void {
    const cells = this.#cells;
    if (cells === undefined) return;
    this.#cells = undefined;
    const previous = Atomics.exchange(cells, 0, UNLOCKED);
    if (previous === CONTENDED) Atomics.notify(cells, 0, 1);
    else if (previous === UNLOCKED) {
      throw new TypeError(
        "Cannot release SharedLock as it is not held: its shared memory was unlocked by something other than this guard",
      );
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

// Memory for the next constructor call, set only by the reviver and by
// `sharedLockAt` (a SharedValue's or SharedArray's lock).
let adopting: Int32Array | undefined;

/**
 * A mutual-exclusion lock over shared memory: at most one holder at a time
 * across the main thread and every worker that received it. Python's
 * `multiprocessing.Lock`. For tasks of one event loop, the in-loop
 * {@linkcode Lock} is simpler, FIFO and faster.
 *
 * - **Fairness:** not FIFO, neither across threads nor within one. A
 *   released lock goes to whoever takes it first: a thread that releases and
 *   acquires again, or a newcomer, may get it before a woken waiter, which
 *   then waits again. Under constant contention a waiter can in principle be
 *   passed over many times; keep critical sections short. (A ticket lock
 *   would be FIFO, but an aborted or timed-out waiter would keep a ticket
 *   that someone must still skip, and a worker terminated while waiting
 *   would block the lock for good; this lock has neither problem.)
 * - **Cancellation:** aborting abandons the wait, never the holder's work.
 *   An aborted {@linkcode SharedLock.acquire} rejects with `signal.reason`
 *   and leaves nothing behind: it wakes the other waiters of the lock, which
 *   check again and go back to waiting, so no wake-up is lost. A wait that
 *   took the lock before the abort resolves, and its guard must be
 *   released. A timed-out {@linkcode SharedLock.acquireSync} leaves nothing
 *   either.
 * - **Reuse:** a lock needs no closing; it can be acquired any number of
 *   times, and it is freed with the last thread that references it.
 * - **Misuse:** releasing a guard twice is a no-op (the lock is released
 *   once); there is no raw `release()`. The lock is not reentrant:
 *   acquiring it again while holding it waits forever. A worker terminated
 *   while holding the lock never releases it. {@linkcode SharedLock.acquireSync}
 *   on the main thread throws, since it would block the event loop.
 * - **Across workers:** pass the lock in a pool task's arguments or result,
 *   at the top level or nested in arrays, plain objects, Map values or Set
 *   members (`pool.run(fn, [{ lock }])`): the other side gets a `SharedLock`
 *   over the same memory. Cloning it any other way (inside a class instance,
 *   as a Map key, in a message) throws `TypeError`. In a worker, block with
 *   {@linkcode SharedLock.acquireSync} in synchronous code or use
 *   {@linkcode SharedLock.acquire}; on the main thread always use
 *   {@linkcode SharedLock.acquire}, which never blocks the event loop.
 *
 * @example Exclusion across workers
 * ```ts
 * import { SharedLock, SharedValue } from "@seed/concurrency/sync";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * const lock = new SharedLock();
 * const total = new SharedValue("i32", 0);
 * await using pool = new WorkerPool({ size: 2 });
 * await Promise.all([1, 2].map(() =>
 *   pool.run((lock: SharedLock, total: SharedValue<"i32">) => {
 *     for (let i = 0; i < 1000; i++) {
 *       lock.runSync(() => {
 *         total.value += 1; // a load, then a store: needs the lock
 *       });
 *     }
 *   }, [lock, total])
 * ));
 * assert.equal(total.value, 2000);
 * ```
 *
 * @example Giving up after a timeout
 * ```ts
 * import { SharedLock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const lock = new SharedLock();
 * using _held = await lock.acquire();
 * const controller = new AbortController();
 * const waiting = lock.acquire({ signal: controller.signal });
 * controller.abort(new Error("gave up"));
 * await assert.rejects(waiting, { message: "gave up" });
 * ```
 */
export class SharedLock {
  readonly #cells: Int32Array;
  readonly #tryLock = (): Attempt<SharedLockGuard> => {
    // Mark the lock contended whenever we had to wait: a thread that took it
    // at 0 this way cannot know whether others still wait behind it.
    return Atomics.exchange(this.#cells, 0, CONTENDED) === UNLOCKED
      ? { done: true, value: new Guard(this.#cells) }
      : WAIT_FOR_CONTENDED;
  };

  static {
    registerSharedLockInternals({
      at: (cells, index) => {
        adopting = new Int32Array(
          cells.buffer,
          cells.byteOffset + index * 4,
          1,
        );
        return new SharedLock();
      },
    });
    registerWireClass(
      SharedLock,
      "SharedLock",
      sharedCellsCodec(1, (lock) => lock.#cells, (cells) => {
        adopting = cells;
        return new SharedLock();
      }),
    );
  }

  /**
   * Creates an unlocked lock in new shared memory.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * assert.equal(lock.locked, false);
   * ```
   */
  constructor() {
    this.#cells = adopting ?? new Int32Array(new SharedArrayBuffer(4));
    adopting = undefined;
    refuseStructuredClone(this);
  }

  /**
   * Whether some thread holds the lock right now. Another thread may take or
   * release it a moment later, so this is a hint, not a test to act on (use
   * {@linkcode SharedLock.tryAcquire} for that).
   *
   * @returns `true` while a guard, in any thread, is unreleased.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const guard = await lock.acquire();
   * assert.equal(lock.locked, true);
   * guard.release();
   * assert.equal(lock.locked, false);
   * ```
   */
  get locked(): boolean {
    return Atomics.load(this.#cells, 0) !== UNLOCKED;
  }

  /**
   * Takes the lock if no thread holds it, without waiting.
   *
   * @returns The guard, or `undefined` if the lock is held.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const guard = lock.tryAcquire();
   * assert.ok(guard !== undefined);
   * assert.equal(lock.tryAcquire(), undefined);
   * guard.release();
   * ```
   */
  tryAcquire(): SharedLockGuard | undefined {
    return Atomics.compareExchange(this.#cells, 0, UNLOCKED, LOCKED) ===
        UNLOCKED
      ? new Guard(this.#cells)
      : undefined;
  }

  /**
   * Waits for the lock without blocking the event loop and resolves to a
   * guard that releases it. A free lock is taken with one atomic
   * compare-and-swap (the promise is already resolved); otherwise the call
   * waits with `Atomics.waitAsync` and keeps this thread's event loop alive
   * meanwhile. Works on the main thread and in workers.
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is taken,
   * this call rejects with `signal.reason` and leaves nothing behind: the
   * other waiters are woken to check again, so none misses the lock. A signal
   * that aborts after the lock was taken is ignored: the call resolves and
   * the caller must release the guard.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the guard of the held lock.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * taken: rejects with `signal.reason`, an `"AbortError"` `DOMException`
   * unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const first = await lock.acquire();
   * let second = false;
   * const waiting = lock.acquire().then((guard) => {
   *   second = true;
   *   guard.release();
   * });
   * assert.equal(second, false); // waits while `first` holds the lock
   * first.release();
   * await waiting;
   * assert.equal(second, true);
   * ```
   */
  acquire(options?: SharedLockAcquireOptions): Promise<SharedLockGuard> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, 0, UNLOCKED, LOCKED) === UNLOCKED) {
      return Promise.resolve(new Guard(cells));
    }
    return waitAsyncUntil(cells, 0, this.#tryLock, signal);
  }

  /**
   * Waits for the lock by blocking this thread with `Atomics.wait`, and
   * returns a guard that releases it. For synchronous code in workers only:
   * nothing else runs in the worker while it waits.
   *
   * **Cancel safety:** a timed-out call throws and leaves nothing behind.
   *
   * @param options Options, such as the longest time to block.
   * @returns The guard of the held lock.
   * @throws {TypeError} If called on the main thread, where blocking would
   * freeze the event loop: use {@linkcode SharedLock.acquire} there.
   * @throws {TypeError} If `options.timeoutMs` is not a number.
   * @throws {RangeError} If `options.timeoutMs` is negative or NaN.
   * @throws {DOMException} A `"TimeoutError"` if the lock stayed held for
   * `options.timeoutMs` milliseconds.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * assert.throws(() => lock.acquireSync(), TypeError); // main thread
   *
   * await using pool = new WorkerPool({ size: 1 });
   * const held = await pool.run((lock: SharedLock) => {
   *   const guard = lock.acquireSync({ timeoutMs: 1000 });
   *   const locked = lock.locked;
   *   guard.release();
   *   return locked;
   * }, [lock]);
   * assert.equal(held, true);
   * assert.equal(lock.locked, false);
   * ```
   */
  acquireSync(options?: SharedLockAcquireSyncOptions): SharedLockGuard {
    const timeoutMs = checkTimeoutMs(
      options?.timeoutMs,
      "acquire SharedLock",
    );
    assertMayBlock(
      "acquire SharedLock synchronously",
      "'await lock.acquire()'",
    );
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, 0, UNLOCKED, LOCKED) === UNLOCKED) {
      return new Guard(cells);
    }
    return waitSyncUntil(
      cells,
      0,
      this.#tryLock,
      timeoutMs,
      "Waiting for SharedLock",
    );
  }

  /**
   * Runs `fn` while holding the lock, waiting for it without blocking the
   * event loop, and releases the lock when `fn` settles, whether it returns
   * or throws.
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is taken,
   * this call rejects with `signal.reason`, `fn` is not called, and nothing
   * is left behind. A signal that aborts after the lock was taken is
   * ignored: `fn` runs and is not interrupted.
   *
   * @typeParam T The result type of `fn`.
   * @param fn The function to run under the lock.
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the result of `fn`.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * taken: rejects with `signal.reason`. Whatever `fn` throws is passed on
   * unchanged.
   *
   * @example Usage
   * ```ts
   * import { SharedLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const result = await lock.run(() => {
   *   assert.equal(lock.locked, true);
   *   return 42;
   * });
   * assert.equal(result, 42);
   * assert.equal(lock.locked, false);
   * ```
   */
  async run<T>(
    fn: () => T | PromiseLike<T>,
    options?: SharedLockAcquireOptions,
  ): Promise<T> {
    const guard = await this.acquire(options);
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }

  /**
   * Runs `fn` while holding the lock, blocking this thread to wait for it
   * (see {@linkcode SharedLock.acquireSync}), and releases the lock when `fn`
   * returns or throws. For synchronous code in workers only.
   *
   * @typeParam T The result type of `fn`.
   * @param fn The synchronous function to run under the lock.
   * @param options Options, such as the longest time to block.
   * @returns What `fn` returns.
   * @throws {TypeError} If called on the main thread: use
   * {@linkcode SharedLock.run} there.
   * @throws {TypeError} If `options.timeoutMs` is not a number.
   * @throws {RangeError} If `options.timeoutMs` is negative or NaN.
   * @throws {DOMException} A `"TimeoutError"` if the lock stayed held for
   * `options.timeoutMs` milliseconds; `fn` is not called. Whatever `fn`
   * throws is passed on unchanged.
   *
   * @example Usage
   * ```ts
   * import { SharedLock, SharedValue } from "@seed/concurrency/sync";
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const lock = new SharedLock();
   * const balance = new SharedValue("f64", 100);
   * await using pool = new WorkerPool({ size: 1 });
   * const ok = await pool.run(
   *   (lock: SharedLock, balance: SharedValue<"f64">) =>
   *     lock.runSync(() => {
   *       if (balance.value < 30) return false;
   *       balance.value -= 30;
   *       return true;
   *     }),
   *   [lock, balance],
   * );
   * assert.equal(ok, true);
   * assert.equal(balance.value, 70);
   * ```
   */
  runSync<T>(fn: () => T, options?: SharedLockAcquireSyncOptions): T {
    const guard = this.acquireSync(options);
    try {
      return fn();
    } finally {
      guard.release();
    }
  }
}
