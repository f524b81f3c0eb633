// Copyright the @seed/concurrency authors. MIT license.

/**
 * {@linkcode ClusterPool}: the {@linkcode WorkerPool} API across machines, on
 * a NATS JetStream queue served by {@linkcode serveQueue} workers.
 *
 * @module
 */

import { positiveInteger } from "../_options.ts";
import { settleFuture } from "../_future_internals.ts";
import { describe } from "../errors/_describe.ts";
import type { Unreachable } from "../_unreachable.ts";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import { Future } from "../future.ts";
import type {
  MapTaskName,
  TaskArgs,
  TaskModule,
  TaskName,
  TaskResult,
} from "../pool.ts";
import { Caller, type Sink } from "./_caller.ts";
import { clusterImap, clusterMap, mapChunk } from "./_map.ts";
import { queueNames, serverList } from "./_setup.ts";
import type { ClusterPoolState, ClusterPoolStats } from "./_types.ts";

export type { ClusterPoolState, ClusterPoolStats } from "./_types.ts";
export type { DurationSummary } from "../_summary.ts";

/** Options for {@linkcode ClusterPool}. */
export interface ClusterPoolOptions {
  /** The NATS server URL, or several URLs of one cluster. */
  servers: string | string[];
  /** The queue's name, as the workers serve it: letters, digits, `-`, `_`. */
  queue: string;
  /**
   * The most calls (a `run`, or a chunk of a `map`) sent and not settled.
   * More wait here, first come first served, and go as calls settle.
   *
   * @default {1024}
   */
  maxInFlight?: number;
  /**
   * How many times a task may be handed to a worker. A task whose worker
   * dies (stops heartbeating) is handed to another; one handed out more
   * often than this fails with {@linkcode WorkerCrashedError}.
   *
   * @default {3}
   */
  maxDeliveries?: number;
  /**
   * The connection's name, as the server's monitoring shows it.
   *
   * @default {"@seed/concurrency cluster pool"}
   */
  name?: string;
}

/** Options for one {@linkcode ClusterPool.run} or {@linkcode ClusterPool.submit}. */
export interface ClusterPoolRunOptions {
  /**
   * Cancels the call: a queued task is removed from the queue, a running one
   * is aborted on its worker (its task sees `currentTask().signal`). The call
   * rejects with `signal.reason` at once.
   */
  signal?: AbortSignal;
}

/** The rest parameters of `run`/`submit`: `args` may be left out when the task takes none. */
export type ClusterPoolRunRest<A extends unknown[]> = [] extends A
  ? [args?: A, options?: ClusterPoolRunOptions]
  : [args: A, options?: ClusterPoolRunOptions];

/** Options for {@linkcode ClusterPool.map}. */
export interface ClusterPoolMapOptions {
  /** Cancels every chunk still queued or running; `map` rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Items per message. Each chunk goes to one worker process, which spreads
   * it over its threads. A chunk of many items that takes more than 512 KiB
   * is split in halves until it fits.
   *
   * @default {a 32nd of the items, from 1 to 32768}
   */
  chunkSize?: number;
}

/** Options for {@linkcode ClusterPool.imap} and {@linkcode ClusterPool.imapUnordered}. */
export interface ClusterPoolIMapOptions {
  /** Cancels the chunks in flight; the iteration throws `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Items per message.
   *
   * @default {from 1, then about 10 ms of work per chunk, up to 4096 items}
   */
  chunkSize?: number;
  /**
   * The most chunks read from the input and not yet yielded.
   *
   * @default {16}
   */
  maxInFlight?: number;
}

const SINK_FOR =
  (resolve: (v: unknown) => void, reject: (e: unknown) => void): Sink =>
  (ok, value) => ok ? resolve(value) : reject(value);

