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
 * @example A synchronous loop that stops when cancelled
 * ```ts ignore
 * // tasks.ts, a pool's task module
 * import { currentTask } from "@seed/concurrency/task";
 *
 * export function countPrimes(limit: number): number {
 *   const task = currentTask();
 *   let count = 0;
 *   for (let n = 2; n < limit; n++) {
 *     if (n % 4096 === 0) task.throwIfAborted();
 *     let prime = true;
 *     for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
 *     if (prime) count++;
 *   }
 *   return count;
 * }
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
export interface Transferred<T> {
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
 * import assert from "node:assert/strict";
 *
 * // In a task module: `return transfer(bytes, [bytes.buffer]);`
 * import { transfer } from "@seed/concurrency/task";
 * const bytes = new Uint8Array(4);
 * const wrapped = transfer(bytes, [bytes.buffer]);
 * assert.equal(wrapped.value, bytes);
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
