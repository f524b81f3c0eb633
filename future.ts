// Copyright the @seed/concurrency authors. MIT license.

/**
 * Futures: the result of work that is still running, which can be awaited,
 * inspected and cancelled, and helpers to wait on many of them, as Python's
 * `concurrent.futures` offers.
 *
 * {@linkcode WorkerPool.submit} returns a {@linkcode Future}. Use
 * {@linkcode asCompleted} to handle results in the order they finish, and
 * {@linkcode wait} to wait for the first, the first failure, or all.
 *
 * @example Submitting tasks and taking results as they complete
 * ```ts
 * import { asCompleted, WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 2 });
 * const futures = [3, 1, 2].map((n) => pool.submit((x: number) => x * 10, [n]));
 * const seen: number[] = [];
 * for await (const future of asCompleted(futures)) seen.push(await future);
 * assert.deepEqual(seen.sort(), [10, 20, 30]);
 * ```
 *
 * @module
 */

import { registerFutureInternals } from "./_future_internals.ts";
import { RingBuffer } from "./_ring_buffer.ts";

/** The states of a {@linkcode Future}. A future settles once. */
export type FutureState = "pending" | "fulfilled" | "rejected" | "cancelled";

/**
 * Called by {@linkcode Future.cancel} to stop the work behind a future.
 *
 * @param reason Why the future was cancelled.
 */
export type Canceller = (reason: unknown) => void;

/**
 * What a {@linkcode Future}'s executor receives to settle it.
 *
 * @typeParam T The result's type.
 */
export interface FutureController<T> {
  /** Fulfils the future; ignored once it has settled. */
  resolve(value: T): void;
  /** Rejects the future; ignored once it has settled. */
  reject(reason: unknown): void;
  /** Sets what {@linkcode Future.cancel} calls to stop the work. */
  onCancel(canceller: Canceller): void;
}

