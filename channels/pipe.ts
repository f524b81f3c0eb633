// Copyright the @seed/concurrency authors. MIT license.

import { isWorkerThread } from "../_env.ts";
import { taskWaiting } from "../_task_waiting.ts";
import { holdLifeline, newLifelineName, watchLifeline } from "../_lifeline.ts";
import { List } from "../_list.ts";
import { RingBuffer } from "../_ring_buffer.ts";
import { refuseStructuredClone, registerWireClass } from "../_wire.ts";
import { describe } from "../errors/_describe.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import type { ChannelReceiveOptions, ChannelSendOptions } from "./channel.ts";
import {
  decodeReason,
  encodeReason,
  notCloneableError,
  ReceiveIterator,
  type WireReason,
} from "./_port_helpers.ts";
import {
  receiveClosedError,
  type ReceiveWaiter,
  sendClosedError,
  type SendWaiter,
  waitToReceive,
  waitToSend,
} from "./_waiters.ts";

// The messages between the two ends, over their MessageChannel:
//   [VALUE, value]      a value sent by the other end
//   [CREDIT, n]         the other end received n more values: n more may go
//   [CLOSE, reason]     the other end closed; its last message but CLOSE_ACK
//   [CLOSE_ACK]         the other end read our CLOSE
//   [HELLO, lock]       the other end runs in a worker and holds `lock`
const VALUE = 0;
const CREDIT = 1;
const CLOSE = 2;
const CLOSE_ACK = 3;
const HELLO = 4;

const WIRE_TYPE = "PipeEnd";
const DEFAULT_CAPACITY = 16;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Options for {@linkcode pipe}.
 */
export interface PipeOptions {
  /**
   * How many values one end may send that the other end has not received
   * yet, in each direction. When they are all outstanding, `send` waits
   * (backpressure). A positive integer, or `Infinity` for no bound.
   *
   * @default {16}
   */
  capacity?: number;
}

/** The `data` of a pipe end's wire form. */
interface EndData {
  capacity: number;
  /** Absent when the end was closed before it crossed. */
  port?: MessagePort;
  reason?: WireReason;
}

/** The port a pipe end being revived gets. */
let adopting: EndData | undefined;
/** `PipeEnd`'s private `#announce`, set by its static block. */
let announce: (end: PipeEnd<unknown, unknown>) => Promise<void>;

/**
 * Creates a pipe: two connected ends, each able to send and receive, like
 * Python's `multiprocessing.Pipe()`. What one end sends, the other end
 * receives, in order. Pass either end (or both) to pool tasks, and keep or
 * pass the other: the ends talk to each other directly over a
 * `MessageChannel`, worker to worker without the main thread relaying.
 *
 * @example A worker answers the main thread
 * ```ts
 * import { pipe, type PipeEnd } from "@seed/concurrency/channels";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const [here, there] = pipe<string>();
 * const task = pool.run(async (end: PipeEnd<string>) => {
 *   const question = await end.receive();
 *   await end.send(`${question} Yes.`);
 *   end.close();
 * }, [there]);
 * await here.send("Are you there?");
 * assert.equal(await here.receive(), "Are you there? Yes.");
 * await task;
 * ```
 *
 * @example Two ends in one thread
 * ```ts
 * import { pipe } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = pipe<number, string>();
 * await a.send(1);
 * await b.send("one");
 * assert.equal(await b.receive(), 1);
 * assert.equal(await a.receive(), "one");
 * a.close();
 * b.close();
 * ```
 *
 * @typeParam A What the first end sends and the second end receives.
 * @typeParam B What the second end sends and the first end receives.
 * @param options The {@linkcode PipeOptions}: the `capacity` in each
 *   direction.
 * @returns The two ends.
 * @throws {TypeError} If `options` is not an object, or its `capacity` is
 *   not a number.
 * @throws {RangeError} If the capacity is not a positive integer or
 *   `Infinity`.
 */
