// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { List } from "../_list.ts";
import { RingBuffer } from "../_ring_buffer.ts";
import { parseCapacity } from "./_capacity.ts";
import { registerChannelInternals } from "./_channel_internals.ts";
import {
  receiveClosedError,
  ReceiveWaiter,
  sendClosedError,
  type SendWaiter,
  waitToReceive,
  waitToSend,
} from "./_waiters.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY: ChannelTryReceiveResult<never> = Object.freeze({
  ok: false,
  closed: false,
});
const DRAINED: ChannelTryReceiveResult<never> = Object.freeze({
  ok: false,
  closed: true,
});
const DONE: IteratorReturnResult<undefined> = Object.freeze({
  value: undefined,
  done: true,
});
/** `Channel`'s private `#next`, set by its static block for the iterator. */
let iteratorNext: <T>(
  channel: Channel<T>,
  iterator: ChannelIterator<T>,
) => Promise<IteratorResult<T, undefined>>;

/** Slots the buffer allocates up front at most; it grows on demand. */
const INITIAL_BUFFER_LIMIT = 1024;

/**
 * Options for the {@linkcode Channel} constructor.
 */
export interface ChannelOptions {
  /**
   * How many values the channel holds before `send` waits. `0` makes a
   * rendezvous channel: each send waits until a receiver takes its value.
   * Must be a non-negative safe integer.
   *
   * @default {0}
   */
  capacity?: number;
}

/**
 * Options for {@linkcode Channel.send}.
 */
