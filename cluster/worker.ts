// Copyright the @seed/concurrency authors. MIT license.

/**
 * The workers' side of a {@linkcode ClusterPool}: a process that takes tasks
 * from a queue on a NATS JetStream server and runs them in a local
 * {@linkcode WorkerPool}, from the command line or embedded in a program.
 *
 * ```sh
 * deno run -A jsr:@seed/concurrency/cluster/worker \
 *   --servers nats://127.0.0.1:4222 --queue jobs --module ./tasks.ts --size 4
 * ```
 *
 * Flags: `--servers` (comma-separated URLs), `--queue`, `--module` (a path or
 * URL, relative to the working directory), and optionally `--size` (local
 * workers, default the number of cores), `--isolation thread|process` (what
 * runs them, default threads), `--max-memory-mb` (with process isolation,
 * each worker's heap limit), `--prefetch` (task messages held at once,
 * default four times the size, at least 16) and `--ack-wait-ms` (the heartbeat deadline,
 * default 30000). `SIGTERM` or `SIGINT` drains: the worker stops taking
 * tasks, finishes and acknowledges what it holds, and exits with status 0; a
 * second signal ends it at once (what it holds runs again elsewhere).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { positiveInteger } from "../_options.ts";
import { describe } from "../errors/_describe.ts";
import { queueNames, serverList } from "./_setup.ts";
import {
  type ClusterWorkerState,
  type ClusterWorkerStats,
  WorkerEngine,
} from "./_worker_engine.ts";

export type { ClusterWorkerState, ClusterWorkerStats };

/** Options for {@linkcode serveQueue}. */
export interface ClusterWorkerOptions {
  /** The NATS server URL, or several URLs of one cluster. */
  servers: string | string[];
  /** The queue to serve: the same name the callers' {@linkcode ClusterPool} uses. */
  queue: string;
  /**
   * The task module's URL (`new URL("./tasks.ts", import.meta.url)`): the
   * same module the callers are typed from, or one with the same exports.
   */
  module: URL | string;
  /**
   * Threads of the local pool that runs the tasks.
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * What runs each task locally: threads, or child processes (see
   * `WorkerPoolOptions.isolation`): with `"process"`, a cancelled task that
   * spins is killed with its process, and `maxMemoryMb` caps each one.
   *
   * @default {"thread"}
   */
  isolation?: "thread" | "process";
  /**
   * With `isolation: "process"`: each local worker's heap limit, in MB.
   *
   * @default {V8's default}
   */
  maxMemoryMb?: number;
  /**
   * Task messages held at once (running, or waiting for a thread). More than
   * `size` keeps threads busy between messages and hides the round trips to
   * the server; each held message is heartbeated, so holding many causes no
   * redeliveries.
   *
   * @default {four times the size, at least 16}
   */
  prefetch?: number;
  /**
   * How long the server waits for a heartbeat from a worker holding a task
   * before it hands the task to another worker: the time a dead worker's
   * tasks take to come back. Workers heartbeat three times per period. It is
   * set on the queue's shared consumer, so the last worker to start sets it
   * for all.
   *
   * @default {30000}
   */
  ackWaitMs?: number;
  /**
   * The name of the connection and of the local pool's threads.
   *
   * @default {"@seed/concurrency cluster worker"}
   */
  name?: string;
}

/**
 * A running cluster worker, as {@linkcode serveQueue} returns it.
 *
 * - **Heartbeat**: every task message it holds is heartbeated (`working()`)
 *   three times per `ackWaitMs`; if the process dies, the server hands its
 *   messages to another worker once the heartbeats stop.
 * - **Drain**: {@linkcode ClusterWorker.drain} stops taking tasks, finishes
 *   the ones it holds, stores their results, acknowledges them and ends.
 * - **Terminate**: {@linkcode ClusterWorker.terminate} ends at once; the
 *   tasks it held run again elsewhere (they are not acknowledged).
 *
 * @example An embedded worker
 * ```ts
 * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * await using server = await startNatsServer();
 * const module = "data:text/javascript,export const twice = (x) => 2 * x;";
 * await using worker = await serveQueue({ servers: server.url, queue: "doc-worker", module, size: 1 });
 * await using pool = new ClusterPool<{ twice(x: number): number }>({ servers: server.url, queue: "doc-worker" });
 * assert.equal(await pool.run("twice", [21]), 42);
 * assert.equal(worker.stats.completed, 1);
 * ```
 */