export function pipe<A, B = A>(
  options?: PipeOptions,
): [PipeEnd<A, B>, PipeEnd<B, A>] {
  if (
    options !== undefined && (typeof options !== "object" || options === null)
  ) {
    throw new TypeError(
      `Cannot create pipe as 'options' must be an object: received ${
        describe(options)
      }`,
    );
  }
  const capacity: unknown = options?.capacity ?? DEFAULT_CAPACITY;
  if (typeof capacity !== "number") {
    throw new TypeError(
      `Cannot create pipe as 'capacity' must be a number: received ${
        describe(capacity)
      }`,
    );
  }
  if (
    capacity !== Infinity && (!Number.isSafeInteger(capacity) || capacity < 1)
  ) {
    throw new RangeError(
      `Cannot create pipe as 'capacity' must be a positive integer or Infinity: received ${capacity}`,
    );
  }
  const { port1, port2 } = new MessageChannel();
  adopting = { capacity, port: port1 };
  const a = new PipeEnd<A, B>();
  adopting = { capacity, port: port2 };
  const b = new PipeEnd<B, A>();
  if (isWorkerThread()) {
    // If this worker dies holding an end, the other end should know.
    // Without the lock, the other end only misses this worker's death.
    announce(a as PipeEnd<unknown, unknown>).catch(() => {});
    announce(b as PipeEnd<unknown, unknown>).catch(() => {});
  }
  return [a, b];
}

/**
 * One end of a {@linkcode pipe}: it sends values to the other end and
 * receives the values the other end sends (a duplex connection, one FIFO
 * queue in each direction).
 *
 * - **Fairness:** each direction is FIFO: values arrive in the order they
 *   were sent. Calls waiting on one end form FIFO queues: the
 *   longest-waiting `receive` gets the next value, and the longest-waiting
 *   `send` goes next once the other end makes room.
 * - **Cancellation:** every waiting method (`send` and `receive`) takes
 *   `{ signal }`. If `signal` aborts while the call waits, it rejects with
 *   `signal.reason` and leaves the pipe as if it had never been called: it
 *   gives up its place in the queue, and no value is taken or delivered. An
 *   abort after the operation completed is ignored. An already aborted
 *   signal rejects at once and does nothing.
 * - **Close:** {@linkcode PipeEnd.close} closes the connection, both
 *   directions, like closing a socket. This end can no longer send or
 *   receive (its calls reject with `ChannelClosedError`), and values sent to
 *   it that it had not received are dropped. The other end still receives
 *   what this end sent before closing; then its `receive()` rejects with
 *   `ChannelClosedError`, its `for await` ends, and its sends reject with
 *   `ChannelClosedError` carrying the unsent value. A close `reason`
 *   becomes the errors' `cause` on both ends and makes `for await` throw.
 *   If the worker holding the other end dies without closing it, this end
 *   sees a close whose reason is a `WorkerCrashedError`.
 * - **Misuse:** `close()` twice is a no-op (the first reason stays). A send
 *   after the close rejects, never silently dropping the value (but a value
 *   sent before this end learned that the other end closed is dropped with
 *   the other end). A value that structured clone refuses makes that `send`
 *   reject with a `TypeError` naming it. Using an end after passing it to a
 *   task, or passing it twice, throws `TypeError`.
 * - **Across workers:** pass an end in a pool task's arguments or result (at
 *   the top level or nested in arrays, plain objects, Map values or Set
 *   members; cloning it any other way throws `TypeError`), before using it
 *   in this thread: its port moves to the receiving thread (a port that has
 *   started receiving cannot move),
 *   and this object can no longer be used. The thread that receives the end
 *   can use it, or pass it on if it has not used it. Values are copied by
 *   structured clone. An end passed to a task that never runs (cancelled
 *   while queued, or refused by the pool) is lost without a close, and so is
 *   an end whose worker dies before the task starts: the other end is not
 *   told, so give its waits a `signal`, or close it, to stop waiting.
 *   Two tasks that talk over a pipe must run at once, each in its own
 *   worker: with a pool of `size: 1` the second waits in the queue behind
 *   the first, which waits for it (see {@linkcode WorkerChannel}'s
 *   **Pool size**); keep one end on the main thread, as below, or make the
 *   pool large enough.
 *
 * @example Pass one end, keep the other
 * ```ts
 * import { pipe, type PipeEnd } from "@seed/concurrency/channels";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const [parent, child] = pipe<string>();
 * const sender = pool.run(async (end: PipeEnd<string>) => {
 *   await end.send("Hello from the sender!");
 *   end.close();
 * }, [child]);
 * const received: string[] = [];
 * for await (const message of parent) received.push(message);
 * await sender;
 * assert.deepEqual(received, ["Hello from the sender!"]);
 * ```
 *
 * @typeParam TSend What this end sends.
 * @typeParam TReceive What this end receives.
 */