/**
 * The result of work that may still be running.
 *
 * - **Settles once**: the first of resolve, reject or cancel wins; later calls
 *   are ignored.
 * - **Awaitable**: a `Future` is `PromiseLike`, so `await future` gives the
 *   result or throws the error (or the cancel reason).
 * - **No unhandled rejections**: a future that fails is not an unhandled
 *   rejection until someone awaits it, as in Python; inspect `state` and
 *   `error` to see failures you did not await.
 * - **Cancellation**: {@linkcode Future.cancel} settles the future as
 *   `"cancelled"` at once and asks the work to stop (a pool task is removed
 *   from the queue, or signalled if it runs).
 *
 * @typeParam T The result's type.
 *
 * @example Making and settling a future by hand
 * ```ts
 * import { Future } from "@seed/concurrency/future";
 * import assert from "node:assert/strict";
 *
 * let settle: (value: number) => void = () => {};
 * const future = new Future<number>((controller) => {
 *   settle = controller.resolve;
 * });
 * assert.equal(future.state, "pending");
 * settle(42);
 * assert.equal(future.state, "fulfilled");
 * assert.equal(await future, 42);
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  static {
    registerFutureInternals({
      settle: (future, ok, value) =>
        ok
          ? future.#settle("fulfilled", value, undefined)
          : future.#settle("rejected", undefined, value),
      onCancel: (future, canceller) => {
        future.#canceller = canceller;
      },
    });
  }

  #state: FutureState = "pending";
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  #canceller: Canceller | undefined = undefined;
  #callbacks: ((future: Future<T>) => void)[] | undefined = undefined;
  #promise: Promise<T> | undefined = undefined;

  /**
   * Creates a pending future and runs `executor` at once with the functions
   * that settle it.
   *
   * @param executor Receives a {@linkcode FutureController}. If it throws, the
   * future rejects with the thrown value.
   *
   * @example A future with a canceller
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * let stopped = false;
   * const future = new Future<void>((controller) => {
   *   controller.onCancel(() => {
   *     stopped = true;
   *   });
   * });
   * assert.ok(future.cancel());
   * assert.ok(stopped);
   * ```
   */
  constructor(executor?: (controller: FutureController<T>) => void) {
    if (executor === undefined) return;
    try {
      executor({
        resolve: (value) => this.#settle("fulfilled", value, undefined),
        reject: (reason) => this.#settle("rejected", undefined, reason),
        onCancel: (canceller) => {
          this.#canceller = canceller;
        },
      });
    } catch (error) {
      this.#settle("rejected", undefined, error);
    }
  }

  #settle(state: FutureState, value: T | undefined, error: unknown): boolean {
    if (this.#state !== "pending") return false;
    this.#state = state;
    this.#value = value;
    this.#error = error;
    this.#canceller = undefined;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) {
      for (const callback of callbacks) this.#call(callback);
    }
    return true;
  }

  /** Runs a settle callback, reporting what it throws as uncaught. */
  #call(callback: (future: Future<T>) => void): void {
    try {
      callback(this);
    } catch (callbackError) {
      queueMicrotask(() => {
        throw callbackError;
      });
    }
  }

  /**
   * The future's state: `"pending"` until it settles, then `"fulfilled"`,
   * `"rejected"` or `"cancelled"` for good.
   *
   * @example Reading the state
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * const future = new Future<number>((c) => c.reject(new Error("no")));
   * assert.equal(future.state, "rejected");
   * ```
   */
  get state(): FutureState {
    return this.#state;
  }

  /**
   * Whether the future has settled, in any way.
   *
   * @example Checking for completion without waiting
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Future<number>((c) => c.resolve(1)).done, true);
   * assert.equal(new Future<number>().done, false);
   * ```
   */
  get done(): boolean {
    return this.#state !== "pending";
  }

  /**
   * The result of a fulfilled future.
   *
   * @throws {Error} If the future is pending.
   * @throws {unknown} The error (or cancel reason) if it was rejected or
   * cancelled.
   *
   * @example Reading a settled result
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Future<number>((c) => c.resolve(7)).value, 7);
   * ```
   */
  get value(): T {
    if (this.#state === "fulfilled") return this.#value as T;
    if (this.#state === "pending") {
      throw new Error(
        "Cannot read the value of a pending future: await it or check 'done' first",
      );
    }
    throw this.#error;
  }

  /**
   * The error of a rejected future, or the reason of a cancelled one;
   * `undefined` while pending or when fulfilled.
   *
   * @example Inspecting a failure without awaiting
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * const future = new Future<number>((c) => c.reject(new RangeError("x")));
   * assert.ok(future.error instanceof RangeError);
   * ```
   */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Cancels the future: it settles as `"cancelled"` (awaiting it throws
   * `reason`) and the work behind it is asked to stop. Cancelling a future
   * that has settled does nothing.
   *
   * @param reason The reason awaiting the future throws.
   * @default {reason} a `DOMException` named `"AbortError"`
   * @returns `true` if this call cancelled the future, `false` if it had
   * settled already.
   *
   * @example Cancelling a queued pool task
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 1 });
   * const future = pool.submit((n: number) => n, [1]);
   * assert.equal(future.cancel(), true);
   * assert.equal(future.state, "cancelled");
   * await assert.rejects(Promise.resolve(future), { name: "AbortError" });
   * ```
   */
  cancel(
    reason: unknown = new DOMException(
      "The future was cancelled",
      "AbortError",
    ),
  ): boolean {
    const canceller = this.#canceller;
    if (!this.#settle("cancelled", undefined, reason)) return false;
    if (canceller !== undefined) canceller(reason);
    return true;
  }

  /**
   * Calls `callback` with the future once it settles (at once if it has).
   * Like Python's `add_done_callback`. A callback that throws reports the
   * error as uncaught without affecting other callbacks.
   *
   * @param callback Receives this future.
   *
   * @example Logging a result when it arrives
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * const seen: string[] = [];
   * const future = new Future<number>((c) => c.resolve(1));
   * future.onSettled((f) => seen.push(f.state));
   * assert.deepEqual(seen, ["fulfilled"]);
   * ```
   */
  onSettled(callback: (future: Future<T>) => void): void {
    if (this.#state !== "pending") {
      this.#call(callback);
      return;
    }
    (this.#callbacks ??= []).push(callback);
  }

  /**
   * Attaches callbacks for the result, as `Promise.prototype.then` does.
   *
   * @typeParam R1 The fulfilled callback's result type.
   * @typeParam R2 The rejected callback's result type.
   * @param onfulfilled Called with the result.
   * @param onrejected Called with the error or cancel reason.
   * @returns A promise of the callback's result.
   *
   * @example Awaiting a future
   * ```ts
   * import { Future } from "@seed/concurrency/future";
   * import assert from "node:assert/strict";
   *
   * assert.equal(await new Future<number>((c) => c.resolve(5)), 5);
   * ```
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#promise === undefined) {
      this.#promise = new Promise<T>((resolve, reject) => {
        this.onSettled((future) => {
          if (future.#state === "fulfilled") resolve(future.#value as T);
          else reject(future.#error);
        });
      });
    }
    return this.#promise.then(onfulfilled, onrejected);
  }
}

/** Options for {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Stops waiting: the iteration throws `signal.reason`.
   *
   * @default {no bound}
   */
  signal?: AbortSignal;
}

