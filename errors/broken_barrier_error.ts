// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * The error a {@linkcode https://jsr.io/@seed/concurrency/doc/sync/~/Barrier | Barrier}
 * wait rejects with when the barrier is broken: another party's wait was
 * aborted, or the barrier was reset while parties were waiting. Every later
 * wait rejects with it too until the barrier is reset.
 *
 * When an aborted wait broke the barrier, `cause` is that wait's abort
 * reason.
 *
 * @example Usage
 * ```ts
 * import { Barrier } from "@seed/concurrency/sync";
 * import { BrokenBarrierError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * const barrier = new Barrier(3);
 * const controller = new AbortController();
 * const first = barrier.wait();
 * const second = barrier.wait({ signal: controller.signal });
 * controller.abort(new Error("party left"));
 * await assert.rejects(second, { message: "party left" });
 * const error = await first.catch((error: unknown) => error);
 * assert.ok(error instanceof BrokenBarrierError);
 * assert.equal((error.cause as Error).message, "party left");
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates the error.
   *
   * @param message What broke the barrier.
   * @param options Error options; `cause` is what broke the barrier, such as
   * the abort reason of a party's wait.
   *
   * @example Usage
   * ```ts
   * import { BrokenBarrierError } from "@seed/concurrency/errors";
   * import assert from "node:assert/strict";
   *
   * const error = new BrokenBarrierError("Cannot pass Barrier as it is broken");
   * assert.equal(error.name, "BrokenBarrierError");
   * assert.ok(error instanceof Error);
   * ```
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}