export interface ChannelSendOptions {
  /**
   * Abandons the send if it aborts before the value is taken. An already
   * aborted signal makes `send` reject at once without sending.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}

/**
 * Options for {@linkcode Channel.receive}.
 */
export interface ChannelReceiveOptions {
  /**
   * Abandons the receive if it aborts before a value arrives. An already
   * aborted signal makes `receive` reject at once without taking a value.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}

/**
 * The result of {@linkcode Channel.tryReceive}. Discriminate on `ok`:
 *
 * - `{ ok: true, value }`: a value was taken.
 * - `{ ok: false, closed: false }`: nothing to take now; the channel is open.
 * - `{ ok: false, closed: true }`: the channel is closed and drained; nothing
 *   will ever arrive.
 *
 * A union rather than `T | undefined`, so `undefined` stays a valid value.
 *
 * @typeParam T The channel's value type.
 */
export type ChannelTryReceiveResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly closed: boolean };

/**
 * A Go-style channel: a FIFO queue of values between tasks of one event loop,
 * bounded by `capacity`, with backpressure on senders and waiting receivers.
 * `new Channel<T>()` is a rendezvous channel like Go's `make(chan T)`;
 * `new Channel<T>(n)` buffers up to `n` values like `make(chan T, n)`.
 * Use `select` to wait on several channels at once.
 *
 * - **Fairness:** values leave in the order they were sent. Waiting senders
 *   and waiting receivers each form one FIFO queue (select cases take their
 *   place in the same queues): the longest-waiting receiver gets the next
 *   value, and the longest-waiting sender's value goes next into the buffer
 *   (or straight to a receiver).
 * - **Cancellation:** every waiting method (`send`, `receive`, and
 *   `select`) takes `{ signal }`. If `signal` aborts while the call waits, it
 *   rejects with `signal.reason` and leaves the channel as if it had never
 *   been called: it gives up its place in the queue, and no value is taken or
 *   delivered. An abort after the operation completed is ignored. An already
 *   aborted signal rejects at once and does nothing.
 * - **Close:** {@linkcode Channel.close} stops sending at once: later sends,
 *   and sends already waiting, reject with `ChannelClosedError`
 *   carrying their unsent `value`. Values already buffered stay for
 *   receivers; once they are drained, `receive()` rejects with
 *   `ChannelClosedError`, `tryReceive()` returns
 *   `{ ok: false, closed: true }` and `for await` ends. A close `reason`
 *   becomes the errors' `cause`, and makes `for await` throw after draining
 *   instead of ending quietly.
 * - **Misuse:** `close()` twice is a no-op (the first reason stays). `send`
 *   on a closed channel rejects and `trySend` throws `ChannelClosedError`,
 *   never silently dropping the value. A bad capacity throws `RangeError`.
 *
 * `receive()` resolves to the value itself and rejects at the end. For a
 * loop that stops quietly at the end, use `for await`; to poll, use
 * `tryReceive()`; to wait on several channels, use `select`, whose receive
 * case reports the end as `ok: false`.
 *
 * @example Producer and consumer
 * ```ts
 * import { Channel } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const channel = new Channel<number>(2);
 * const producer = (async () => {
 *   for (let i = 1; i <= 5; i++) await channel.send(i);
 *   channel.close();
 * })();
 *
 * const received: number[] = [];
 * for await (const value of channel) received.push(value);
 * await producer;
 * assert.deepEqual(received, [1, 2, 3, 4, 5]);
 * ```
 *
 * @example Rendezvous: a send completes only when a receiver takes the value
 * ```ts
 * import { Channel } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const channel = new Channel<string>();
 * let delivered = false;
 * const sent = channel.send("ping").then(() => (delivered = true));
 * await Promise.resolve();
 * assert.equal(delivered, false);
 *
 * assert.equal(await channel.receive(), "ping");
 * await sent;
 * assert.equal(delivered, true);
 * ```
 *
 * @example Closing with `await using`
 * ```ts
 * import { Channel } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * let outer: Channel<number>;
 * {
 *   await using channel = new Channel<number>({ capacity: 1 });
 *   outer = channel;
 *   await channel.send(1);
 * }
 * assert.equal(outer.closed, true);
 * assert.equal(await outer.receive(), 1);
 * ```
 *
 * @typeParam T The type of the values passed through the channel.
 */
export class Channel<T>
  implements AsyncIterable<T>, Disposable, AsyncDisposable {
  static {
    registerChannelInternals({
      addReceiver: (channel, waiter) => channel.#receivers.push(waiter),
      addSender: (channel, waiter) => channel.#senders.push(waiter),
    });
    iteratorNext = (channel, iterator) => channel.#next(iterator);
  }

  readonly #capacity: number;
  readonly #buffer: RingBuffer<T>;
  readonly #receivers: List<ReceiveWaiter<T>> = new List();
  readonly #senders: List<SendWaiter<T>> = new List();
  #state: "open" | "closed" = "open";
  #reason: unknown = undefined;

  /**
   * Creates a channel that buffers up to `capacity` values.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Channel<number>().capacity, 0);
   * assert.equal(new Channel<number>(8).capacity, 8);
   * assert.equal(new Channel<number>({ capacity: 8 }).capacity, 8);
   * assert.throws(() => new Channel<number>(-1), RangeError);
   * ```
   *
   * @param capacity The buffer size as a number, or a
   *   {@linkcode ChannelOptions} object. `0` (the default) makes a rendezvous
   *   channel.
   * @throws {TypeError} If `capacity` is neither a number nor an options
   *   object, or its `capacity` field is not a number.
   * @throws {RangeError} If the capacity is not a non-negative safe integer.
   */
  constructor(capacity: number | ChannelOptions = 0) {
    const size = parseCapacity("Channel", capacity);
    this.#capacity = size;
    this.#buffer = new RingBuffer(Math.min(size, INITIAL_BUFFER_LIMIT));
  }

  /**
   * The number of values the channel buffers before `send` waits; `0` for a
   * rendezvous channel.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Channel<number>(64).capacity, 64);
   * ```
   *
   * @returns The capacity given to the constructor.
   */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * The number of values buffered now, from `0` to `capacity` (always `0`
   * for a rendezvous channel, whose values go straight from sender to
   * receiver). Senders still waiting are not counted. Informational: another
   * task may change it at its next `await`.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(4);
   * await channel.send(1);
   * await channel.send(2);
   * assert.equal(channel.size, 2);
   * await channel.receive();
   * assert.equal(channel.size, 1);
   * ```
   *
   * @returns How many values are buffered.
   */
  get size(): number {
    return this.#buffer.length;
  }

  /**
   * Whether {@linkcode Channel.close} has been called. A closed channel may
   * still hold buffered values for receivers.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>();
   * assert.equal(channel.closed, false);
   * channel.close();
   * assert.equal(channel.closed, true);
   * ```
   *
   * @returns `true` once the channel is closed.
   */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /**
   * Sends `value`, waiting while the channel cannot take it. Resolves when a
   * waiting receiver took the value or, on a buffered channel, when the
   * value entered the buffer; on a rendezvous channel that means a receiver
   * took it. Waiting sends are served in FIFO order.
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the channel as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(1);
   * await channel.send(1); // buffered at once
   * const second = channel.send(2); // waits: the buffer is full
   * assert.equal(await channel.receive(), 1); // makes room for 2
   * await second;
   * assert.equal(await channel.receive(), 2);
   * ```
   *
   * @example Giving up with a signal
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>();
   * const controller = new AbortController();
   * const sending = channel.send(1, { signal: controller.signal });
   * controller.abort(new Error("Too slow"));
   * await assert.rejects(sending, { message: "Too slow" });
   * assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
   * ```
   *
   * @param value The value to send.
   * @param options A `signal` to abandon the wait.
   * @returns A promise that resolves once the channel took the value.
   * @throws {ChannelClosedError} If the channel is closed, or closes while
   *   the send waits; the error's `value` is the unsent value and its `cause`
   *   the close reason.
   * @throws {unknown} `signal.reason`, if `signal` aborts before the value
   *   is taken.
   */
  send(value: T, options?: ChannelSendOptions): Promise<void> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state === "closed") {
      return Promise.reject(sendClosedError(value, this.#reason));
    }
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.deliver(value);
      return RESOLVED;
    }
    if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(value);
      return RESOLVED;
    }
    return waitToSend(this.#senders, value, value, signal);
  }

