// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Message passing between tasks: Go-style channels and `select`.
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
 * - Channels and pipes between workers (threads): not in this module yet. A
 *   `Channel` holds values in memory of one event loop; it cannot be sent to
 *   a worker.
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
// Cross-worker channels and pipes: another engineer adds their `export *`
// lines here (this marker stays until they do).
