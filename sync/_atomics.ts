// Copyright the @seed/concurrency authors. MIT license.
// Internal: the pieces shared by the shared-memory primitives (SharedLock,
// SharedEvent, SharedValue, SharedArray).
//
// - `waitAsyncUntil` is the one event-loop-safe wait: a loop of "try, else
//   `Atomics.waitAsync` on a cell" that an AbortSignal can end. Deno does not
//   count a pending `waitAsync` as work (denoland/deno#15358), so while any
//   such wait is pending in this thread one ref'd interval keeps the event
//   loop alive; it is cleared when the last wait settles.
// - A `waitAsync` cannot be withdrawn. An aborted wait therefore wakes every
//   waiter of its cell (`Atomics.notify` with no count): that removes its own
//   stale entry from the engine's waiter list, so no later `notify(…, 1)` is
//   spent on it, and the woken waiters simply check again and wait again.
// - `waitSyncUntil` is the same loop with `Atomics.wait`, for workers only.
// - The table of element kinds behind SharedValue and SharedArray.

import { isWorkerThread } from "../_env.ts";
import { describe } from "../errors/_describe.ts";

// ---- keep-alive -------------------------------------------------------------

// A little under the largest delay timers accept (2^31 - 1 ms).
const KEEP_ALIVE_MS = 1_000_000_000;
let keepAliveHolders = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

function noop(): void {}

/** Keeps this thread's event loop alive until the matching release. */
function holdKeepAlive(): void {
  if (keepAliveHolders++ === 0) {
    keepAliveTimer = setInterval(noop, KEEP_ALIVE_MS);
  }
}

/** Ends one {@linkcode holdKeepAlive}; the last one clears the timer. */
function releaseKeepAlive(): void {
  if (--keepAliveHolders === 0) {
    clearInterval(keepAliveTimer);
    keepAliveTimer = undefined;
  }
}

/** Number of async waits pending in this thread (for tests). */
export function pendingAsyncWaits(): number {
  return keepAliveHolders;
}

// ---- waiting ----------------------------------------------------------------

/** What one attempt of a wait loop found. */
export type Attempt<T> =
  | { done: true; value: T }
  | { done: false; expected: number };

/**
 * Calls `attempt` until it is done; between attempts, waits without blocking
 * until `cells[index]` is notified while it still holds the value the
 * attempt expected. The caller has checked `signal.aborted` already.
 *
 * If `signal` aborts first, rejects with `signal.reason`, leaves nothing
 * behind (see the file comment) and never calls `attempt` again. An attempt
 * that runs while the signal is already aborted (its listener not run yet)
 * is not made: the wait rejects instead.
 */
export function waitAsyncUntil<T>(
  cells: Int32Array,
  index: number,
  attempt: () => Attempt<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = () => {
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      releaseKeepAlive();
    };
    const onAbort = () => {
      if (settled) return;
      finish();
      Atomics.notify(cells, index);
      reject(signal!.reason);
    };
    const step = () => {
      if (settled) return;
      if (signal?.aborted) return onAbort();
      for (;;) {
        let result: Attempt<T>;
        try {
          result = attempt();
        } catch (error) {
          finish();
          return reject(error);
        }
        if (result.done) {
          finish();
          return resolve(result.value);
        }
        const wait = Atomics.waitAsync(cells, index, result.expected);
        if (wait.async) {
          wait.value.then(step);
          return;
        }
        // "not-equal": the cell changed since the attempt; try again.
      }
    };
    holdKeepAlive();
    signal?.addEventListener("abort", onAbort, { once: true });
    step();
  });
}

/**
 * The blocking counterpart of {@linkcode waitAsyncUntil}, for workers: calls
 * `attempt` until it is done, blocking the thread with `Atomics.wait` in
 * between, and throws a `"TimeoutError"` `DOMException` once `timeoutMs` has
 * passed (measured from the call).
 */