/**
 * Yields the futures as they settle, whatever their order in `futures`, like
 * Python's `concurrent.futures.as_completed`. Futures that settled already
 * come first, in the given order; a future given twice is yielded once.
 * Several `next()` calls waiting at once are served in call order.
 *
 * **Typing**: TypeScript types the variable of a `for await` loop as the
 * futures' result type `T`, since it assumes a yielded thenable is awaited;
 * at run time it is the `Future` itself. `await` it to get the result (right
 * for both), or cast it to `Future<T>` to read `state`, `value` or `error`.
 *
 * **Cancellation**: aborting `signal` rejects the waiting `next()` calls (or
 * the next one) with `signal.reason` and ends the iteration; the futures
 * themselves are not cancelled. `return()` (a `break`) ends it too, and
 * resolves waiting `next()` calls as done.
 *
 * @typeParam T The futures' result type.
 * @param futures The futures to watch.
 * @param options A `signal` to stop waiting.
 * @returns An async iterable of the same futures, in settling order.
 * @throws {unknown} `signal.reason` if the signal aborts while waiting.
 *
 * @example Handling results in completion order
 * ```ts
 * import { asCompleted, Future } from "@seed/concurrency/future";
 * import assert from "node:assert/strict";
 *
 * const resolvers: ((n: number) => void)[] = [];
 * const futures = [0, 1, 2].map(() => new Future<number>((c) => resolvers.push(c.resolve)));
 * const completed = asCompleted(futures);
 * resolvers[2]!(2);
 * resolvers[0]!(0);
 * resolvers[1]!(1);
 * const order: number[] = [];
 * for await (const f of completed) order.push(await f);
 * assert.deepEqual(order, [2, 0, 1]);
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<Future<T>> {
  // Hand-written rather than an async generator: `yield` in an async
  // generator awaits a thenable, and a Future is one.
  const { signal } = options;
  type Waiter = {
    resolve(result: IteratorResult<Future<T>>): void;
    reject(reason: unknown): void;
  };
  const done = (): IteratorResult<Future<T>> => ({
    value: undefined,
    done: true,
  });
  const settled = new RingBuffer<Future<T>>();
  // Several `next()` calls may wait at once; each gets its own promise.
  const waiters = new RingBuffer<Waiter>();
  const unique = new Set(futures);
  let remaining = unique.size;
  let finished = false;
  const finish = () => {
    finished = true;
    signal?.removeEventListener("abort", onAbort);
    settled.drain();
    for (const waiter of waiters.drain()) waiter.resolve(done());
  };
  const onAbort = () => {
    if (finished || waiters.length === 0) return;
    const aborted = waiters.drain();
    finish();
    for (const waiter of aborted) waiter.reject(signal?.reason);
  };
  for (const future of unique) {
    future.onSettled((f) => {
      if (finished) return;
      const waiter = waiters.shift();
      if (waiter === undefined) {
        settled.push(f);
        return;
      }
      remaining--;
      waiter.resolve({ value: f, done: false });
      if (remaining === 0) finish();
    });
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  const iterator: AsyncIterableIterator<Future<T>> = {
    next(): Promise<IteratorResult<Future<T>>> {
      if (finished) return Promise.resolve(done());
      if (signal?.aborted) {
        finish();
        return Promise.reject(signal.reason);
      }
      const next = settled.shift();
      if (next !== undefined) {
        remaining--;
        if (remaining === 0) finish();
        return Promise.resolve({ value: next, done: false });
      }
      if (remaining === 0) {
        finish();
        return Promise.resolve(done());
      }
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
      });
    },
    return(): Promise<IteratorResult<Future<T>>> {
      finish();
      return Promise.resolve(done());
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** When {@linkcode wait} returns. */
export type ReturnWhen = "first-completed" | "first-error" | "all-completed";

