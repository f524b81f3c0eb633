// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: a `WorkerChannel` in the thread that created it. It holds the
 * values and the wait queues, serves every link (one per time the channel
 * crossed to another thread), and keeps each value handed to a proxy until the
 * proxy acknowledges it: if the proxy's thread ends first, the value goes back
 * to the head of the channel.
 *
 * States: `"open"`; `"closed"` (no more sends; values remain to drain);
 * `"ended"` (closed, drained, and no value out with a proxy that may come
 * back): every link is then told `END` and its port closed.
 *
 * @module
 */

import { newLifelineName, watchLifeline } from "../_lifeline.ts";
import { List } from "../_list.ts";
import { RingBuffer } from "../_ring_buffer.ts";
import {
  receiveClosedError,
  ReceiveWaiter,
  sendClosedError,
  SendWaiter,
  waitToReceive,
  waitToSend,
} from "./_waiters.ts";
import {
  decodeReason,
  encodeReason,
  notCloneableError,
  type WireReason,
} from "./_port_helpers.ts";
import {
  ACK,
  ADOPT,
  CANCEL,
  CANCELLED,
  type ChannelCore,
  CLOSE,
  CLOSED,
  END,
  HELLO,
  type LinkData,
  RECV,
  RECV_END,
  RETURN,
  SEND,
  SEND_CLOSED,
  SENT,
  VALUE,
} from "./_worker_channel_protocol.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** One link: the owner's side of the port of one proxy. */
class Link<T> {
  readonly port: MessagePort;
  readonly lock: string;
  state: "open" | "done" = "open";
  /** This link's requests waiting in the channel's queues, by id. */
  readonly waiters: Map<number, RemoteSend<T> | RemoteReceive<T>> = new Map();
  /** Values handed to the proxy and not yet acknowledged, oldest first. */
  readonly unacked: RingBuffer<T> = new RingBuffer<T>();
  readonly watch: AbortController = new AbortController();

  constructor(port: MessagePort, lock: string) {
    this.port = port;
    this.lock = lock;
  }

  post(message: unknown[]): void {
    this.port.postMessage(message);
  }
}

/** The owner's channel. */
export class OwnerCore<T> implements ChannelCore<T> {
  readonly id: string = crypto.randomUUID();
  readonly capacity: number;
  /** Values handed to proxies and not yet acknowledged, on every link. */
  unacked = 0;
  /** Called once, when the channel has ended. */
  onEnd: (() => void) | undefined = undefined;