export function waitSyncUntil<T>(
  cells: Int32Array,
  index: number,
  attempt: () => Attempt<T>,
  timeoutMs: number,
  what: string,
): T {
  const deadline = timeoutMs === Infinity
    ? Infinity
    : performance.now() + timeoutMs;
  for (;;) {
    const result = attempt();
    if (result.done) return result.value;
    const left = deadline === Infinity
      ? Infinity
      : deadline - performance.now();
    if (left <= 0) {
      throw new DOMException(
        `${what} timed out after ${timeoutMs} ms`,
        "TimeoutError",
      );
    }
    Atomics.wait(cells, index, result.expected, left);
  }
}

// ---- checks -----------------------------------------------------------------

/** Throws unless blocking is allowed here (in a worker). */
export function assertMayBlock(what: string, instead: string): void {
  if (!isWorkerThread()) {
    throw new TypeError(
      `Cannot ${what} on the main thread as it would block the event loop: use ${instead}, or call it in a worker`,
    );
  }
}

/** Validates `timeoutMs` of a blocking wait and returns it (default Infinity). */
export function checkTimeoutMs(
  timeoutMs: number | undefined,
  what: string,
): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== "number") {
    throw new TypeError(
      `Cannot ${what} as 'timeoutMs' must be a number: received ${
        describe(timeoutMs)
      }`,
    );
  }
  if (!(timeoutMs >= 0)) {
    throw new RangeError(
      `Cannot ${what} as 'timeoutMs' must be a non-negative number or Infinity: received ${
        describe(timeoutMs)
      }`,
    );
  }
  return timeoutMs;
}

// ---- element kinds ----------------------------------------------------------

/** The typed array classes of the element kinds. */
export type KindArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** What the table knows about one element kind. */
export interface KindInfo {
  /** Makes a view of `length` elements at `byteOffset` of `buffer`. */
  view(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    length: number,
  ): KindArray;
  /** Bytes per element. */
  bytes: number;
  /** Whether values are bigints. */
  bigint: boolean;
  /** Whether `Atomics` read-modify-write works on it (integer kinds). */
  atomic: boolean;
}

function info(
  type: {
    new (
      buffer: SharedArrayBuffer,
      byteOffset: number,
      length: number,
    ): KindArray;
    BYTES_PER_ELEMENT: number;
  },
  bigint: boolean,
  atomic: boolean,
): KindInfo {
  return {
    view: (buffer, byteOffset, length) => new type(buffer, byteOffset, length),
    bytes: type.BYTES_PER_ELEMENT,
    bigint,
    atomic,
  };
}

/** Every element kind, by name. */
export const KINDS: Readonly<Record<string, KindInfo>> = Object.freeze({
  i8: info(Int8Array, false, true),
  u8: info(Uint8Array, false, true),
  i16: info(Int16Array, false, true),
  u16: info(Uint16Array, false, true),
  i32: info(Int32Array, false, true),
  u32: info(Uint32Array, false, true),
  f32: info(Float32Array, false, false),
  f64: info(Float64Array, false, false),
  bigint64: info(BigInt64Array, true, true),
  biguint64: info(BigUint64Array, true, true),
});

/** The kind names, for error messages. */
export const KIND_NAMES: string = Object.keys(KINDS).join(", ");

/** Looks a kind up, or throws the TypeError that `what` should throw. */
export function kindInfo(kind: unknown, what: string): KindInfo {
  const found = typeof kind === "string" && Object.hasOwn(KINDS, kind)
    ? KINDS[kind]
    : undefined;
  if (found === undefined) {
    throw new TypeError(
      `Cannot create ${what} as 'kind' must be one of ${KIND_NAMES}: received ${
        describe(kind)
      }`,
    );
  }
  return found;
}

/** Throws unless `value` has the JS type of the kind's elements. */
export function checkElement(
  info: KindInfo,
  kind: string,
  value: unknown,
  what: string,
  name: string,
): void {
  if (info.bigint ? typeof value !== "bigint" : typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be a ${
        info.bigint ? "bigint" : "number"
      } for kind ${kind}: received ${describe(value)}`,
    );
  }
}

/** Throws unless the kind has atomic read-modify-write operations. */
export function checkAtomic(info: KindInfo, kind: string, what: string): void {
  if (!info.atomic) {
    throw new TypeError(
      `Cannot ${what} as its kind ${kind} has no atomic operations: use an integer kind, or hold its lock`,
    );
  }
}
