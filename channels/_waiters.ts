// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the waits in the queues of `Channel`, `select`, `WorkerChannel`
 * owners and pipe ends.
 *
 * A wait is a node of the library's intrusive list (`../_list.ts`), so
 * joining a queue, leaving it at the front and leaving it from the middle
 * (an abort, or a `select` whose other case won) are all O(1) and allocate
 * nothing beyond the node itself.
 *
 * ```
 *   Channel ── receivers: List<ReceiveWaiter> ── node ⇄ node ⇄ node
 *          └── senders:   List<SendWaiter>    ── node ⇄ node
 * ```
 *
 * The channel matches a node by taking it off the front of its queue and
 * then calling `deliver`/`end` (receivers) or `accept`/`fail` (senders)
 * synchronously. A node therefore settles exactly once, and a node that left
 * its queue (aborted, or lost a `select`) can never be matched again.
 *
 * @module
 */

import { type List, ListNode } from "../_list.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";

/**
 * A waiting receive: `Channel.receive()`, an iterator's `next()`, or a
 * receive case of `select`.
 *
 * @typeParam T The channel's value type.
 */
export abstract class ReceiveWaiter<T> extends ListNode {
  /** Hands `value` over. The node has already left its queue. */
  abstract deliver(value: T): void;
  /**
   * Reports that the channel is closed (and, as this node was waiting, has
   * nothing buffered). The node has already left its queue.
   *
   * @param reason The close reason, `undefined` when none was given.
   */
  abstract end(reason: unknown): void;
}

/**
 * A waiting send: `Channel.send()` or a send case of `select`.
 *
 * @typeParam T The channel's value type.
 */
export abstract class SendWaiter<T> extends ListNode {
  /** The value to send. */
  readonly value: T;

  constructor(value: T) {
    super();
    this.value = value;
  }

  /**
   * Reports that `value` was taken (handed to a receiver or moved into the
   * buffer). The node has already left its queue.
   */
  abstract accept(): void;
  /**
   * Reports that the channel closed before `value` was taken. The node has
   * already left its queue.
   *
   * @param reason The close reason, `undefined` when none was given.
   */
  abstract fail(reason: unknown): void;
}

// ---- this thread's own calls ----------------------------------------------
//
// The standard cancellation: an abort while waiting leaves the queue and
// rejects with `signal.reason`; an abort after the wait was served is
// ignored (the node has left its queue, so `unlink()` finds nothing).

const ONCE: AddEventListenerOptions = Object.freeze({ once: true });

/**
 * Queues a `send` of this thread at the back of `senders` and waits until
 * the value is taken.
 *
 * @param copy The value to deliver (a copy, or the value itself).
 * @param original The caller's value, for the error if the channel closes.
 * @param signal Not aborted yet; aborting it abandons the send.
 */
export function waitToSend<T>(
  senders: List<SendWaiter<T>>,
  copy: T,
  original: T,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter = new LocalSend(copy, original, resolve, reject, signal);
    senders.push(waiter);
    signal?.addEventListener("abort", waiter, ONCE);
  });
}

/**
 * Queues a `receive` of this thread at the back of `receivers` and waits
 * for a value.
 *
 * @param signal Not aborted yet; aborting it abandons the receive.
 */
export function waitToReceive<T>(
  receivers: List<ReceiveWaiter<T>>,
  signal: AbortSignal | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const waiter = new LocalReceive(resolve, reject, signal);
    receivers.push(waiter);
    signal?.addEventListener("abort", waiter, ONCE);
  });
}

/** A `send` of this thread waiting in a send queue. */
class LocalSend<T> extends SendWaiter<T> {
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
    if (this.unlink()) this.#reject(this.#signal?.reason);
  }
}

/** A `receive` of this thread waiting in a receive queue. */
class LocalReceive<T> extends ReceiveWaiter<T> {
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
    if (this.unlink()) this.#reject(this.#signal?.reason);
  }
}

// ---- errors -----------------------------------------------------------------

/** The message of the error for a send on a closed channel. */
export const SEND_CLOSED_MESSAGE = "Cannot send to the channel as it is closed";
/** The message of the error for a receive on a closed and drained channel. */
export const RECEIVE_CLOSED_MESSAGE =
  "Cannot receive from the channel as it is closed and drained";

/**
 * The error for a send that could not deliver `value` because the channel is
 * closed.
 */
export function sendClosedError(
  value: unknown,
  reason: unknown,
): ChannelClosedError {
  return new ChannelClosedError(
    SEND_CLOSED_MESSAGE,
    reason === undefined ? { value } : { value, cause: reason },
  );
}

/** The error for a receive on a closed and drained channel. */
export function receiveClosedError(reason: unknown): ChannelClosedError {
  return new ChannelClosedError(
    RECEIVE_CLOSED_MESSAGE,
    reason === undefined ? undefined : { cause: reason },
  );
}
