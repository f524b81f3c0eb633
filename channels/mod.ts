// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Message passing between tasks: Go-style channels and `select`, and
 * channels and pipes that cross between workers.
 *
 * Which one to use:
 *
 * - {@linkcode Channel}: a FIFO queue of values between tasks of **one event
 *   loop** (one thread), with backpressure. `new Channel<T>()` is a
 *   rendezvous: each send waits for a receiver. `new Channel<T>(n)` buffers
 *   up to `n` values so a producer can run ahead of its consumer. Use it for
 *   pipelines, fan-out to a fixed set of async workers, or handing results
 *   back. Sends and receives take a `signal`, and `for await` reads until the
 *   channel is closed and drained.
 * - {@linkcode select}: wait on several channel operations at once (receives
 *   and sends, on different channels) and complete exactly one, optionally
 *   with a default case that does not wait. Use it to multiplex inputs, to
 *   send "whichever is free first", or to stop on a quit channel. To wait on
 *   one channel with a timeout, a plain `receive({ signal })` is enough.
 * - {@linkcode WorkerChannel}: the same bounded FIFO queue, shared by
 *   **threads**: pass it to pool tasks as an argument and send and receive
 *   on every side, like a `multiprocessing.Queue`. Any number of producers
 *   and consumers, in any workers and the main thread; closing it on one
 *   side closes it everywhere, and a worker that dies does not take values
 *   with it or leave others waiting. Each call in a worker is a message
 *   round trip to the thread that created the channel, and values are
 *   copied. A `Channel` cannot be sent to a worker; use this instead. For
 *   many small values, send them in batches (arrays). Tasks that wait on
 *   each other through it must run at once, each in its own worker: with a
 *   pool of `size: 1`, a producer task and a consumer task deadlock, the
 *   consumer queued behind the producer (see {@linkcode WorkerChannel}).
 * - {@linkcode pipe}: two connected ends, each of which sends to and
 *   receives from the other, like `multiprocessing.Pipe()`. Use it for a
 *   conversation between exactly two parties (requests and replies, a
 *   worker streaming results to one reader). The ends talk directly, even
 *   worker to worker, so a pipe is cheaper than a `WorkerChannel`; pass an
 *   end before using it, and only once.
 * - `WorkerChannel` and `pipe` work with process workers too (a pool with
 *   `isolation: "process"`, like `multiprocessing`'s `Queue` and `Pipe`):
 *   their messages go through the process that created them, one more hop
 *   each.
 * - To wait on several of these at once, `select` takes only `Channel`s:
 *   pump a `WorkerChannel` or pipe end into a local `Channel` first.
 *
 * For shared state (locks, semaphores, events) rather than passing values,
 * see `@seed/concurrency/sync`.
 *
 * @example A pipeline with a quit channel
 * ```ts
 * import { Channel, select } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const numbers = new Channel<number>(4);
 * const quit = new Channel<void>();
 *
 * const producer = (async () => {
 *   for (let i = 1; ; i++) {
 *     const result = await select({
 *       next: { send: numbers, value: i },
 *       quit: { receive: quit },
 *     });
 *     if (result.case === "quit") break;
 *   }
 *   numbers.close();
 * })();
 *
 * const received: number[] = [];
 * for await (const n of numbers) {
 *   received.push(n);
 *   if (n === 10) quit.close();
 * }
 * await producer;
 * // Every value sent before the producer saw `quit` is received, in order.
 * assert.ok(received.length >= 10);
 * assert.deepEqual(received, received.map((_, i) => i + 1));
 * ```
 *
 * @module
 */
export * from "./channel.ts";
export * from "./select.ts";
export * from "../errors/channel_closed_error.ts";
export * from "./worker_channel.ts";
export * from "./pipe.ts";
