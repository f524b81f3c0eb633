// Copyright the @seed/concurrency authors. MIT license.

import { parseCapacity } from "./_capacity.ts";
import { refuseStructuredClone, registerWireClass } from "../_wire.ts";
import type {
  ChannelOptions,
  ChannelReceiveOptions,
  ChannelSendOptions,
} from "./channel.ts";
import { isWorkerThread } from "../_env.ts";
import { taskWaiting } from "../_task_waiting.ts";
import { holdLifeline } from "../_lifeline.ts";
import { ReceiveIterator } from "./_port_helpers.ts";
import { OwnerCore } from "./_worker_channel_owner.ts";
import { ProxyCore } from "./_worker_channel_proxy.ts";
import {
  type ChannelCore,
  type LinkData,
  WIRE_TYPE,
} from "./_worker_channel_protocol.ts";

/**
 * Options for the {@linkcode WorkerChannel} constructor: the same as
 * {@linkcode ChannelOptions}.
 */
export type WorkerChannelOptions = ChannelOptions;

const RESOLVED: Promise<void> = Promise.resolve();

/** The core a proxy being revived gets, instead of a new owner core. */
let adopting: ChannelCore<unknown> | undefined;
/** `WorkerChannel`'s private `#core`, set by its static block. */
let coreOf: <T>(channel: WorkerChannel<T>) => ChannelCore<T>;
/** The channels this thread owns, by id, to revive one that comes home. */
const owned = new Map<string, WeakRef<WorkerChannel<unknown>>>();
const forget = new FinalizationRegistry<string>((id) => {
  if (owned.get(id)?.deref() === undefined) owned.delete(id);
});