export class ClusterWorker implements AsyncDisposable {
  readonly #engine: WorkerEngine;

  /**
   * Wraps a started engine; use {@linkcode serveQueue} to make one.
   *
   * @param engine The internal engine.
   *
   * @example Made by serveQueue
   * ```ts ignore
   * const worker = await serveQueue({ servers, queue, module });
   * ```
   */
  constructor(engine: WorkerEngine) {
    this.#engine = engine;
  }

  /**
   * `"serving"`, `"draining"` (finishing what it holds) or `"closed"`.
   *
   * @example After drain
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * const worker = await serveQueue({ servers: server.url, queue: "doc-state", module, size: 1 });
   * assert.equal(worker.state, "serving");
   * await worker.drain();
   * assert.equal(worker.state, "closed");
   * ```
   */
  get state(): ClusterWorkerState {
    return this.#engine.state;
  }

  /**
   * Resolves once the worker has ended, drained or terminated (by a signal,
   * say): what a program serving until stopped awaits.
   *
   * @example Waiting for the end
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * const worker = await serveQueue({ servers: server.url, queue: "doc-closed", module, size: 1 });
   * setTimeout(() => worker.drain(), 0);
   * await worker.closed;
   * assert.equal(worker.state, "closed");
   * ```
   */
  get closed(): Promise<void> {
    return this.#engine.closed;
  }

