// Copyright the @seed/concurrency authors. MIT license.

/**
 * The error a task rejects with when the worker running it died: an uncaught
 * error outside the task, an unhandled rejection, `self.close()` or
 * `Deno.exit()` inside the worker, or a worker terminated because an aborted
 * task did not stop within its grace period.
 *
 * Only the tasks that were running on that worker get this error; the pool
 * replaces the worker and every other task completes.
 *
 * `cause` says why the worker died (the uncaught error, rebuilt with its class,
 * message and worker stack, where the worker could report it).
 *
 * @example Telling a crash apart from a task's own error
 * ```ts
 * import { WorkerCrashedError, WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const crash = pool.run(() => {
 *   setTimeout(() => {
 *     throw new Error("outside any task");
 *   });
 *   return new Promise(() => {});
 * });
 * const error = await crash.catch((e) => e);
 * assert.ok(error instanceof WorkerCrashedError);
 * assert.equal((error.cause as Error).message, "outside any task");
 * // The pool goes on with a new worker.
 * assert.equal(await pool.run((x: number) => x + 1, [1]), 2);
 * ```
 */
export class WorkerCrashedError extends Error {
  /**
   * The pool's number for the worker that died, as in its stats.
   */
  workerId: number;

  /**
   * Creates a new `WorkerCrashedError`.
   *
   * @param message What died and what was lost.
   * @param options Standard error options (`cause` says why the worker died)
   * plus the `workerId`.
   *
   * @example Creating the error
   * ```ts
   * import { WorkerCrashedError } from "@seed/concurrency/errors";
   * import assert from "node:assert/strict";
   *
   * const error = new WorkerCrashedError("Worker 3 died", {
   *   workerId: 3,
   *   cause: new Error("out of memory"),
   * });
   * assert.equal(error.workerId, 3);
   * ```
   */
  constructor(
    message = "The worker running this task died",
    options: ErrorOptions & { workerId?: number } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "WorkerCrashedError";
    this.workerId = options.workerId ?? -1;
  }
}