/**
 * A pool whose workers are processes on other machines: the
 * {@linkcode WorkerPool} API (`run`, `submit`, `map`, `imap`,
 * `imapUnordered`, `signal`, `stats`, `close`) over a NATS JetStream queue.
 * Each worker process ({@linkcode serveQueue}, or `cluster/worker.ts` from
 * the command line) runs tasks in its own local pool.
 *
 * - **At least once**: a task runs at least once, and may run more than
 *   once. A worker acknowledges a task only after its result is stored; a
 *   worker that dies mid-task stops heartbeating and the server hands the
 *   task to another worker. So tasks should be idempotent (running one twice
 *   must do no harm), as with Celery's late acks. A task handed out more
 *   than `maxDeliveries` times fails with {@linkcode WorkerCrashedError}.
 * - **Exactly one result**: each call settles once, with the first result
 *   that comes; a second one from a redelivery is dropped (counted in
 *   `stats.duplicates`).
 * - **Errors** cross as in the local pool: class, name, message, the remote
 *   stack, `cause` chain and own fields. A crash inside a task (its thread
 *   dies) rejects with `WorkerCrashedError`; the worker process goes on.
 * - **Cancellation**: a call's `signal` or `Future.cancel()` removes a queued
 *   task from the server and aborts a running one on whichever machine holds
 *   it (the task sees `currentTask().signal`).
 * - **Backpressure**: at most `maxInFlight` calls are sent and unsettled;
 *   more wait here. `map` and `imap` send chunks, not one message per item.
 * - **Restarts**: tasks and results are kept in the server's file store; a
 *   server restart loses neither, and pools and workers reconnect by
 *   themselves. Calls made while the server is away wait.
 * - **Tasks** are named exports of the workers' task module (inline
 *   functions cannot travel), typed from the module like `WorkerPool`'s.
 *
 * @typeParam M The task module's type, `typeof import("./tasks.ts")`.
 *
 * @example Squares on a worker process
 * ```ts
 * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * await using server = await startNatsServer();
 * const module = "data:text/javascript,export const square = (x) => x * x;";
 * await using _worker = await serveQueue({ servers: server.url, queue: "doc-pool", module, size: 1 });
 * await using pool = new ClusterPool<{ square(x: number): number }>({
 *   servers: server.url,
 *   queue: "doc-pool",
 * });
 * assert.deepEqual(await pool.map("square", [1, 2, 3]), [1, 4, 9]);
 * ```
 */