  readonly #buffer = new RingBuffer<T>();
  readonly #receivers = new List<ReceiveWaiter<T>>();
  readonly #senders = new List<SendWaiter<T>>();
  readonly #links = new Map<string, Link<T>>();
  /** Links dropped before their port arrived (the channel came home). */
  readonly #dropped = new Set<string>();
  #state: "open" | "closed" | "ended" = "open";
  #reason: unknown = undefined;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get closed(): boolean {
    return this.#state !== "open";
  }

  send(value: T, signal: AbortSignal | undefined): Promise<void> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state !== "open") {
      return Promise.reject(sendClosedError(value, this.#reason));
    }
    let copy: T;
    try {
      copy = structuredClone(value);
    } catch (error) {
      return Promise.reject(notCloneableError(value, "WorkerChannel", error));
    }
    if (this.#offer(copy)) return RESOLVED;
    return waitToSend(this.#senders, copy, value, signal);
  }

  receive(signal: AbortSignal | undefined): Promise<T> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#buffer.length > 0 || this.#senders.size > 0) {
      const value = this.#take();
      this.#maybeEnd();
      return Promise.resolve(value);
    }
    if (this.#state === "ended") {
      return Promise.reject(receiveClosedError(this.#reason));
    }
    // Open, or closed with values out with proxies that may come back.
    return waitToReceive(this.#receivers, signal);
  }

  close(reason: unknown): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.#reason = reason;
    const wire = encodeReason(reason);
    for (const link of this.#links.values()) link.post([CLOSED, wire]);
    for (
      let s = this.#senders.shift();
      s !== undefined;
      s = this.#senders.shift()
    ) {
      s.fail(reason);
    }
    this.#maybeEnd();
  }

  toWire(): { data: LinkData; transfer: Transferable[] } {
    const data: LinkData = {
      id: this.id,
      capacity: this.capacity,
      state: this.#state,
      reason: encodeReason(this.#reason),
    };
    if (this.#state === "ended") return { data, transfer: [] };
    const { port1, port2 } = new MessageChannel();
    const lock = newLifelineName("worker-channel");
    this.#addLink(port1, lock);
    data.port = port2;
    data.lock = lock;
    return { data, transfer: [port2] };
  }

  /**
   * Forgets the link `lock`, whose proxy end came back to this thread (where
   * the channel itself is used instead).
   */
  dropLink(lock: string): void {
    const link = this.#links.get(lock);
    if (link === undefined) {
      // An ADOPT still on its way: drop it when it arrives.
      if (this.#state !== "ended") this.#dropped.add(lock);
      return;
    }
    this.#links.delete(lock);
    link.state = "done";
    link.port.close();
  }

  // ---- values ------------------------------------------------------------

  /** Hands `value` to the first waiting receiver, or buffers it if there is room. */
  #offer(value: T): boolean {
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.deliver(value);
      return true;
    }
    if (this.#buffer.length < this.capacity) {
      this.#buffer.push(value);
      return true;
    }
    return false;
  }

  /**
   * Takes the next value: the head of the buffer (refilled from the first
   * waiting sender), or the first waiting sender's value. Call only when one
   * of them has a value; call `#maybeEnd()` once the value is handed over.
   */
  #take(): T {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift() as T;
      if (this.#buffer.length < this.capacity) {
        const sender = this.#senders.shift();
        if (sender !== undefined) {
          this.#buffer.push(sender.value);
          sender.accept();
        }
      }
      return value;
    }
    const sender = this.#senders.shift() as SendWaiter<T>;
    sender.accept();
    return sender.value;
  }

  /**
   * Puts values a dead proxy never acknowledged back at the head, oldest
   * first, handing them straight to waiting receivers if there are any. They
   * may take the buffer over its capacity for a while.
   */
  #giveBack(values: T[]): void {
    let i = 0;
    while (i < values.length && this.#buffer.length === 0) {
      const receiver = this.#receivers.shift();
      if (receiver === undefined) break;
      receiver.deliver(values[i++] as T);
    }
    for (let j = values.length - 1; j >= i; j--) {
      this.#buffer.unshift(values[j] as T);
    }
  }

  #maybeEnd(): void {
    if (
      this.#state !== "closed" || this.#buffer.length > 0 || this.unacked > 0
    ) {
      return;
    }
    this.#state = "ended";
    for (
      let r = this.#receivers.shift();
      r !== undefined;
      r = this.#receivers.shift()
    ) {
      r.end(this.#reason);
    }
    for (const link of this.#links.values()) {
      link.state = "done";
      link.watch.abort();
      link.waiters.clear();
      link.post([END]);
      link.port.close();
    }
    this.#links.clear();
    this.#dropped.clear();
    this.onEnd?.();
  }

  // ---- links -------------------------------------------------------------

  #addLink(port: MessagePort, lock: string): void {
    const link = new Link<T>(port, lock);
    this.#links.set(lock, link);
    port.onmessage = (event: MessageEvent) => {
      if (link.state === "open") this.#onMessage(link, event.data as unknown[]);
    };
    if (this.#state === "closed") {
      link.post([CLOSED, encodeReason(this.#reason)]);
    }
  }

  #onMessage(link: Link<T>, message: unknown[]): void {
    const id = message[1] as number;
    switch (message[0]) {
      case HELLO:
        if (message[1] === true) {
          watchLifeline(link.lock, link.watch.signal, () => this.#died(link));
        }
        break;
      case SEND:
        this.#remoteSend(link, id, message[2] as T);
        break;
      case RECV:
        this.#remoteReceive(link, id);
        break;
      case CANCEL: {
        const waiter = link.waiters.get(id);
        if (waiter !== undefined) {
          link.waiters.delete(id);
          waiter.unlink();
          link.post([CANCELLED, id]);
        }
        // Otherwise it was answered already: the answer is on its way.
        break;
      }
      case ACK:
        if (link.unacked.length > 0) {
          link.unacked.shift();
          this.unacked--;
          this.#maybeEnd();
        }
        break;
      case RETURN:
        if (link.unacked.length > 0) {
          const value = link.unacked.shift() as T;
          this.unacked--;
          this.#giveBack([value]);
          this.#maybeEnd();
        }
        break;
      case CLOSE:
        this.close(decodeReason(message[1] as WireReason));
        break;
      case ADOPT: {
        const port = message[1] as MessagePort;
        const lock = message[2] as string;
        if (this.#dropped.delete(lock) || this.#state === "ended") {
          port.close();
        } else {
          this.#addLink(port, lock);
        }
        break;
      }
    }
  }

  #remoteSend(link: Link<T>, id: number, value: T): void {
    if (this.#state !== "open") {
      link.post([SEND_CLOSED, id]);
    } else if (this.#offer(value)) {
      link.post([SENT, id]);
    } else {
      const waiter = new RemoteSend(link, id, value);
      link.waiters.set(id, waiter);
      this.#senders.push(waiter);
    }
  }

  #remoteReceive(link: Link<T>, id: number): void {
    const waiter = new RemoteReceive(this, link, id);
    if (this.#buffer.length > 0 || this.#senders.size > 0) {
      waiter.deliver(this.#take());
      this.#maybeEnd();
    } else {
      // The link is open, so the channel has not ended.
      link.waiters.set(id, waiter);
      this.#receivers.push(waiter);
    }
  }

  /** The proxy's thread ended (or it let go of its lock). */
  #died(link: Link<T>): void {
    if (link.state !== "open") return;
    link.state = "done";
    this.#links.delete(link.lock);
    // Its waiting requests leave the queues as if they had never been made.
    for (const waiter of link.waiters.values()) waiter.unlink();
    link.waiters.clear();
    const values = link.unacked.drain();
    this.unacked -= values.length;
    link.port.close();
    this.#giveBack(values);
    this.#maybeEnd();
  }
}

/** A proxy's `send` waiting in the send queue. */
class RemoteSend<T> extends SendWaiter<T> {
  readonly #link: Link<T>;
  readonly #id: number;

  constructor(link: Link<T>, id: number, value: T) {
    super(value);
    this.#link = link;
    this.#id = id;
  }

  accept(): void {
    this.#link.waiters.delete(this.#id);
    this.#link.post([SENT, this.#id]);
  }

  fail(): void {
    this.#link.waiters.delete(this.#id);
    this.#link.post([SEND_CLOSED, this.#id]);
  }
}

/** A proxy's `receive`, waiting in the receive queue or served at once. */
class RemoteReceive<T> extends ReceiveWaiter<T> {
  readonly #owner: OwnerCore<T>;
  readonly #link: Link<T>;
  readonly #id: number;

  constructor(owner: OwnerCore<T>, link: Link<T>, id: number) {
    super();
    this.#owner = owner;
    this.#link = link;
    this.#id = id;
  }

  deliver(value: T): void {
    this.#link.waiters.delete(this.#id);
    this.#link.unacked.push(value);
    this.#owner.unacked++;
    this.#link.post([VALUE, this.#id, value]);
  }

  end(): void {
    this.#link.waiters.delete(this.#id);
    this.#link.post([RECV_END, this.#id]);
  }
}
