// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: a `WorkerChannel` in a thread other than its owner's: every call
 * is a request to the owner over the link's port, and each request gets
 * exactly one answer (see `_worker_channel_protocol.ts`).
 *
 * States: `"open"`; `"closed"` (the channel is closed: sends fail here
 * without asking, receives still drain); `"ended"` (the owner said `END`, or
 * the link never opened: everything is answered here).
 *
 * @module
 */

import { receiveClosedError, sendClosedError } from "./_waiters.ts";
import { newLifelineName } from "../_lifeline.ts";
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
  type LinkState,
  RECV,
  RECV_END,
  RETURN,
  SEND,
  SEND_CLOSED,
  SENT,
  VALUE,
} from "./_worker_channel_protocol.ts";

/** A request waiting for the owner's answer. */
class Request {
  readonly id: number;
  /** The value of a send, kept for the error if the channel closes. */
  readonly value: unknown;
  readonly isSend: boolean;
  readonly signal: AbortSignal | undefined;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #cancel: (id: number) => void;

  constructor(
    id: number,
    isSend: boolean,
    value: unknown,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
    cancel: (id: number) => void,
  ) {
    this.id = id;
    this.isSend = isSend;
    this.value = value;
    this.#resolve = resolve;
    this.#reject = reject;
    this.signal = signal;
    this.#cancel = cancel;
  }

  settle(ok: boolean, result: unknown): void {
    this.signal?.removeEventListener("abort", this);
    if (ok) this.#resolve(result);
    else this.#reject(result);
  }

  /** The abort listener (`{ once: true }`): asks the owner to cancel. */
  handleEvent(): void {
    this.#cancel(this.id);
  }
}

/** A proxy of a channel owned by another thread. */
export class ProxyCore<T> implements ChannelCore<T> {
  readonly id: string;
  readonly capacity: number;
  #port: MessagePort | undefined = undefined;
  #state: LinkState;
  #reason: unknown;
  #nextId = 1;
  readonly #requests = new Map<number, Request>();
  #release: (() => void) | undefined = undefined;

  constructor(data: LinkData) {
    this.id = data.id;
    this.capacity = data.capacity;
    this.#state = data.state;
    this.#reason = decodeReason(data.reason as WireReason);
    const port = data.port;
    if (port === undefined) {
      this.#state = "ended";
    } else if (data.state === "ended") {
      port.close();
    } else {
      this.#port = port;
      port.onmessage = (event: MessageEvent) => {
        this.#onMessage(event.data as unknown[]);
      };
    }
  }

  get closed(): boolean {
    return this.#state !== "open";
  }

  /**
   * Introduces the proxy to the owner. `release` lets go of the link's life
   * lock, which this thread holds (so the owner watches it); `undefined` on
   * the main thread, which never holds one.
   */
  hello(release: (() => void) | undefined): void {
    if (this.#port === undefined) {
      release?.();
      return;
    }
    this.#release = release;
    this.#port.postMessage([HELLO, release !== undefined]);
  }

  send(value: T, signal: AbortSignal | undefined): Promise<void> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state !== "open") {
      return Promise.reject(sendClosedError(value, this.#reason));
    }
    const id = this.#nextId++;
    try {
      (this.#port as MessagePort).postMessage([SEND, id, value]);
    } catch (error) {
      return Promise.reject(notCloneableError(value, "WorkerChannel", error));
    }
    return this.#wait(id, true, value, signal) as Promise<void>;
  }

  receive(signal: AbortSignal | undefined): Promise<T> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state === "ended") {
      return Promise.reject(receiveClosedError(this.#reason));
    }
    const id = this.#nextId++;
    (this.#port as MessagePort).postMessage([RECV, id]);
    return this.#wait(id, false, undefined, signal) as Promise<T>;
  }

  close(reason: unknown): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.#reason = reason;
    (this.#port as MessagePort).postMessage([CLOSE, encodeReason(reason)]);
  }

  toWire(): { data: LinkData; transfer: Transferable[] } {
    const data: LinkData = {
      id: this.id,
      capacity: this.capacity,
      state: this.#state,
      reason: encodeReason(this.#reason),
    };
    if (this.#port === undefined) return { data, transfer: [] };
    // The owner serves the new link directly; this proxy stays usable.
    const { port1, port2 } = new MessageChannel();
    const lock = newLifelineName("worker-channel");
    this.#port.postMessage([ADOPT, port1, lock], [port1]);
    data.port = port2;
    data.lock = lock;
    return { data, transfer: [port2] };
  }

  #wait(
    id: number,
    isSend: boolean,
    value: unknown,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = new Request(
        id,
        isSend,
        value,
        resolve,
        reject,
        signal,
        this.#cancel,
      );
      this.#requests.set(id, request);
      signal?.addEventListener("abort", request, { once: true });
    });
  }

  /**
   * Asks the owner to take request `id` out of its queue. The owner's answer
   * decides: `CANCELLED` if it was still waiting, otherwise the answer that
   * was already on its way (the abort came too late and is ignored).
   */
  #cancel = (id: number): void => {
    if (this.#requests.has(id)) this.#port?.postMessage([CANCEL, id]);
  };

  #take(id: number): Request | undefined {
    const request = this.#requests.get(id);
    if (request !== undefined) this.#requests.delete(id);
    return request;
  }

  #onMessage(message: unknown[]): void {
    const id = message[1] as number;
    switch (message[0]) {
      case SENT:
        this.#take(id)?.settle(true, undefined);
        break;
      case SEND_CLOSED: {
        const request = this.#take(id);
        request?.settle(false, sendClosedError(request.value, this.#reason));
        break;
      }
      case VALUE: {
        const request = this.#take(id);
        if (request === undefined) {
          this.#port?.postMessage([RETURN, id]);
        } else {
          this.#port?.postMessage([ACK, id]);
          request.settle(true, message[2]);
        }
        break;
      }
      case RECV_END:
        this.#take(id)?.settle(false, receiveClosedError(this.#reason));
        break;
      case CANCELLED: {
        const request = this.#take(id);
        request?.settle(false, request.signal?.reason);
        break;
      }
      case CLOSED:
        // The owner's reason wins over one this proxy gave to a later close.
        this.#state = "closed";
        this.#reason = decodeReason(message[1] as WireReason);
        break;
      case END:
        this.#end();
        break;
    }
  }

  /** The channel is closed and drained: answers everything here from now on. */
  #end(): void {
    this.#state = "ended";
    this.#port?.close();
    this.#port = undefined;
    this.#release?.();
    this.#release = undefined;
    const requests = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of requests) {
      request.settle(
        false,
        request.isSend
          ? sendClosedError(request.value, this.#reason)
          : receiveClosedError(this.#reason),
      );
    }
  }
}