  /**
   * A snapshot of the worker's activity.
   *
   * @example Nothing held at rest
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * await using worker = await serveQueue({ servers: server.url, queue: "doc-stats", module, size: 1 });
   * assert.equal(worker.stats.held, 0);
   * ```
   */
  get stats(): ClusterWorkerStats {
    return { ...this.#engine.stats };
  }

  /**
   * Stops taking tasks, finishes the ones it holds, stores their results,
   * acknowledges them, closes its local pool and its connection. What
   * `SIGTERM` does to the command-line worker. Calling it again returns the
   * same promise.
   *
   * @returns A promise that resolves when the worker has ended.
   *
   * @example Draining
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * const worker = await serveQueue({ servers: server.url, queue: "doc-drain", module, size: 1 });
   * await worker.drain();
   * assert.equal(worker.state, "closed");
   * ```
   */
  drain(): Promise<void> {
    void this.#engine.drain();
    return this.#engine.closed;
  }

  /**
   * Ends at once, without acknowledging what it holds: the server hands
   * those tasks to another worker once `ackWaitMs` has passed.
   *
   * @returns A promise that resolves when the worker has ended.
   *
   * @example Terminating
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * const worker = await serveQueue({ servers: server.url, queue: "doc-term", module, size: 1 });
   * await worker.terminate();
   * assert.equal(worker.state, "closed");
   * ```
   */
  terminate(): Promise<void> {
    void this.#engine.terminate();
    return this.#engine.closed;
  }

  /**
   * Drains the worker (see {@linkcode ClusterWorker.drain}).
   *
   * @returns A promise that resolves when the worker has ended.
   *
   * @example Scoped worker
   * ```ts
   * import { serveQueue, startNatsServer } from "@seed/concurrency/cluster";
   * import assert from "node:assert/strict";
   *
   * await using server = await startNatsServer();
   * const module = "data:text/javascript,export const one = () => 1;";
   * let outside;
   * {
   *   await using worker = await serveQueue({ servers: server.url, queue: "doc-scope", module, size: 1 });
   *   outside = worker;
   * }
   * assert.equal(outside.state, "closed");
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }
}

/**
 * Serves a queue from this process: connects to the server, creates the
 * queue's streams if they are missing, loads the task module in a local
 * {@linkcode WorkerPool} of `size` threads, and runs the tasks callers send
 * until drained or terminated.
 *
 * @param options Where, which queue, which module, how many threads.
 * @returns The running worker, once the module has loaded and it is taking
 * tasks.
 * @throws {TypeError} If `servers`, `queue` or `module` is malformed.
 * @throws {RangeError} If `size`, `prefetch` or `ackWaitMs` is out of range.
 * @throws {Error} If the server cannot be reached, or the task module fails
 * to load (its error is the `cause`).
 *
 * @example Serving a queue until drained
 * ```ts
 * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * await using server = await startNatsServer();
 * const module = "data:text/javascript,export const add = (a, b) => a + b;";
 * const worker = await serveQueue({ servers: server.url, queue: "doc-serve", module, size: 2 });
 * {
 *   await using pool = new ClusterPool<{ add(a: number, b: number): number }>({
 *     servers: server.url,
 *     queue: "doc-serve",
 *   });
 *   assert.equal(await pool.run("add", [2, 3]), 5);
 * }
 * await worker.drain();
 * ```
 */
export async function serveQueue(
  options: ClusterWorkerOptions,
): Promise<ClusterWorker> {
  const what = "serve queue";
  const servers = serverList(options?.servers, what);
  const names = queueNames(options.queue, what);
  const module = options.module;
  if (
    !(module instanceof URL) &&
    (typeof module !== "string" || !URL.canParse(module))
  ) {
    throw new TypeError(
      `Cannot ${what} as 'module' must be a URL or an absolute URL string: received ${
        describe(module)
      }`,
    );
  }
  const size = options.size === undefined
    ? navigator.hardwareConcurrency
    : positiveInteger("size", options.size, false, what);
  const prefetch = options.prefetch === undefined
    ? Math.max(16, size * 4)
    : positiveInteger("prefetch", options.prefetch, false, what);
  const ackWaitMs = options.ackWaitMs === undefined
    ? 30_000
    : positiveInteger("ackWaitMs", options.ackWaitMs, false, what);
  const engine = new WorkerEngine({
    servers,
    names,
    module,
    size,
    isolation: options.isolation,
    maxMemoryMb: options.maxMemoryMb,
    prefetch,
    ackWaitMs,
    name: options.name ?? "@seed/concurrency cluster worker",
  });
  await engine.start();
  return new ClusterWorker(engine);
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      servers: { type: "string" },
      queue: { type: "string" },
      module: { type: "string" },
      size: { type: "string" },
      isolation: { type: "string" },
      "max-memory-mb": { type: "string" },
      prefetch: { type: "string" },
      "ack-wait-ms": { type: "string" },
    },
  });
  const number = (text: string | undefined) =>
    text === undefined ? undefined : Number(text);
  const base = new URL(`file://${Deno.cwd()}/`);
  const options: ClusterWorkerOptions = {
    servers: values.servers?.split(",") ?? [],
    queue: values.queue ?? "",
    module: new URL(values.module ?? "", base),
  };
  for (
    const [key, flag] of [
      ["size", "size"],
      ["maxMemoryMb", "max-memory-mb"],
      ["prefetch", "prefetch"],
      ["ackWaitMs", "ack-wait-ms"],
    ] as const
  ) {
    const value = number(values[flag]);
    if (value !== undefined) options[key] = value;
  }
  if (values.isolation !== undefined) {
    options.isolation = values.isolation as "thread" | "process";
  }
  if (values.module === undefined) {
    throw new TypeError("Cannot serve queue as '--module' is missing");
  }
  const worker = await serveQueue(options);
  // The first signal drains; a second one (a task that never ends) terminates.
  const drain = () =>
    void (worker.state === "serving" ? worker.drain() : worker.terminate());
  Deno.addSignalListener("SIGTERM", drain);
  Deno.addSignalListener("SIGINT", drain);
  console.log(
    `serving queue ${options.queue} (pid ${Deno.pid}, ${
      options.size ?? navigator.hardwareConcurrency
    } ${options.isolation === "process" ? "processes" : "threads"})`,
  );
  await worker.closed;
  Deno.removeSignalListener("SIGTERM", drain);
  Deno.removeSignalListener("SIGINT", drain);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(error);
    Deno.exit(1);
  }
}