/** Options for {@linkcode wait}. */
export interface WaitOptions {
  /**
   * When to return: as soon as any future settles (`"first-completed"`), as
   * soon as any future rejects or is cancelled, or all have settled
   * (`"first-error"`), or when all have settled (`"all-completed"`).
   *
   * @default {"all-completed"}
   */
  returnWhen?: ReturnWhen;
  /**
   * Stops waiting: `wait` rejects with `signal.reason`.
   *
   * @default {no bound}
   */
  signal?: AbortSignal;
}

/** What {@linkcode wait} resolves to. */
export interface WaitResult<T> {
  /** The futures that had settled. */
  done: Set<Future<T>>;
  /** The futures still pending. */
  pending: Set<Future<T>>;
}

/**
 * Waits for some or all of `futures` to settle and returns the settled and
 * pending ones as two sets, like Python's `concurrent.futures.wait`. It never
 * rejects because a future failed: inspect each future's `state`.
 *
 * **Cancellation**: aborting `signal` rejects with `signal.reason`; the
 * futures themselves are not cancelled.
 *
 * @typeParam T The futures' result type.
 * @param futures The futures to wait on.
 * @param options `returnWhen` and `signal`.
 * @returns The `done` and `pending` sets.
 * @throws {unknown} `signal.reason` if the signal aborts while waiting.
 *
 * @example Waiting for the first of several to finish
 * ```ts
 * import { Future, wait } from "@seed/concurrency/future";
 * import assert from "node:assert/strict";
 *
 * const quick = new Future<string>((c) => c.resolve("quick"));
 * const slow = new Future<string>();
 * const { done, pending } = await wait([quick, slow], {
 *   returnWhen: "first-completed",
 * });
 * assert.ok(done.has(quick));
 * assert.ok(pending.has(slow));
 * ```
 */
export function wait<T>(
  futures: Iterable<Future<T>>,
  options: WaitOptions = {},
): Promise<WaitResult<T>> {
  const { returnWhen = "all-completed", signal } = options;
  if (
    returnWhen !== "first-completed" && returnWhen !== "first-error" &&
    returnWhen !== "all-completed"
  ) {
    return Promise.reject(
      new TypeError(
        `Cannot wait as 'returnWhen' must be "first-completed", "first-error" or "all-completed": received ${
          String(returnWhen)
        }`,
      ),
    );
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  const all = [...new Set(futures)];
  return new Promise((resolve, reject) => {
    let finished = false;
    const result = (): WaitResult<T> => {
      const done = new Set<Future<T>>();
      const pending = new Set<Future<T>>();
      for (const f of all) (f.done ? done : pending).add(f);
      return { done, pending };
    };
    const onAbort = () => {
      if (finished) return;
      finished = true;
      reject(signal?.reason);
    };
    let remaining = all.length;
    const check = (future: Future<T> | undefined) => {
      if (future !== undefined) remaining--;
      if (finished) return;
      const allDone = remaining === 0;
      const stop = allDone ||
        (future !== undefined && returnWhen === "first-completed") ||
        (future !== undefined && returnWhen === "first-error" &&
          future.state !== "fulfilled");
      if (!stop) return;
      finished = true;
      signal?.removeEventListener("abort", onAbort);
      resolve(result());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (all.length === 0) return check(undefined);
    for (const future of all) {
      if (future.done) {
        check(future);
      } else {
        future.onSettled(check);
      }
      if (finished) return;
    }
  });
}
