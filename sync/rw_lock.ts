// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { FairSemaphore } from "./_fair_semaphore.ts";

/**
 * The permits of the core semaphore: a reader takes one, a writer takes them
 * all, so a writer waits for every reader and excludes everyone.
 */
const ALL = Number.MAX_SAFE_INTEGER;

/** Options for {@linkcode RwLock.read} and {@linkcode RwLock.write}. */
export interface RwLockAcquireOptions {
  /**
   * Aborts the wait for the lock. An aborted wait leaves the queue and
   * rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Proof of holding a {@linkcode RwLock} for reading or for writing. Release
 * it with {@linkcode RwLockGuard.release} or let a `using` declaration
 * dispose of it.
 *
 * @example Usage
 * ```ts
 * import { RwLock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const rwLock = new RwLock();
 * {
 *   using _guard = await rwLock.write();
 *   assert.equal(rwLock.writing, true);
 * }
 * assert.equal(rwLock.writing, false);
 * ```
 */
export interface RwLockGuard extends Disposable {
  /**
   * Releases the read or write hold, letting queued tasks in. The first call
   * releases; later calls do nothing.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * const guard = await rwLock.read();
   * guard.release();
   * guard.release(); // no-op: released once
   * assert.equal(rwLock.readers, 0);
   * ```
   */
  release(): void;
  /**
   * Same as {@linkcode RwLockGuard.release}, for `using` declarations.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * {
   *   using _guard = await rwLock.read();
   *   assert.equal(rwLock.readers, 1);
   * }
   * assert.equal(rwLock.readers, 0);
   * ```
   */
  [Symbol.dispose](): void;
}

/**
 * A readers-writer lock: any number of readers at once, or one writer alone.
 *
 * - **Fairness:** FIFO for readers and writers together. A reader that
 *   arrives after a queued writer waits behind it, so a stream of readers
 *   cannot starve a writer; consecutive queued readers are let in together.
 *   {@linkcode RwLock.tryRead} and {@linkcode RwLock.tryWrite} never overtake
 *   a waiter.
 * - **Cancellation:** aborting abandons the wait, never a holder's work.
 *   An aborted wait leaves the queue and leaves nothing behind; a queued
 *   writer that aborts lets the readers queued behind it in. A waiter whose
 *   abort is under way when the lock reaches it (released from an abort
 *   listener that runs first) rejects, and the lock goes to the next
 *   waiters; a waiter that got the lock before the abort keeps it.
 * - **Reuse:** an RwLock needs no closing.
 * - **Misuse:** releasing a guard twice is a no-op (released once). There is
 *   no raw release. The lock is not reentrant and does not upgrade: asking
 *   to write while holding a read guard waits forever.
 *
 * @example Usage
 * ```ts
 * import { RwLock } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const rwLock = new RwLock();
 * const config = new Map<string, string>([["mode", "fast"]]);
 *
 * async function get(key: string): Promise<string | undefined> {
 *   using _guard = await rwLock.read();
 *   return config.get(key);
 * }
 *
 * async function set(key: string, value: string): Promise<void> {
 *   using _guard = await rwLock.write();
 *   config.set(key, value);
 * }
 *
 * const [before, , after] = await Promise.all([
 *   get("mode"),
 *   set("mode", "safe"),
 *   get("mode"),
 * ]);
 * assert.equal(before, "fast");
 * assert.equal(after, "safe");
 * ```
 */
export class RwLock {
  readonly #core: FairSemaphore = new FairSemaphore(ALL);

  /**
   * Creates an unlocked readers-writer lock.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * assert.equal(rwLock.readers, 0);
   * assert.equal(rwLock.writing, false);
   * ```
   */
  constructor() {}

  /**
   * The number of read guards held right now.
   *
   * @returns 0 while unlocked or held for writing.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * using _a = await rwLock.read();
   * using _b = await rwLock.read();
   * assert.equal(rwLock.readers, 2);
   * ```
   */
  get readers(): number {
    const permits = this.#core.permits;
    return permits === 0 ? 0 : ALL - permits;
  }

  /**
   * Whether a writer holds the lock right now.
   *
   * @returns `true` while a write guard is unreleased.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * using _guard = await rwLock.write();
   * assert.equal(rwLock.writing, true);
   * ```
   */
  get writing(): boolean {
    return this.#core.permits === 0;
  }

  /**
   * Waits to hold the lock for reading, shared with other readers. Resolves
   * at once when no writer holds the lock and nobody is queued.
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is handed
   * over, this call leaves the queue and rejects with `signal.reason`, and the
   * lock goes to the next waiter: nothing is left behind. A signal that
   * aborts after the hand-over is ignored: the call resolves and the caller
   * must release the guard.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the read guard.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * const writer = await rwLock.write();
   * const reading = rwLock.read();
   * assert.equal(rwLock.readers, 0);
   * writer.release();
   * using _reader = await reading;
   * assert.equal(rwLock.readers, 1);
   * ```
   */
  read(options?: RwLockAcquireOptions): Promise<RwLockGuard> {
    return this.#core.acquire(1, options?.signal);
  }

  /**
   * Waits to hold the lock for writing, alone. Resolves at once when the
   * lock is free and nobody is queued.
   *
   * **Cancel safety:** if `options.signal` aborts before the lock is handed
   * over, this call leaves the queue and rejects with `signal.reason`, and the
   * lock goes to the next waiters: nothing is left behind. A signal that
   * aborts after the hand-over is ignored: the call resolves and the caller
   * must release the guard.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the write guard.
   * @throws {DOMException} If `options.signal` aborts before the lock is
   * handed over: rejects with `signal.reason`, an `"AbortError"`
   * `DOMException` unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * const reader = await rwLock.read();
   * const writing = rwLock.write();
   * // A reader arriving after the queued writer waits behind it.
   * assert.equal(rwLock.tryRead(), undefined);
   * reader.release();
   * using _writer = await writing;
   * assert.equal(rwLock.writing, true);
   * ```
   */
  write(options?: RwLockAcquireOptions): Promise<RwLockGuard> {
    return this.#core.acquire(ALL, options?.signal);
  }

  /**
   * Takes the lock for reading if no writer holds it and nobody is queued,
   * without waiting.
   *
   * @returns The read guard, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * using _reader = rwLock.tryRead();
   * assert.equal(rwLock.readers, 1);
   * assert.equal(rwLock.tryWrite(), undefined);
   * ```
   */
  tryRead(): RwLockGuard | undefined {
    return this.#core.tryAcquire(1);
  }

  /**
   * Takes the lock for writing if it is free and nobody is queued, without
   * waiting.
   *
   * @returns The write guard, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { RwLock } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const rwLock = new RwLock();
   * using _writer = rwLock.tryWrite();
   * assert.equal(rwLock.writing, true);
   * assert.equal(rwLock.tryRead(), undefined);
   * ```
   */
  tryWrite(): RwLockGuard | undefined {
    return this.#core.tryAcquire(ALL);
  }
}
