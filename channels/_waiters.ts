// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the wait queues shared by `Channel` and `select`.
 *
 * A wait is a node in an intrusive doubly linked list, so joining the queue,
 * leaving it at the front and leaving it from the middle (an abort, or a
 * `select` whose other case won) are all O(1) and allocate nothing beyond the
 * node itself.
 *
 * ```
 *   Channel ── receivers: WaiterQueue<ReceiveWaiter> ── node ⇄ node ⇄ node
 *          └── senders:   WaiterQueue<SendWaiter>    ── node ⇄ node
 * ```
 *
 * The channel matches a node by taking it off the front of its queue and
 * then calling `deliver`/`end` (receivers) or `accept`/`fail` (senders)
 * synchronously. A node therefore settles exactly once, and a node that left
 * its queue (aborted, or lost a `select`) can never be matched again.
 *
 * @module
 */

import { ChannelClosedError } from "../errors/channel_closed_error.ts";

/** A node of a {@linkcode WaiterQueue}. */
export class WaiterNode {
  /** The previous node, towards the front. */
  prev: WaiterNode | null = null;
  /** The next node, towards the back. */
  next: WaiterNode | null = null;
  /** The queue this node is in, or `null` when it is in none. */
  queue: WaiterQueue<WaiterNode> | null = null;

  /** Leaves the queue this node is in; does nothing when it is in none. */
  unlink(): void {
    if (this.queue !== null) this.queue.remove(this);
  }
}

/**
 * A FIFO queue of waiting nodes with O(1) `push`, `shift` and `remove`.
 *
 * @typeParam N The node type.
 */
export class WaiterQueue<N extends WaiterNode> {
  #head: WaiterNode | null = null;
  #tail: WaiterNode | null = null;
  #length = 0;

  /** The number of nodes in the queue. */
  get length(): number {
    return this.#length;
  }

  /** Appends `node` at the back. It must not be in a queue already. */
  push(node: N): void {
    node.queue = this as WaiterQueue<WaiterNode>;
    node.prev = this.#tail;
    node.next = null;
    if (this.#tail === null) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#length++;
  }

  /** Removes and returns the front node, or `undefined` when empty. */
  shift(): N | undefined {
    const node = this.#head;
    if (node === null) return undefined;
    this.remove(node);
    return node as N;
  }

  /** Removes `node`, which must be in this queue. */
  remove(node: WaiterNode): void {
    const { prev, next } = node;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    node.prev = null;
    node.next = null;
    node.queue = null;
    this.#length--;
  }
}

/**
 * A waiting receive: `Channel.receive()`, an iterator's `next()`, or a
 * receive case of `select`.
 *
 * @typeParam T The channel's value type.
 */
export abstract class ReceiveWaiter<T> extends WaiterNode {
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
export abstract class SendWaiter<T> extends WaiterNode {
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