/**
 * A channel that pool tasks can share: a bounded FIFO queue of values, with
 * backpressure, that several workers and the main thread send into and
 * receive from at once, like a `multiprocessing.Queue` passed to processes.
 * Create it, pass it to tasks as an argument (`pool.run(fn, [channel])`),
 * and use the same methods on every side.
 *
 * - **Fairness:** values leave in the order they were sent. Waiting senders
 *   and waiting receivers each form one FIFO queue, in the thread that
 *   created the channel (its owner); a worker's calls join those queues in
 *   the order that worker made them, when its message reaches the owner. The
 *   longest-waiting receiver gets the next value, and the longest-waiting
 *   sender's value goes next into the buffer (or straight to a receiver).
 * - **Cancellation:** every waiting method (`send` and `receive`) takes
 *   `{ signal }`. If `signal` aborts while the call waits, it rejects with
 *   `signal.reason` and leaves the channel as if it had never been called:
 *   it gives up its place in the queue, and no value is taken or delivered.
 *   An abort after the operation completed is ignored. An already aborted
 *   signal rejects at once and does nothing. In a worker, the owner decides
 *   which came first, so the call settles one message round trip after the
 *   abort.
 * - **Close:** {@linkcode WorkerChannel.close}, called on any side, closes
 *   the channel for every side: later sends, and sends already waiting,
 *   reject with `ChannelClosedError` carrying their unsent `value`. Values
 *   already buffered stay for receivers on any side; once they are drained,
 *   `receive()` rejects with `ChannelClosedError` everywhere and `for await`
 *   ends. A close `reason` becomes the errors' `cause` (it crosses threads
 *   in the library's error format), and makes `for await` throw after
 *   draining instead of ending quietly. Once closed and drained, the
 *   channel's ports are closed, so they do not keep any thread alive.
 * - **Misuse:** `close()` twice is a no-op (the first reason stays, on every
 *   side). `send` on a closed channel rejects with `ChannelClosedError`,
 *   never silently dropping the value. A value that structured clone
 *   refuses (a function, a symbol, a class instance with private state)
 *   makes that `send` reject with a `TypeError` naming it. A bad capacity
 *   throws `RangeError`.
 * - **Across workers:** pass the channel in a pool task's arguments or
 *   result, at the top level or nested in arrays, plain objects, Map values
 *   or Set members (cloning it any other way throws `TypeError`); each time,
 *   the owner opens a port for the receiving thread, which gets a proxy
 *   that asks the owner for every call
 *   (pass it to several tasks at once: each gets its own port; a proxy can
 *   be passed on too, and its copy talks to the owner directly). Values are
 *   copied by structured clone, also between tasks of the owner's thread,
 *   so no two sides share an object. A value handed to a worker counts as
 *   received once that worker's proxy acknowledges it; if the worker's
 *   thread ends first (a crash, `self.close()`, a terminated worker), the
 *   owner sees it through a Web Lock the proxy holds, puts the value back
 *   at the head of the channel and drops that worker's waiting calls, so no
 *   value is lost and nobody waits for the dead worker. A value the worker
 *   received before it died is gone with it. The owner's thread must
 *   outlive the channel's use: if the owner is a worker that ends, calls on
 *   other sides never settle. Close the channel when done: a port opened
 *   for a task that never ran (cancelled while queued) stays open, and
 *   keeps the owner's thread alive, until the channel is closed and
 *   drained. `select` takes only the in-loop `Channel`.
 *
 * **Pool size:** tasks that wait on each other through a channel (a producer
 * blocked on a full channel, a consumer waiting for values) must run at the
 * same time, in different workers, so the pool's `size` must be at least the
 * number of such tasks that must run at once. A worker runs one task at a
 * time, and a task that is waiting does not give its worker up. With
 * `size: 1`, a producer and a consumer task deadlock: the producer fills the
 * channel and waits for a receiver, while the consumer waits in the pool's
 * queue behind the producer (`pool.stats.queued` counts it) and never starts.
 * When every worker has waited over a second in a channel operation while
 * tasks wait for a worker, the pool says so once with `console.warn`,
 * naming its size; nothing moves until a side on another thread (here the
 * main thread) receives or closes the channel, or the producer's send is
 * aborted. Either give the pool a worker
 * per task that must run at once (`size: 2` in the first example below) or
 * keep one side on the main thread (the second example). Within that size, a
 * task that receives a channel goes only to an idle worker (what it
 * transfers cannot be moved later), and the pool adds a worker when a busy
 * one stays silent while tasks wait, so a pool with room for both runs them
 * side by side. The same holds for two tasks that talk over a
 * {@linkcode pipe}.
 *
 * @example Producer and consumer in two workers
 * ```ts
 * import { WorkerChannel } from "@seed/concurrency/channels";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 2 });
 * const channel = new WorkerChannel<number>(2);
 * const producer = pool.run(async (channel: WorkerChannel<number>) => {
 *   for (let i = 0; i < 5; i++) await channel.send(i);
 *   channel.close();
 * }, [channel]);
 * const consumer = pool.run(async (channel: WorkerChannel<number>) => {
 *   const received: number[] = [];
 *   for await (const value of channel) received.push(value);
 *   return received;
 * }, [channel]);
 * await producer;
 * assert.deepEqual(await consumer, [0, 1, 2, 3, 4]);
 * ```
 *
 * @example The main thread as consumer
 * ```ts
 * import { WorkerChannel } from "@seed/concurrency/channels";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const results = new WorkerChannel<string>();
 * const task = pool.run(async (results: WorkerChannel<string>) => {
 *   await results.send("first");
 *   await results.send("second");
 *   results.close();
 * }, [results]);
 * const received: string[] = [];
 * for await (const value of results) received.push(value);
 * await task;
 * assert.deepEqual(received, ["first", "second"]);
 * ```
 *
 * @example A stall: producer and consumer tasks in a pool of size 1
 * ```ts
 * import { WorkerChannel } from "@seed/concurrency/channels";
 * import { ChannelClosedError } from "@seed/concurrency/errors";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 }); // too small for two tasks
 * const channel = new WorkerChannel<number>(2);
 * const full = new WorkerChannel<string>(1);
 * const producer = pool.run(
 *   async (channel: WorkerChannel<number>, full: WorkerChannel<string>) => {
 *     await channel.send(0);
 *     await channel.send(1);
 *     await full.send("the buffer is full");
 *     await channel.send(2); // waits for a receiver
 *   },
 *   [channel, full],
 * );
 * const consumer = pool.run(async (channel: WorkerChannel<number>) => {
 *   const received: number[] = [];
 *   for await (const value of channel) received.push(value);
 *   return received;
 * }, [channel]);
 *
 * await full.receive();
 * // The producer holds the only worker and waits for a receiver; the
 * // consumer, which would receive, waits for that worker.
 * assert.equal(pool.stats.queued, 1);
 *
 * // Only another thread can end it: here the main thread closes the channel.
 * channel.close();
 * await assert.rejects(producer, ChannelClosedError); // its value 2 unsent
 * assert.deepEqual(await consumer, [0, 1]); // it ran once the worker was free
 * full.close();
 * ```
 *
 * @typeParam T The type of the values passed through the channel; they must
 *   be structured-cloneable.
 */
