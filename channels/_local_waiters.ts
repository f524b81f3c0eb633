// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the waits of this thread's own `send` and `receive` calls in the
 * queues of a `WorkerChannel` owner or a pipe end, with the standard
 * cancellation: an abort while waiting leaves the queue and rejects with
 * `signal.reason`; an abort after the wait was served is ignored.
 *
 * @module
 */

import {
  receiveClosedError,
  ReceiveWaiter,
  sendClosedError,
  SendWaiter,
} from "./_waiters.ts";

/**
 * A `send` of this thread waiting in a send queue. It holds the value to
 * deliver (a copy, or the value itself) and the caller's original value for
 * the error if the channel closes.
 */
export class LocalSend<T> extends SendWaiter<T> {
  readonly #original: T;
  readonly #resolve: () => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;

  constructor(
    copy: T,
    original: T,
    resolve: () => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    super(copy);
    this.#original = original;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  accept(): void {
    this.#signal?.removeEventListener("abort", this);
    this.#resolve();
  }

  fail(reason: unknown): void {
    this.#signal?.removeEventListener("abort", this);
    this.#reject(sendClosedError(this.#original, reason));
  }

  /** The abort listener (`{ once: true }`, so it removes itself). */
  handleEvent(): void {
    if (this.queue === null) return; // Settled already.
    this.unlink();
    this.#reject(this.#signal?.reason);
  }
}

/** A `receive` of this thread waiting in a receive queue. */
export class LocalReceive<T> extends ReceiveWaiter<T> {
  readonly #resolve: (value: T) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;

  constructor(
    resolve: (value: T) => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    super();
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  deliver(value: T): void {
    this.#signal?.removeEventListener("abort", this);
    this.#resolve(value);
  }

  end(reason: unknown): void {
    this.#signal?.removeEventListener("abort", this);
    this.#reject(receiveClosedError(reason));
  }

  /** The abort listener (`{ once: true }`, so it removes itself). */
  handleEvent(): void {
    if (this.queue === null) return; // Settled already.
    this.unlink();
    this.#reject(this.#signal?.reason);
  }
}
