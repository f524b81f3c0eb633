// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the messages between a `WorkerChannel` and its proxies.
 *
 * The channel lives in the thread that created it (the owner). Each time it
 * crosses to another thread, the owner opens a link: a `MessageChannel` whose
 * first port it serves and whose second port goes with the channel. The
 * receiving side rebuilds the channel as a proxy that asks the owner over its
 * port. Requests carry ids; each gets exactly one answer.
 *
 * ```text
 *  owner thread                                 worker thread
 *  +-------------------------+   link port      +--------------------+
 *  | OwnerCore               | <--------------> | ProxyCore          |
 *  |  buffer, wait queues    |  SEND/RECV/...   |  pending requests  |
 *  |  links: unacked values  |  SENT/VALUE/...  |  holds lifeline    |
 *  +-------------------------+                  +--------------------+
 *          `-- watches the proxy's lifeline: freed when its thread ends
 * ```
 *
 * proxy -> owner
 *   [HELLO, watch]        first message; `watch`: the proxy holds the link's
 *                         lifeline (it runs in a worker)
 *   [SEND, id, value]     answered by SENT, SEND_CLOSED or CANCELLED
 *   [RECV, id]            answered by VALUE, RECV_END or CANCELLED
 *   [CANCEL, id]          the request's signal aborted; CANCELLED if it was
 *                         still waiting, nothing more if it was answered
 *   [ACK, id]             the VALUE for request id was handed to its caller
 *   [RETURN, id]          the VALUE for request id found no caller: put back
 *   [CLOSE, reason]       close the channel
 *   [ADOPT, port, lock]   serve a new link (the proxy crossed again)
 * owner -> proxy
 *   [SENT, id] [SEND_CLOSED, id] [VALUE, id, value] [RECV_END, id]
 *   [CANCELLED, id]
 *   [CLOSED, reason]      the channel was closed (sent to every link)
 *   [END]                 the channel is closed and drained: the link is over
 *
 * @module
 */

export const HELLO = 0;
export const SEND = 1;
export const RECV = 2;
export const CANCEL = 3;
export const ACK = 4;
export const RETURN = 5;
export const CLOSE = 6;
export const ADOPT = 7;

export const SENT = 10;
export const SEND_CLOSED = 11;
export const VALUE = 12;
export const RECV_END = 13;
export const CANCELLED = 14;
export const CLOSED = 15;
export const END = 16;

/** The wire type name of a `WorkerChannel`. */
export const WIRE_TYPE = "WorkerChannel";

/** Where a channel is, as a thread that receives it sees it. */
export type LinkState = "open" | "closed" | "ended";

/** The `data` of a `WorkerChannel`'s wire form. */
export interface LinkData {
  /** The channel's id (its owner's). */
  id: string;
  capacity: number;
  state: LinkState;
  /** The encoded close reason, once closed. */
  reason: unknown;
  /** The proxy's end of the link; absent once the channel has ended. */
  port?: MessagePort;
  /** The link's lifeline name. */
  lock?: string;
}

/** What `WorkerChannel` delegates to: the owner's channel or a proxy. */
export interface ChannelCore<T> {
  readonly id: string;
  readonly capacity: number;
  readonly closed: boolean;
  send(value: T, signal: AbortSignal | undefined): Promise<void>;
  receive(signal: AbortSignal | undefined): Promise<T>;
  close(reason: unknown): void;
  /** The wire form for one more thread: opens a link. */
  toWire(): { data: LinkData; transfer: Transferable[] };
}