export class WorkerChannel<T>
  implements AsyncIterable<T>, Disposable, AsyncDisposable {
  static {
    registerWireClass(WorkerChannel, WIRE_TYPE, {
      // Each encoding opens a new port to the owner for the receiving thread.
      encode: (channel) => channel.#core.toWire(),
      revive: (data) => revive(data as LinkData),
    });
    coreOf = <T>(channel: WorkerChannel<T>) => channel.#core;
  }

  readonly #core: ChannelCore<T>;

  /**
   * Creates a channel owned by this thread that buffers up to `capacity`
   * values.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new WorkerChannel<number>().capacity, 0);
   * assert.equal(new WorkerChannel<number>(8).capacity, 8);
   * assert.equal(new WorkerChannel<number>({ capacity: 8 }).capacity, 8);
   * assert.throws(() => new WorkerChannel<number>(-1), RangeError);
   * ```
   *
   * @param capacity The buffer size as a number, or a
   *   {@linkcode WorkerChannelOptions} object. `0` (the default) makes a
   *   rendezvous channel: each send waits until a receiver takes its value.
   * @throws {TypeError} If `capacity` is neither a number nor an options
   *   object, or its `capacity` field is not a number.
   * @throws {RangeError} If the capacity is not a non-negative safe integer.
   */
  constructor(capacity: number | WorkerChannelOptions = 0) {
    refuseStructuredClone(this);
    if (adopting !== undefined) {
      this.#core = adopting as ChannelCore<T>;
      adopting = undefined;
      return;
    }
    const size = parseCapacity("WorkerChannel", capacity);
    const core = new OwnerCore<T>(size);
    this.#core = core;
    owned.set(core.id, new WeakRef(this as WorkerChannel<unknown>));
    forget.register(this, core.id);
  }

  /**
   * The number of values the channel buffers before `send` waits; `0` for a
   * rendezvous channel. The same on every side.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new WorkerChannel<number>(64).capacity, 64);
   * ```
   *
   * @returns The capacity given to the constructor.
   */
  get capacity(): number {
    return this.#core.capacity;
  }

  /**
   * Whether the channel is closed, as far as this side knows: at once after
   * a `close()` on this side, and once the owner's notice arrives after a
   * `close()` on another side. A closed channel may still hold buffered
   * values for receivers.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>();
   * assert.equal(channel.closed, false);
   * channel.close();
   * assert.equal(channel.closed, true);
   * ```
   *
   * @returns `true` once the channel is known to be closed.
   */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Sends a copy of `value`, waiting while the channel cannot take it.
   * Resolves when a waiting receiver took the value or, on a buffered
   * channel, when the value entered the buffer; on a rendezvous channel that
   * means a receiver (on any side) took it. Waiting sends are served in FIFO
   * order.
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the channel as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>(1);
   * await channel.send(1); // buffered at once
   * const second = channel.send(2); // waits: the buffer is full
   * assert.equal(await channel.receive(), 1); // makes room for 2
   * await second;
   * assert.equal(await channel.receive(), 2);
   * ```
   *
   * @example A value that cannot cross a thread
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<unknown>(1);
   * await assert.rejects(channel.send(() => 1), TypeError);
   * ```
   *
   * @param value The value to send; it must be structured-cloneable.
   * @param options A `signal` to abandon the wait.
   * @returns A promise that resolves once the channel took the value.
   * @throws {ChannelClosedError} If the channel is closed, or closes while
   *   the send waits; the error's `value` is the unsent value and its `cause`
   *   the close reason.
   * @throws {TypeError} If structured clone refuses `value`.
   * @throws {unknown} `signal.reason`, if `signal` aborts before the value
   *   is taken.
   */
  send(value: T, options?: ChannelSendOptions): Promise<void> {
    return taskWaiting(this.#core.send(value, options?.signal));
  }

  /**
   * Receives the next value, waiting while there is none. Waiting receives
   * (on every side) are served in FIFO order. Once the channel is closed and
   * drained, it rejects with `ChannelClosedError` (use `for await` to see the
   * end without an exception).
   *
   * **Cancel safety:** if `signal` aborts while this call waits, it rejects
   * with `signal.reason` and leaves the channel as if it had never been
   * called: it gives up its place in the queue, and no value is taken or
   * delivered. An abort after the operation completed is ignored.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<string>();
   * const receiving = channel.receive(); // waits for a sender
   * await channel.send("hello");
   * assert.equal(await receiving, "hello");
   * ```
   *
   * @example The end of a closed channel
   * ```ts
   * import {
   *   ChannelClosedError,
   *   WorkerChannel,
   * } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>(2);
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
    return taskWaiting(this.#core.receive(options?.signal));
  }

  /**
   * Closes the channel, on every side, so that no more values can be sent.
   * Sends waiting for room reject with `ChannelClosedError`; buffered values
   * remain for receivers; once they are drained, receivers see the end.
   * Closing twice is a no-op: the first reason stays.
   *
   * @example Usage
   * ```ts
   * import {
   *   ChannelClosedError,
   *   WorkerChannel,
   * } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>();
   * const waiting = channel.receive();
   * channel.close(new Error("No more work"));
   * await assert.rejects(waiting, (error) => {
   *   assert.ok(error instanceof ChannelClosedError);
   *   assert.equal((error.cause as Error).message, "No more work");
   *   return true;
   * });
   * ```
   *
   * @param reason Why the channel closed: becomes the `cause` of the
   *   `ChannelClosedError`s that follow, on every side, and makes `for await`
   *   throw instead of ending quietly. Leave it out for a normal end.
   */
  close(reason?: unknown): void {
    this.#core.close(reason);
  }

  /**
   * Iterates over received values until the channel is closed and drained.
   * Each iterator is one more receiver; leaving the loop early gives up its
   * waiting receive (a value already on its way to a worker is still
   * returned by that `next()` rather than lost).
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>(3);
   * await channel.send(1);
   * await channel.send(2);
   * channel.close();
   * const received: number[] = [];
   * for await (const value of channel) received.push(value);
   * assert.deepEqual(received, [1, 2]);
   * ```
   *
   * @returns An async iterator over the channel's values.
   * @throws {ChannelClosedError} From `next()`, once drained, if the channel
   *   was closed with a reason (the error's `cause`).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return new ReceiveIterator((signal) =>
      taskWaiting(this.#core.receive(signal))
    );
  }

  /**
   * Closes the channel, without a reason. Lets `using` close it.
   *
   * @example Usage
   * ```ts
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>();
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
   * import { WorkerChannel } from "@seed/concurrency/channels";
   * import assert from "node:assert/strict";
   *
   * const channel = new WorkerChannel<number>();
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
}

/** Rebuilds a channel that crossed to this thread. */
function revive(
  data: LinkData,
): WorkerChannel<unknown> | Promise<WorkerChannel<unknown>> {
  const home = owned.get(data.id)?.deref();
  if (home !== undefined) {
    // The channel came back to its owner: use it directly.
    data.port?.close();
    if (data.lock !== undefined) {
      (coreOf(home) as OwnerCore<unknown>).dropLink(data.lock);
    }
    return home;
  }
  const core = new ProxyCore<unknown>(data);
  adopting = core;
  const channel = new WorkerChannel<unknown>();
  if (data.lock === undefined || !isWorkerThread()) {
    // Ended already, or on the main thread, whose end is the process's.
    core.hello(undefined);
    return channel;
  }
  // The task starts once the owner can watch this thread's life.
  return holdLifeline(data.lock).then((release) => {
    core.hello(release);
    return channel;
  });
}