  /**
   * Receives the next value, waiting while there is none. Waiting receives
   * are served in FIFO order. Once the channel is closed and drained, it
   * rejects with `ChannelClosedError` (use `for await`,
   * `tryReceive()` or `select` to see the end without an exception).
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the channel as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<string>();
   * const receiving = channel.receive(); // waits for a sender
   * await channel.send("hello");
   * assert.equal(await receiving, "hello");
   * ```
   *
   * @example The end of a closed channel
   * ```ts
   * import { Channel, ChannelClosedError } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(2);
   * await channel.send(1);
   * channel.close();
   * assert.equal(await channel.receive(), 1); // buffered values drain first
   * await assert.rejects(channel.receive(), ChannelClosedError);
   * ```
   *
   * @param options A `signal` to abandon the wait.
   * @returns A promise that resolves with the next value.
   * @throws {ChannelClosedError} If the channel is closed and drained, or
   *   closes while the receive waits; its `cause` is the close reason.
   * @throws {unknown} `signal.reason`, if `signal` aborts before a value
   *   arrives.
   */
  receive(options?: ChannelReceiveOptions): Promise<T> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#buffer.length > 0) return Promise.resolve(this.#takeBuffered());
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.accept();
      return Promise.resolve(sender.value);
    }
    if (this.#state === "closed") {
      return Promise.reject(receiveClosedError(this.#reason));
    }
    return waitToReceive(this.#receivers, signal);
  }

  /**
   * Sends `value` only if that needs no wait: a receiver is waiting, or the
   * buffer has room. Never waits and never queues the value.
   *
   * On a closed channel it throws rather than returning `false`, so a retry
   * loop cannot spin forever on a channel that will never take a value.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(1);
   * assert.equal(channel.trySend(1), true);
   * assert.equal(channel.trySend(2), false); // full: 2 stays with the caller
   * assert.equal(await channel.receive(), 1);
   * ```
   *
   * @param value The value to send.
   * @returns `true` if the channel took the value, `false` if it would have
   *   had to wait (the value was not sent).
   * @throws {ChannelClosedError} If the channel is closed; the error's
   *   `value` is `value` and its `cause` the close reason.
   */
  trySend(value: T): boolean {
    if (this.#state === "closed") throw sendClosedError(value, this.#reason);
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.deliver(value);
      return true;
    }
    if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(value);
      return true;
    }
    return false;
  }

  /**
   * Takes the next value only if one is available now: buffered, or offered
   * by a waiting sender. Never waits and never throws.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(1);
   * assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
   * await channel.send(7);
   * channel.close();
   * assert.deepEqual(channel.tryReceive(), { ok: true, value: 7 });
   * assert.deepEqual(channel.tryReceive(), { ok: false, closed: true });
   * ```
   *
   * @returns `{ ok: true, value }` with the value taken; otherwise
   *   `{ ok: false, closed }`, where `closed` says whether the channel is
   *   closed and drained (nothing will ever arrive) or just empty for now.
   */
  tryReceive(): ChannelTryReceiveResult<T> {
    if (this.#buffer.length > 0) {
      return { ok: true, value: this.#takeBuffered() };
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.accept();
      return { ok: true, value: sender.value };
    }
    return this.#state === "closed" ? DRAINED : EMPTY;
  }

  /**
   * Closes the channel. Sends waiting now, and every later send, reject with
   * `ChannelClosedError` carrying their value. Receives drain the
   * buffered values, then see the end: receives waiting now reject at once
   * (a receive only waits when nothing is buffered).
   *
   * A `reason` marks an abnormal end: it becomes the `cause` of every
   * `ChannelClosedError` the channel produces, and makes `for await` and
   * {@linkcode Channel.toReadableStream} fail after draining instead of
   * ending quietly. Closing twice is a no-op; the first reason stays.
   *
   * @example Usage
   * ```ts
   * import { Channel, ChannelClosedError } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>();
   * const waiting = channel.send(1);
   * channel.close();
   * channel.close(); // no-op
   * await assert.rejects(waiting, (error) => {
   *   assert.ok(error instanceof ChannelClosedError);
   *   assert.equal(error.value, 1);
   *   return true;
   * });
   * ```
   *
   * @example Closing with a reason
   * ```ts
   * import { Channel, ChannelClosedError } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(1);
   * await channel.send(1);
   * const failure = new Error("Producer failed");
   * channel.close(failure);
   * const received: number[] = [];
   * await assert.rejects(async () => {
   *   for await (const value of channel) received.push(value);
   * }, (error) => error instanceof ChannelClosedError && error.cause === failure);
   * assert.deepEqual(received, [1]);
   * ```
   *
   * @param reason Why the channel closed; `undefined` (the default) is a
   *   normal close.
   */
  close(reason?: unknown): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#reason = reason;
    let sender: SendWaiter<T> | undefined;
    while ((sender = this.#senders.shift()) !== undefined) sender.fail(reason);
    let receiver: ReceiveWaiter<T> | undefined;
    while ((receiver = this.#receivers.shift()) !== undefined) {
      receiver.end(reason);
    }
  }

  /**
   * Returns an iterator over the values the channel receives, for
   * `for await`. The loop ends once the channel is closed and drained; if it
   * was closed with a reason, the loop throws `ChannelClosedError`
   * with that `cause` instead. Each iterator is one more receiver: several
   * loops over one channel share its values, each value going to one loop.
   * Leaving a loop early (`break`) does not close the channel.
   *
   * **Cancel safety:** `return()` (what `break` calls) gives up the places
   * in the queue of this iterator's waiting `next()` calls, which resolve as
   * done; no value is taken.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<string>(3);
   * await channel.send("a");
   * await channel.send("b");
   * channel.close();
   * assert.deepEqual(await Array.fromAsync(channel), ["a", "b"]);
   * ```
   *
   * @returns A new async iterator receiving from this channel.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return new ChannelIterator(this);
  }

  /**
   * Returns a `ReadableStream` that receives from the channel on demand: it
   * takes a value only when its reader asks for one, so it never holds values
   * taken from the channel. The stream closes once the channel is closed and
   * drained, or errors with `ChannelClosedError` if the channel was
   * closed with a reason. Cancelling the stream gives up its pending receive
   * (no value is lost) and leaves the channel open.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>(2);
   * await channel.send(1);
   * await channel.send(2);
   * channel.close();
   * assert.deepEqual(await Array.fromAsync(channel.toReadableStream()), [1, 2]);
   * ```
   *
   * @returns A new stream of the channel's values.
   */
  toReadableStream(): ReadableStream<T> {
    const cancel = new AbortController();
    const signal = cancel.signal;
    return new ReadableStream<T>({
      pull: async (controller) => {
        let value: T;
        try {
          value = await this.receive({ signal });
        } catch (error) {
          if (signal.aborted) return;
          if (this.#reason === undefined) controller.close();
          else controller.error(error);
          return;
        }
        controller.enqueue(value);
      },
      cancel: (reason) => cancel.abort(reason),
    }, { highWaterMark: 0 });
  }

  /**
   * Closes the channel, without a reason. Lets `using` close it.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>();
   * channel[Symbol.dispose]();
   * assert.equal(channel.closed, true);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Closes the channel, without a reason. Lets `await using` close it.
   *
   * @example Usage
   * ```ts
   * import { Channel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new Channel<number>();
   * await channel[Symbol.asyncDispose]();
   * assert.equal(channel.closed, true);
   * ```
   *
   * @returns A promise that is already resolved.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return RESOLVED;
  }

  /**
   * Takes the front buffered value (the buffer must not be empty) and moves
   * the longest-waiting sender's value into the freed slot.
   */
  #takeBuffered(): T {
    const value = this.#buffer.shift() as T;
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      this.#buffer.push(sender.value);
      sender.accept();
    }
    return value;
  }

  /** `next()` of a {@linkcode ChannelIterator}. */
  #next(iterator: ChannelIterator<T>): Promise<IteratorResult<T, undefined>> {
    if (this.#buffer.length > 0) {
      return Promise.resolve({ value: this.#takeBuffered(), done: false });
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.accept();
      return Promise.resolve({ value: sender.value, done: false });
    }
    if (this.#state === "closed") {
      return this.#reason === undefined
        ? Promise.resolve(DONE)
        : Promise.reject(receiveClosedError(this.#reason));
    }
    return new Promise((resolve, reject) => {
      const waiter = new PendingNext(iterator, resolve, reject);
      this.#receivers.push(waiter);
      iterator.waiting.push(waiter);
    });
  }
}

/** An iterator's `next()` waiting in the channel's receive queue. */
class PendingNext<T> extends ReceiveWaiter<T> {
  readonly #iterator: ChannelIterator<T>;
  readonly #resolve: (result: IteratorResult<T, undefined>) => void;
  readonly #reject: (reason: unknown) => void;

  constructor(
    iterator: ChannelIterator<T>,
    resolve: (result: IteratorResult<T, undefined>) => void,
    reject: (reason: unknown) => void,
  ) {
    super();
    this.#iterator = iterator;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  deliver(value: T): void {
    this.#iterator.settled(this);
    this.#resolve({ value, done: false });
  }

  end(reason: unknown): void {
    this.#iterator.settled(this);
    if (reason === undefined) this.#resolve(DONE);
    else this.#reject(receiveClosedError(reason));
  }

  /** Leaves the queue and resolves as done; `return()` calls it. */
  cancel(): void {
    this.unlink();
    this.#resolve(DONE);
  }
}

/** The iterator of {@linkcode Channel}; each one is a separate receiver. */
class ChannelIterator<T> implements AsyncIterableIterator<T> {
  readonly #channel: Channel<T>;
  #state: "open" | "returned" = "open";
  /** This iterator's `next()` calls still waiting, oldest first. */
  waiting: PendingNext<T>[] = [];

  constructor(channel: Channel<T>) {
    this.#channel = channel;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#state === "returned") return Promise.resolve(DONE);
    return iteratorNext(this.#channel, this);
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#state = "returned";
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) waiter.cancel();
    return Promise.resolve(DONE);
  }

  /** Forgets a waiting `next()` that the channel settled. */
  settled(waiter: PendingNext<T>): void {
    const waiting = this.waiting;
    // Almost always the only (or the oldest) one: FIFO order.
    if (waiting[0] === waiter) {
      if (waiting.length === 1) waiting.pop();
      else waiting.splice(0, 1);
    } else {
      const index = waiting.indexOf(waiter);
      if (index !== -1) waiting.splice(index, 1);
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
