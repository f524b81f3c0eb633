// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Options for the {@linkcode ChannelClosedError} constructor.
 */
export interface ChannelClosedErrorOptions extends ErrorOptions {
  /**
   * The value that could not be sent. Leave the field out when there is no
   * value (a receive that found the channel closed and drained): the error
   * then has no own `value` property, so `"value" in error` tells the two
   * apart even when the unsent value is `undefined`.
   *
   * @default {undefined} (no `value` property)
   */
  value?: unknown;
  /**
   * The reason given to `close(reason)`, kept as the error's `cause`. Leave
   * it out when the channel was closed without a reason.
   *
   * @default {undefined} (no `cause` property)
   */
  cause?: unknown;
}

/**
 * Error for an operation that cannot complete because its channel is closed:
 * a send on a closed channel (or a send that was still waiting when the
 * channel closed), or a receive on a channel that is closed and drained.
 *
 * - **`value`**: present (as an own property) only when the error comes from
 *   a send. It carries the value that was not delivered, so the caller can
 *   recover it.
 * - **`cause`**: present only when the channel was closed with a reason
 *   (`close(reason)`); it is that reason.
 *
 * Catch it with `instanceof ChannelClosedError`, never by matching the
 * message.
 *
 * @example Recovering the unsent value
 * ```ts
 * import { Channel, ChannelClosedError } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const channel = new Channel<string>();
 * channel.close(new Error("Shutting down"));
 * try {
 *   await channel.send("job-1");
 *   assert.fail("send should reject");
 * } catch (error) {
 *   assert.ok(error instanceof ChannelClosedError);
 *   assert.equal(error.value, "job-1");
 *   assert.equal((error.cause as Error).message, "Shutting down");
 * }
 * ```
 *
 * @example Telling a failed receive from a failed send
 * ```ts
 * import { Channel, ChannelClosedError } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const channel = new Channel<number>();
 * channel.close();
 * const error = await channel.receive().catch((e: unknown) => e);
 * assert.ok(error instanceof ChannelClosedError);
 * assert.equal("value" in error, false);
 * assert.equal("cause" in error, false);
 * ```
 */
export class ChannelClosedError extends Error {
  /**
   * The value that could not be sent. It is an own property only when the
   * error comes from a send; check with `"value" in error`.
   *
   * @example Usage
   * ```ts
   * import { ChannelClosedError } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const error = new ChannelClosedError("Cannot send", { value: 42 });
   * assert.equal(error.value, 42);
   * assert.equal("value" in new ChannelClosedError(), false);
   * ```
   */
  declare readonly value?: unknown;

  /**
   * Creates a `ChannelClosedError`.
   *
   * @example Usage
   * ```ts
   * import { ChannelClosedError } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const reason = new Error("Upstream failed");
   * const error = new ChannelClosedError(
   *   "Cannot send to the channel as it is closed",
   *   { value: "unsent", cause: reason },
   * );
   * assert.equal(error.name, "ChannelClosedError");
   * assert.equal(error.value, "unsent");
   * assert.equal(error.cause, reason);
   * ```
   *
   * @param message What failed and why.
   * @param options The unsent `value` and the close reason as `cause`; a
   *   field that is left out is not set on the error.
   */
  constructor(
    message: string = "Cannot use the channel as it is closed",
    options?: ChannelClosedErrorOptions,
  ) {
    super(message, options);
    this.name = "ChannelClosedError";
    if (options !== undefined && "value" in options) {
      Object.defineProperty(this, "value", {
        value: options.value,
        enumerable: true,
        writable: false,
        configurable: true,
      });
    }
  }
}
