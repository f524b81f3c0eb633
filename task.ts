// Copyright the @seed/concurrency authors. MIT license.

/**
 * What a task sees of itself while it runs inside a pool worker: its
 * cancellation, as an `AbortSignal` for async code and as a flag in shared
 * memory that a synchronous loop can poll, and a way to move results without
 * copying.
 *
 * Import this module in task modules. Inline task functions cannot import, so
 * they get the same {@linkcode TaskContext} as `this` (declare it as
 * `function (this: TaskContext, ...)`; arrow functions have no `this`).
 *
 * @module
 */

import { CURRENT_TASK } from "./_protocol.ts";

/**
 * The running task's view of its own cancellation.
 *
 * **Cancellation**: when the caller's `signal` aborts or the task's future is
 * cancelled, `aborted` turns `true` at once (it reads shared memory, so a busy
 * synchronous loop sees it), and `signal` aborts with the caller's reason as
 * soon as the worker's event loop runs (an async task sees it at its next
 * `await`). The task then has the pool's `abortGraceMs` to stop before its
 * worker is terminated and replaced.
 */
export interface TaskContext {
  /** The task's id, unique among the pool's tasks in flight. */
  readonly id: number;
  /**
   * An `AbortSignal` that aborts with the caller's reason when the task is
   * cancelled. Pass it on to `fetch`, timers and other cancellable calls.
   */
  readonly signal: AbortSignal;
  /**
   * `true` once the task has been cancelled. Cheap enough to read on every
   * iteration of a hot loop.
   */
  readonly aborted: boolean;
  /**
   * Throws if the task has been cancelled: the signal's reason when the worker
   * has seen it, otherwise a `DOMException` named `"AbortError"`.
   *
   * @throws {DOMException} If the task has been cancelled.
   */
  throwIfAborted(): void;
}

/**
 * Returns the context of the task running in this worker.
 *
 * @returns The running task's context.
 * @throws {Error} If no pool task is running: called outside a worker, or
 * after the task has returned.
 *
 * @example Cancelling a CPU-bound task that checks for it
 * ```ts
 * // examples/tasks.ts:
 * //   export function countPrimes(limit: number): number {
 * //     const task = currentTask();
 * //     for (let n = 2; n < limit; n++) {
 * //       if ((n & 1023) === 0) task.throwIfAborted();
 * //       ...
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool<typeof import("./examples/tasks.ts")>(
 *   new URL("./examples/tasks.ts", import.meta.url),
 *   { size: 1 },
 * );
 * const reason = new Error("Not needed any more");
 * const controller = new AbortController();
 * const counting = pool.run("countPrimes", [1e12], { signal: controller.signal });
 * controller.abort(reason);
 * await assert.rejects(counting, (e) => e === reason);
 * assert.equal(pool.stats.abandonedWorkers, 0);
 * ```
 *
 * @example Outside a task it throws
 * ```ts
 * import { currentTask } from "@seed/concurrency/task";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => currentTask(), /outside a pool task/);
 * ```
 */
export function currentTask(): TaskContext {
  const slot = (globalThis as Record<symbol, unknown>)[CURRENT_TASK] as
    | (() => TaskContext | undefined)
    | undefined;
  const context = slot?.();
  if (context === undefined) {
    throw new Error(
      "Cannot get the current task as currentTask() was called outside a pool task: call it while a task runs in a pool worker",
    );
  }
  return context;
}

const kTransfer: unique symbol = Symbol.for("@seed/concurrency/transfer");

/** A task result wrapped by {@linkcode transfer}. */
interface Transferred<T> {
  /** The result. */
  readonly value: T;
  /** The objects to move to the caller instead of copying. */
  readonly transfer: readonly Transferable[];
  /** Marks the wrapper. */
  readonly [kTransfer]: true;
}

/**
 * Wraps a task's result so that the listed objects (`ArrayBuffer`s,
 * `MessagePort`s, streams) move to the caller instead of being copied. The
 * caller receives `value` itself; the moved objects are unusable in the worker
 * afterwards.
 *
 * @typeParam T The result's type.
 * @param value The result.
 * @param transferList The objects inside `value` to move.
 * @returns A wrapper the pool unwraps; the caller sees `T`.
 *
 * @example Returning a large buffer without a copy
 * ```ts
 * // examples/tasks.ts:
 * //   export function makeBytes(n: number): Uint8Array {
 * //     const bytes = new Uint8Array(n).fill(1);
 * //     return transfer(bytes, [bytes.buffer]);
 * //   }
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool<typeof import("./examples/tasks.ts")>(
 *   new URL("./examples/tasks.ts", import.meta.url),
 *   { size: 1 },
 * );
 * const bytes = await pool.run("makeBytes", [1024]);
 * assert.equal(bytes.byteLength, 1024);
 * ```
 */
export function transfer<T>(
  value: T,
  transferList: readonly Transferable[],
): T {
  const wrapped: Transferred<T> = {
    value,
    transfer: transferList,
    [kTransfer]: true,
  };
  return wrapped as unknown as T;
}