export class ClusterPool<M extends TaskModule = Record<never, never>>
  implements AsyncDisposable {
  readonly #caller: Caller;
  #closing: Promise<void> | undefined;

  /**
   * Creates a pool and starts connecting. Calls made before the connection
   * is up wait for it; if the first connection fails, the pool is
   * `"broken"` and every call rejects with the reason.
   *
   * @param options Servers, queue and limits.
   * @throws {TypeError} If `servers` or `queue` is malformed.
   * @throws {RangeError} If `queue`, `maxInFlight` or `maxDeliveries` is out of range.
   *
   * @example Creating a pool
   * ```ts
   * import { ClusterPool, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * await using pool = new ClusterPool({ servers: server.url, queue: "doc-new" });
   * await pool.ready();
   * assert.equal(pool.state, "open");
   * ```
   */
  constructor(options: ClusterPoolOptions) {
    const what = "create cluster pool";
    const servers = serverList(options?.servers, what);
    const names = queueNames(options.queue, what);
    this.#caller = new Caller({
      servers,
      names,
      maxInFlight: options.maxInFlight === undefined
        ? 1024
        : positiveInteger("maxInFlight", options.maxInFlight, false, what),
      maxDeliveries: options.maxDeliveries === undefined
        ? 3
        : positiveInteger("maxDeliveries", options.maxDeliveries, false, what),
      name: options.name ?? "@seed/concurrency cluster pool",
    });
  }

  /**
   * The pool's lifecycle state (see {@linkcode ClusterPoolState}).
   *
   * @example Closed after close()
   * ```ts
   * import { ClusterPool, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const pool = new ClusterPool({ servers: server.url, queue: "doc-state" });
   * await pool.close();
   * assert.equal(pool.state, "closed");
   * ```
   */
  get state(): ClusterPoolState {
    return this.#caller.state;
  }

  /**
   * A snapshot of the pool's calls: waiting, in flight, outcomes, duplicates
   * dropped, and round-trip times.
   *
   * @example Counting
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-stats", module, size: 1 });
   * await using pool = new ClusterPool<{ one(): number }>({ servers: server.url, queue: "doc-stats" });
   * await pool.run("one");
   * assert.equal(pool.stats.completed, 1);
   * assert.equal(pool.stats.inFlight, 0);
   * ```
   */
  get stats(): ClusterPoolStats {
    return this.#caller.stats();
  }

  /**
   * Resolves once the pool has connected and set up its queue.
   *
   * @param options `signal` bounds the wait.
   * @returns A promise that resolves when the pool is connected.
   * @throws {Error} If the server cannot be reached (its error is the `cause`).
   * @throws {unknown} `signal.reason`, if the signal aborts first.
   *
   * @example Waiting for the connection
   * ```ts
   * import { ClusterPool, startNatsServer } from "@seed/concurrency/cluster";
   *
   * await using server = await startNatsServer();
   * await using pool = new ClusterPool({ servers: server.url, queue: "doc-ready" });
   * await pool.ready({ signal: AbortSignal.timeout(10_000) });
   * ```
   */
  ready(options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (signal === undefined) return this.#caller.ready;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#caller.ready.then(resolve, reject).finally(() =>
        signal.removeEventListener("abort", onAbort)
      );
    });
  }

  #check(verb: string, task: unknown): string {
    if (typeof task !== "string") {
      throw new TypeError(
        `Cannot ${verb} a task that is not a name: a cluster pool runs the task module's exports by name, received ${
          describe(task)
        }`,
      );
    }
    const state = this.#caller.state;
    if (state === "broken") throw this.#caller.loadError;
    if (state === "closing" || state === "closed") {
      throw new PoolClosedError(
        `Cannot ${verb} ${task} as the pool is ${state}`,
      );
    }
    return task;
  }

  #args(task: string, args: unknown): unknown[] {
    const list = args ?? [];
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot run ${task} as its arguments must be an array: received ${
          describe(args)
        }`,
      );
    }
    return list;
  }

  /**
   * Runs one task on a worker and resolves to its result.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a function the task module exports.
   * @param rest The task's arguments as an array, then {@linkcode ClusterPoolRunOptions}.
   * @returns The task's result.
   * @throws {PoolClosedError} If the pool is closing or closed.
   * @throws {TypeError} If `task` is not a name, an argument cannot be
   * cloned, or the workers' module has no such task.
   * @throws {WorkerCrashedError} If the task crashed its thread, or was
   * handed out more than `maxDeliveries` times.
   * @throws {unknown} The task's own error, rebuilt with its class and
   * fields, or `signal.reason`.
   *
   * @example One call
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const add = (a, b) => a + b;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-run", module, size: 1 });
   * await using pool = new ClusterPool<{ add(a: number, b: number): number }>({
   *   servers: server.url,
   *   queue: "doc-run",
   * });
   * assert.equal(await pool.run("add", [2, 3], { signal: AbortSignal.timeout(30_000) }), 5);
   * ```
   */
  run<K extends TaskName<M>>(
    task: K,
    ...rest: ClusterPoolRunRest<TaskArgs<M, K>>
  ): Promise<TaskResult<M, K>>;
  run(
    this: Unreachable,
    task: string,
    args?: unknown[],
    options?: ClusterPoolRunOptions,
  ): Promise<unknown> {
    const self = this as unknown as ClusterPool<M>;
    try {
      const name = self.#check("run", task);
      const list = self.#args(name, args);
      options?.signal?.throwIfAborted();
      const { promise, resolve, reject } = Promise.withResolvers<unknown>();
      self.#caller.call(
        name,
        "run",
        list,
        SINK_FOR(resolve, reject),
        options?.signal,
      );
      return promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Submits one task and returns a {@linkcode Future} at once;
   * `future.cancel()` cancels it as a `signal` would.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a function the task module exports.
   * @param rest The task's arguments, then {@linkcode ClusterPoolRunOptions}.
   * @returns A future of the task's result; it rejects as `run` would.
   *
   * @example Submitting and cancelling
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const twice = (x) => 2 * x;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-submit", module, size: 1 });
   * await using pool = new ClusterPool<{ twice(x: number): number }>({
   *   servers: server.url,
   *   queue: "doc-submit",
   * });
   * const kept = pool.submit("twice", [4]);
   * const dropped = pool.submit("twice", [5]);
   * dropped.cancel();
   * assert.equal(await kept, 8);
   * assert.equal(dropped.state, "cancelled");
   * ```
   */
  submit<K extends TaskName<M>>(
    task: K,
    ...rest: ClusterPoolRunRest<TaskArgs<M, K>>
  ): Future<TaskResult<M, K>>;
  submit(
    this: Unreachable,
    task: string,
    args?: unknown[],
    options?: ClusterPoolRunOptions,
    // deno-lint-ignore no-explicit-any
  ): Future<any> {
    const self = this as unknown as ClusterPool<M>;
    const future = new Future<unknown>();
    try {
      const name = self.#check("submit", task);
      const list = self.#args(name, args);
      options?.signal?.throwIfAborted();
      const call = self.#caller.call(
        name,
        "run",
        list,
        (ok, value) => settleFuture(future, ok, value),
        options?.signal,
      );
      future.onSettled((f) => {
        if (f.state === "cancelled") self.#caller.cancel(call, f.error);
      });
    } catch (error) {
      settleFuture(future, false, error);
    }
    return future;
  }

  /**
   * Runs a task on every item and resolves to the results in input order.
   * Items travel in chunks (a message each); each chunk runs on one worker
   * process, spread over its threads. If a chunk fails, `map` rejects with
   * its error and the other chunks are cancelled.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a one-argument function the task module exports.
   * @param items The items (any iterable).
   * @param options `chunkSize` and `signal`.
   * @returns The results, in input order.
   * @throws {TypeError} If `items` is not iterable, or an item cannot be cloned.
   * @throws {PoolClosedError} If the pool is closing or closed.
   * @throws {unknown} The first chunk's error, or `signal.reason`.
   *
   * @example Squares
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const square = (x) => x * x;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-map", module, size: 2 });
   * await using pool = new ClusterPool<{ square(x: number): number }>({
   *   servers: server.url,
   *   queue: "doc-map",
   * });
   * const numbers = Array.from({ length: 1000 }, (_, i) => i);
   * const squares = await pool.map("square", numbers, { chunkSize: 100 });
   * assert.equal(squares[999], 998001);
   * ```
   */
  map<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]>,
    options?: ClusterPoolMapOptions,
  ): Promise<TaskResult<M, K>[]>;
  async map(
    this: Unreachable,
    task: string,
    items: Iterable<unknown>,
    options: ClusterPoolMapOptions = {},
  ): Promise<unknown[]> {
    const self = this as unknown as ClusterPool<M>;
    const name = self.#check("map", task);
    if (typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(
        `Cannot map ${name} as 'items' is not iterable: received ${
          describe(items)
        }`,
      );
    }
    options.signal?.throwIfAborted();
    const array = Array.isArray(items) ? items : Array.from(items);
    const chunkSize = options.chunkSize === undefined
      ? mapChunk(array.length)
      : positiveInteger("chunkSize", options.chunkSize, false, "map");
    return await clusterMap(
      self.#caller,
      name,
      array,
      chunkSize,
      options.signal,
    );
  }

  /**
   * Runs a task on every item of a (possibly endless, possibly async)
   * iterable and yields the results in input order, with at most
   * `maxInFlight` chunks read and not yet yielded. Breaking out of the loop
   * cancels the chunks in flight.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a one-argument function the task module exports.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in input order.
   * @throws {TypeError} If `items` is not iterable.
   * @throws {unknown} The first chunk's error, or `signal.reason`, from the iteration.
   *
   * @example Streaming over a generator
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const square = (x) => x * x;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-imap", module, size: 1 });
   * await using pool = new ClusterPool<{ square(x: number): number }>({
   *   servers: server.url,
   *   queue: "doc-imap",
   * });
   * function* naturals() {
   *   for (let n = 1; ; n++) yield n;
   * }
   * const out: number[] = [];
   * for await (const square of pool.imap("square", naturals())) {
   *   out.push(square);
   *   if (out.length === 5) break;
   * }
   * assert.deepEqual(out, [1, 4, 9, 16, 25]);
   * ```
   */
  imap<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: ClusterPoolIMapOptions,
  ): AsyncIterableIterator<TaskResult<M, K>>;
  imap(
    this: Unreachable,
    task: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: ClusterPoolIMapOptions = {},
  ): AsyncIterableIterator<unknown> {
    const self = this as unknown as ClusterPool<M>;
    return self.#imap("imap", task, items, options, true);
  }

  /**
   * Like {@linkcode ClusterPool.imap}, but yields each chunk's results as
   * soon as they come, whatever their place in the input.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a one-argument function the task module exports.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in completion order.
   * @throws {TypeError} If `items` is not iterable.
   * @throws {unknown} The first chunk's error, or `signal.reason`, from the iteration.
   *
   * @example Summing in any order
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const twice = (x) => 2 * x;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-unordered", module, size: 1 });
   * await using pool = new ClusterPool<{ twice(x: number): number }>({
   *   servers: server.url,
   *   queue: "doc-unordered",
   * });
   * let sum = 0;
   * for await (const x of pool.imapUnordered("twice", [1, 2, 3])) sum += x;
   * assert.equal(sum, 12);
   * ```
   */
  imapUnordered<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: ClusterPoolIMapOptions,
  ): AsyncIterableIterator<TaskResult<M, K>>;
  imapUnordered(
    this: Unreachable,
    task: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: ClusterPoolIMapOptions = {},
  ): AsyncIterableIterator<unknown> {
    const self = this as unknown as ClusterPool<M>;
    return self.#imap("imapUnordered", task, items, options, false);
  }

  async *#imap(
    verb: string,
    task: string,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: ClusterPoolIMapOptions,
    ordered: boolean,
  ): AsyncIterableIterator<unknown> {
    const name = this.#check(verb, task);
    const source =
      typeof (items as AsyncIterable<unknown>)?.[Symbol.asyncIterator] ===
          "function"
        ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : typeof (items as Iterable<unknown>)?.[Symbol.iterator] === "function"
        ? (items as Iterable<unknown>)[Symbol.iterator]()
        : undefined;
    if (source === undefined) {
      throw new TypeError(
        `Cannot ${verb} ${name} as 'items' is not iterable or async iterable: received ${
          describe(items)
        }`,
      );
    }
    yield* clusterImap(this.#caller, name, source, {
      chunkSize: options.chunkSize === undefined
        ? undefined
        : positiveInteger("chunkSize", options.chunkSize, false, verb),
      maxInFlight: options.maxInFlight === undefined
        ? 16
        : positiveInteger("maxInFlight", options.maxInFlight, false, verb),
      signal: options.signal,
      ordered,
    });
  }

  /**
   * Finishes every call made so far (they keep their results), then deletes
   * this pool's result consumer and closes the connection. New calls reject
   * with {@linkcode PoolClosedError} from the moment it is called. Calling it
   * again returns the same promise.
   *
   * @param options `signal` bounds the wait: if it aborts first, the pool is
   * terminated and `close()` rejects with `signal.reason`.
   * @returns A promise that resolves when the pool has closed.
   * @throws {unknown} `signal.reason`, if the signal aborted first.
   *
   * @example Closing after the work
   * ```ts
   * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * await using _worker = await serveQueue({ servers: server.url, queue: "doc-close", module, size: 1 });
   * const pool = new ClusterPool<{ one(): number }>({ servers: server.url, queue: "doc-close" });
   * const result = pool.run("one");
   * await pool.close({ signal: AbortSignal.timeout(30_000) });
   * assert.equal(await result, 1);
   * ```
   */
  close(options?: { signal?: AbortSignal }): Promise<void> {
    this.#closing ??= this.#caller.close();
    const signal = options?.signal;
    if (signal === undefined) return this.#closing;
    const aborted = () =>
      this.terminate().then(() => {
        throw signal.reason;
      });
    if (signal.aborted) return aborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => aborted().then(resolve, reject);
      signal.addEventListener("abort", onAbort, { once: true });
      (this.#closing as Promise<void>).then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, reject);
    });
  }

  /**
   * Ends now: calls not settled reject with {@linkcode PoolClosedError}, and
   * those on workers are cancelled there.
   *
   * @returns A promise that resolves when the pool has ended.
   *
   * @example Terminating with a call pending
   * ```ts
   * import { ClusterPool, startNatsServer } from "@seed/concurrency/cluster";
   * import { PoolClosedError } from "@seed/concurrency/errors";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const pool = new ClusterPool<{ never(): void }>({ servers: server.url, queue: "doc-terminate" });
   * const pending = pool.run("never"); // no worker serves this queue
   * await pool.terminate();
   * await assert.rejects(pending, PoolClosedError);
   * ```
   */
  terminate(): Promise<void> {
    return this.#caller.terminate();
  }

  /**
   * Closes the pool (see {@linkcode ClusterPool.close}).
   *
   * @returns A promise that resolves when the pool has closed.
   *
   * @example Scoped pool
   * ```ts
   * import { ClusterPool, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * let outside: ClusterPool | undefined;
   * {
   *   await using pool = new ClusterPool({ servers: server.url, queue: "doc-scope" });
   *   outside = pool;
   * }
   * assert.equal(outside.state, "closed");
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