export class PipeEnd<TSend, TReceive = TSend>
  implements AsyncIterable<TReceive>, Disposable, AsyncDisposable {
  static {
    registerWireClass(PipeEnd, WIRE_TYPE, {
      encode: (end) => end.#toWire(),
      revive: (data) => revive(data as EndData),
    });
    announce = (end) => end.#announce();
  }

  readonly #capacity: number;
  #port: MessagePort | undefined;
  /**
   * `"idle"`: not used in this thread yet, so it can move; `"open"`: in use
   * here; `"moved"`: passed to another thread; `"closed"`: closed by this
   * end.
   */
  #state: "idle" | "open" | "moved" | "closed";
  /** Whether the other end closed (or its thread ended). */
  #peer: "open" | "closed" = "open";
  #reason: unknown = undefined;
  readonly #inbox = new RingBuffer<TReceive>();
  readonly #receivers = new List<ReceiveWaiter<TReceive>>();
  readonly #senders = new List<SendWaiter<TSend>>();
  /** How many more values may be sent before the other end makes room. */
  #credit: number;
  /** Values received that the other end has not been told about yet. */
  #owed = 0;
  /** Releases this thread's lifeline for the end, once announced. */
  #release: (() => void) | undefined = undefined;
  /** Stops watching the other end's lifeline. */
  #watch: AbortController | undefined = undefined;

  /**
   * Not for direct use: ends come from {@linkcode pipe}.
   *
   * @example Usage
   * ```ts
   * import { PipeEnd } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new PipeEnd(), TypeError);
   * ```
   *
   * @throws {TypeError} Always, when called directly.
   */
  constructor() {
    const data = adopting;
    adopting = undefined;
    if (data === undefined) {
      throw new TypeError(
        "Cannot create PipeEnd directly: call pipe() to get two connected ends",
      );
    }
    refuseStructuredClone(this);
    this.#capacity = data.capacity;
    this.#credit = data.capacity;
    this.#port = data.port;
    if (data.port === undefined) {
      this.#state = "closed";
      this.#reason = decodeReason(data.reason);
    } else {
      this.#state = "idle";
    }
  }

  /**
   * How many values this end may send that the other end has not received
   * yet, before `send` waits.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>({ capacity: 4 });
   * assert.equal(a.capacity, 4);
   * assert.equal(b.capacity, 4);
   * ```
   *
   * @returns The capacity given to {@linkcode pipe}.
   */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Whether the connection is closed, as far as this end knows: this end
   * was closed, or the other end's close (or death) has arrived. Values
   * received before the other end closed may still wait to be read.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>();
   * assert.equal(a.closed, false);
   * a.close();
   * assert.equal(a.closed, true);
   * b.close();
   * ```
   *
   * @returns `true` once the connection is known to be closed.
   */
  get closed(): boolean {
    return this.#state === "closed" || this.#peer === "closed";
  }

  /**
   * Sends a copy of `value` to the other end. Resolves at once while fewer
   * than `capacity` values are outstanding (sent, not yet received by the
   * other end); otherwise waits until the other end receives one. Waiting
   * sends go in FIFO order.
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the pipe as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>({ capacity: 1 });
   * await a.send(1); // within capacity: resolves at once
   * const second = a.send(2); // waits until b receives 1
   * assert.equal(await b.receive(), 1);
   * await second;
   * assert.equal(await b.receive(), 2);
   * a.close();
   * ```
   *
   * @param value The value to send; it must be structured-cloneable.
   * @param options A `signal` to abandon the wait.
   * @returns A promise that resolves once the value is on its way.
   * @throws {ChannelClosedError} If either end is closed, or the other end
   *   closes while the send waits; the error's `value` is the unsent value
   *   and its `cause` the close reason.
   * @throws {TypeError} If structured clone refuses `value`, or this end was
   *   passed to another thread.
   * @throws {unknown} `signal.reason`, if `signal` aborts before the value
   *   is sent.
   */
  send(value: TSend, options?: ChannelSendOptions): Promise<void> {
    return taskWaiting(this.#send(value, options));
  }

  #send(value: TSend, options?: ChannelSendOptions): Promise<void> {
    if (this.#state === "moved") return Promise.reject(movedError("send on"));
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.closed) {
      return Promise.reject(sendClosedError(value, this.#reason));
    }
    this.#start();
    if (this.#credit > 0 && this.#senders.size === 0) {
      try {
        (this.#port as MessagePort).postMessage([VALUE, value]);
      } catch (error) {
        return Promise.reject(notCloneableError(value, "pipe", error));
      }
      this.#credit--;
      return RESOLVED;
    }
    try {
      structuredClone(value);
    } catch (error) {
      return Promise.reject(notCloneableError(value, "pipe", error));
    }
    return waitToSend(this.#senders, value, value, signal);
  }

  /**
   * Receives the next value the other end sent, waiting while there is
   * none. Waiting receives are served in FIFO order. Once the other end has
   * closed and every value it sent has been received, it rejects with
   * `ChannelClosedError` (use `for await` to see the end without an
   * exception).
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the pipe as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { ChannelClosedError, pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<string>();
   * await a.send("last words");
   * a.close();
   * assert.equal(await b.receive(), "last words");
   * await assert.rejects(b.receive(), ChannelClosedError);
   * ```
   *
   * @param options A `signal` to abandon the wait.
   * @returns A promise that resolves with the next value.
   * @throws {ChannelClosedError} If this end is closed, or the other end
   *   closed and everything it sent was received; its `cause` is the close
   *   reason.
   * @throws {TypeError} If this end was passed to another thread.
   * @throws {unknown} `signal.reason`, if `signal` aborts before a value
   *   arrives.
   */
  receive(options?: ChannelReceiveOptions): Promise<TReceive> {
    return taskWaiting(this.#receive(options));
  }

  #receive(options?: ChannelReceiveOptions): Promise<TReceive> {
    if (this.#state === "moved") {
      return Promise.reject(movedError("receive from"));
    }
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state === "closed") {
      return Promise.reject(receiveClosedError(this.#reason));
    }
    this.#start();
    if (this.#inbox.length > 0) return Promise.resolve(this.#take());
    if (this.#peer === "closed") {
      return Promise.reject(receiveClosedError(this.#reason));
    }
    return waitToReceive(this.#receivers, signal);
  }

  /**
   * Closes the connection: this end stops sending and receiving, and the
   * other end, once it has received what this end sent, sees the end.
   * Closing twice is a no-op: the first reason stays.
   *
   * @example Usage
   * ```ts
   * import { ChannelClosedError, pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>();
   * a.close(new Error("Done"));
   * await assert.rejects(b.receive(), (error) => {
   *   assert.ok(error instanceof ChannelClosedError);
   *   assert.equal((error.cause as Error).message, "Done");
   *   return true;
   * });
   * ```
   *
   * @param reason Why the connection closed: becomes the `cause` of the
   *   `ChannelClosedError`s that follow, on both ends, and makes `for await`
   *   throw instead of ending quietly. Leave it out for a normal end.
   * @throws {TypeError} If this end was passed to another thread (close it
   *   there).
   */
  close(reason?: unknown): void {
    if (this.#state === "moved") throw movedError("close");
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#inbox.drain();
    if (this.#peer === "closed") {
      this.#dispose();
      return;
    }
    this.#reason = reason;
    this.#failWaiters();
    (this.#port as MessagePort).postMessage([CLOSE, encodeReason(reason)]);
    if (this.#release === undefined) {
      this.#dispose();
    } else {
      // The other end watches this thread's lock: keep it until the other
      // end has read the close, so that it does not take the close for a
      // death (which would drop what this end sent before it).
      this.#start();
    }
  }

  /**
   * Iterates over received values until the other end closes and its
   * values are drained. Leaving the loop early gives up its waiting
   * receive; the values stay for later calls.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>();
   * await a.send(1);
   * await a.send(2);
   * a.close();
   * const received: number[] = [];
   * for await (const value of b) received.push(value);
   * assert.deepEqual(received, [1, 2]);
   * ```
   *
   * @returns An async iterator over the values received.
   * @throws {ChannelClosedError} From `next()`, once drained, if the pipe
   *   was closed with a reason (the error's `cause`).
   * @throws {TypeError} From `next()`, if this end was passed to another
   *   thread.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<TReceive> {
    return new ReceiveIterator((signal) => this.receive({ signal }));
  }

  /**
   * Closes this end, without a reason. Lets `using` close it. Does nothing
   * if the end was passed to another thread.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>();
   * a[Symbol.dispose]();
   * assert.equal(a.closed, true);
   * b.close();
   * ```
   */
  [Symbol.dispose](): void {
    if (this.#state !== "moved") this.close();
  }

  /**
   * Closes this end, without a reason. Lets `await using` close it. Does
   * nothing if the end was passed to another thread.
   *
   * @example Usage
   * ```ts
   * import { pipe } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const [a, b] = pipe<number>();
   * await a[Symbol.asyncDispose]();
   * assert.equal(a.closed, true);
   * b.close();
   * ```
   *
   * @returns A promise that is already resolved.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return RESOLVED;
  }

  /**
   * The form in which the end crosses to another thread (the wire encoding,
   * registered in the static block). The end's port moves with it, so this
   * object can no longer be used.
   *
   * @throws {TypeError} If the end was passed already, or has been used in
   *   this thread.
   */
  #toWire(): { data: EndData; transfer?: Transferable[] } {
    if (this.#state === "moved") {
      throw new TypeError(
        "Cannot pass the pipe end to a worker as it was passed already: an end can be passed once (its new holder may pass it on)",
      );
    }
    if (this.#state === "open") {
      throw new TypeError(
        "Cannot pass the pipe end to a worker as it has been used in this thread: pass an end before sending or receiving on it",
      );
    }
    const data: EndData = { capacity: this.#capacity };
    if (this.#state === "closed") {
      data.reason = encodeReason(this.#reason);
      return { data };
    }
    // Keep a lock this thread announced: the other end watches it until it
    // reads the new holder's announcement.
    const port = this.#port as MessagePort;
    this.#port = undefined;
    this.#state = "moved";
    data.port = port;
    return { data, transfer: [port] };
  }

  // ---- internals ---------------------------------------------------------

  /** Starts receiving on the port (after which it can no longer move). */
  #start(): void {
    if (this.#state === "idle") this.#state = "open";
    const port = this.#port;
    if (port !== undefined && port.onmessage === null) {
      port.onmessage = (event: MessageEvent) => {
        this.#onMessage(event.data as unknown[]);
      };
    }
  }

  /**
   * Takes a lock for as long as this thread holds the end and tells the
   * other end, which then notices if this thread dies.
   */
  #announce(): Promise<void> {
    const lock = newLifelineName("pipe");
    return holdLifeline(lock).then((release) => {
      const port = this.#port;
      if (
        port === undefined || this.#state === "closed" ||
        this.#peer === "closed"
      ) {
        release();
        return;
      }
      this.#release = release;
      port.postMessage([HELLO, lock]);
    });
  }

  #onMessage(message: unknown[]): void {
    switch (message[0]) {
      case VALUE: {
        if (this.#state === "closed") break; // Dropped: this end closed.
        const value = message[1] as TReceive;
        const receiver = this.#receivers.shift();
        if (receiver === undefined) {
          this.#inbox.push(value);
        } else {
          receiver.deliver(value);
          this.#owe();
        }
        break;
      }
      case CREDIT:
        this.#credit += message[1] as number;
        this.#flushSenders();
        break;
      case CLOSE:
        this.#port?.postMessage([CLOSE_ACK]);
        this.#peerClosed(decodeReason(message[1] as WireReason));
        break;
      case CLOSE_ACK:
        // The other end read this end's close: nothing more will come.
        this.#dispose();
        break;
      case HELLO: {
        if (this.#state === "closed" || this.#peer === "closed") break;
        this.#watch?.abort();
        const watch = new AbortController();
        this.#watch = watch;
        watchLifeline(message[1] as string, watch.signal, () => {
          this.#peerClosed(
            new WorkerCrashedError(
              "The worker holding the other end of the pipe ended without closing it",
            ),
          );
        });
        break;
      }
    }
  }

  /** The other end closed (or died): its values still drain here. */
  #peerClosed(reason: unknown): void {
    if (this.#peer === "closed") return;
    this.#peer = "closed";
    if (this.#state === "closed") {
      // Both ends closed at once: nothing more will come.
      this.#dispose();
      return;
    }
    this.#reason = reason;
    this.#failWaiters();
    this.#dispose();
  }

  /** Rejects waiting sends, and waiting receives (the inbox is empty). */
  #failWaiters(): void {
    const reason = this.#reason;
    for (
      let s = this.#senders.shift();
      s !== undefined;
      s = this.#senders.shift()
    ) {
      s.fail(reason);
    }
    for (
      let r = this.#receivers.shift();
      r !== undefined;
      r = this.#receivers.shift()
    ) {
      r.end(reason);
    }
  }

  /** Lets go of the port, the lock and the watch. */
  #dispose(): void {
    this.#port?.close();
    this.#port = undefined;
    this.#watch?.abort();
    this.#watch = undefined;
    this.#release?.();
    this.#release = undefined;
  }

  /** Takes the next value from the inbox (which must not be empty). */
  #take(): TReceive {
    const value = this.#inbox.shift() as TReceive;
    this.#owe();
    return value;
  }

  /** Counts a received value, and tells the other end in batches. */
  #owe(): void {
    if (this.#capacity === Infinity || this.#peer === "closed") return;
    this.#owed++;
    if (
      this.#inbox.length === 0 || this.#owed * 2 >= this.#capacity
    ) {
      this.#port?.postMessage([CREDIT, this.#owed]);
      this.#owed = 0;
    }
  }

  /** Sends waiting values while there is credit. */
  #flushSenders(): void {
    while (this.#credit > 0) {
      const sender = this.#senders.shift();
      if (sender === undefined) return;
      (this.#port as MessagePort).postMessage([VALUE, sender.value]);
      this.#credit--;
      sender.accept();
    }
  }
}

function movedError(what: string): TypeError {
  return new TypeError(
    `Cannot ${what} the pipe end as it was passed to another thread: use it there`,
  );
}

/** Rebuilds a pipe end that crossed to this thread. */
function revive(
  data: EndData,
): PipeEnd<unknown, unknown> | Promise<PipeEnd<unknown, unknown>> {
  adopting = data;
  const end = new PipeEnd<unknown, unknown>();
  if (data.port === undefined || !isWorkerThread()) return end;
  // The task starts once the other end can notice this thread's death.
  return announce(end).then(() => end);
}
