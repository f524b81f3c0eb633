// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: what `WorkerChannel` and `pipe` share: close reasons in a form
 * that crosses a port, the error for a value that cannot be cloned, and the
 * async iterator over a `receive` function.
 *
 * @module
 */

import { describe } from "../errors/_describe.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";
import {
  deserializeError,
  registerErrorClass,
  type SerializedError,
  serializeError,
} from "../errors/serialize_error.ts";

// A task that fails with `ChannelClosedError` rejects with one on the caller's
// side too.
registerErrorClass(ChannelClosedError);

/** A close reason as it crosses a port: `undefined` when there is none. */
export type WireReason = SerializedError | undefined;

/** Encodes a close reason for a port. */
export function encodeReason(reason: unknown): WireReason {
  return reason === undefined ? undefined : serializeError(reason);
}

/** Decodes a close reason that came over a port. */
export function decodeReason(reason: WireReason): unknown {
  return reason === undefined ? undefined : deserializeError(reason);
}

/**
 * The error for a value that `send` cannot pass on because structured clone
 * refuses it.
 */
export function notCloneableError(
  value: unknown,
  where: string,
  cause: unknown,
): TypeError {
  return new TypeError(
    `Cannot send ${
      describe(value)
    } through the ${where} as it cannot be cloned: send only structured-cloneable values (no functions, symbols or class instances with private state)`,
    { cause },
  );
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  value: undefined,
  done: true,
});

/**
 * An async iterator that calls `receive` until the end: it ends quietly when
 * the channel was closed without a reason and throws the `ChannelClosedError`
 * (whose `cause` is the reason) otherwise. `return()` abandons a waiting
 * `next()`, which then resolves as done unless a value was already on its way
 * to it.
 */
export class ReceiveIterator<T> implements AsyncIterableIterator<T> {
  readonly #receive: (signal: AbortSignal) => Promise<T>;
  readonly #stop = new AbortController();

  constructor(receive: (signal: AbortSignal) => Promise<T>) {
    this.#receive = receive;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(DONE);
    return this.#receive(signal).then(
      (value) => ({ value, done: false }),
      (error: unknown) => {
        if (signal.aborted && error === signal.reason) return DONE;
        if (error instanceof ChannelClosedError && !("cause" in error)) {
          return DONE;
        }
        throw error;
      },
    );
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#stop.abort();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
