// Copyright the @seed/concurrency authors. MIT license.

/**
 * The error a {@linkcode WorkerPool} call rejects with when the pool no longer
 * accepts or can finish work: the call came after `close()` or `terminate()`,
 * or the task was still pending when `terminate()` ended the pool.
 *
 * @example Catching a call made after close
 * ```ts
 * import { PoolClosedError, WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * const pool = new WorkerPool({ size: 1 });
 * await pool.close();
 * await assert.rejects(pool.run((x: number) => x, [1]), PoolClosedError);
 * ```
 */
export class PoolClosedError extends Error {
  /**
   * Creates a new `PoolClosedError`.
   *
   * @param message What was refused and why.
   * @param options Standard error options, such as `cause`.
   *
   * @example Creating the error
   * ```ts
   * import { PoolClosedError } from "@seed/concurrency/errors";
   * import assert from "node:assert/strict";
   *
   * const error = new PoolClosedError("Cannot run task as the pool is closed");
   * assert.equal(error.name, "PoolClosedError");
   * ```
   */
  constructor(message = "The pool is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolClosedError";
  }
}
