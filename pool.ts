// Copyright the @seed/concurrency authors. MIT license.

/**
 * A pool of Web Workers that runs tasks in parallel: the `multiprocessing.Pool`
 * and `concurrent.futures.ProcessPoolExecutor` of Deno.
 *
 * ```text
 *  run / submit / map / imap                       worker (one thread each)
 *          |                                      +------------------------+
 *          v                                      | _worker.ts             |
 *   +--------------+   batch of tasks (1 message) |  loads the task module |
 *   | Scheduler    | ---------------------------> |  runs tasks in order   |
 *   |  FIFO queue  |                              |  batches results       |
 *   |  workers     | <--------------------------- |  reports its own death |
 *   +--------------+   batch of results           +------------------------+
 *          |      \                                    ^        |
 *          |       `--- control block (shared memory) -'        |
 *          |            running task id, cancellations          |
 *          v                                                    |
 *   settle the caller's promise / future     lifeline Web Lock: freed when
 *   (once, whatever happens)                 the worker's thread ends
 * ```
 *
 * @module
 */

import {
  FN_NAME,
  FN_SOURCE,
  MODE_CALL,
  MODE_CHUNK,
  MODE_F64,
  MODE_WIRE,
} from "./_protocol.ts";
import { type PoolStats, Scheduler } from "./_scheduler.ts";
import { Task, type TaskSink } from "./_task.ts";
import { encodeAll } from "./_wire.ts";
import { describe } from "./errors/_describe.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { Future } from "./future.ts";
import type { TaskContext } from "./task.ts";

export type { PoolStats } from "./_scheduler.ts";
export type { DurationSummary } from "./_summary.ts";

/** The permissions a pool's workers run with. */
export type WorkerPermissions =
  | "inherit"
  | "none"
  | Deno.PermissionOptionsObject;

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * The most workers that run at once. Workers start on demand, one at a
   * time, so a pool never starts more workers than its work needs.
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * The most tasks that may wait in the queue. When it is full, `run` and
   * `submit` wait for room (backpressure) instead of growing memory.
   *
   * @default {Infinity}
   */
  maxQueue?: number;
  /**
   * Replace a worker after it has run this many tasks (each `map` chunk
   * counts as one), to bound leaks in task code.
   *
   * @default {Infinity}
   */
  maxTasksPerWorker?: number;
  /**
   * Stop a worker that has been idle this long; it comes back on demand.
   * Idle workers keep the process alive, so a pool that is never closed lets
   * the program exit this long after its last task. `Infinity` keeps workers
   * until `close()`.
   *
   * @default {10000}
   */
  idleTimeoutMs?: number;
  /**
   * How long a cancelled running task has to stop before its worker is
   * terminated and replaced.
   *
   * @default {1000}
   */
  abortGraceMs?: number;
  /**
   * The Deno permissions of the workers: `"inherit"` (the process's),
   * `"none"`, or an object such as `{ read: ["./data"], net: false }`. A
   * sandbox for untrusted task code. Anything but `"inherit"` needs Deno's
   * `--unstable-worker-options` flag, and permissions cannot exceed the
   * process's own.
   *
   * @default {"inherit"}
   */
  permissions?: WorkerPermissions;
  /**
   * A name for the pool's workers, shown in stack traces and debuggers.
   *
   * @default {"@seed/concurrency pool"}
   */
  name?: string;
}

/** Options for one call of {@linkcode WorkerPool.run} or {@linkcode WorkerPool.submit}. */
export interface RunOptions {
  /**
   * Cancels the task: a queued task is removed; a running task sees the abort
   * (see {@linkcode TaskContext}) and gets `abortGraceMs` to stop. The call
   * rejects with `signal.reason` at once. `AbortSignal.timeout(ms)` gives a
   * per-task timeout.
   */
  signal?: AbortSignal;
  /**
   * Objects in the arguments to move to the worker instead of copying
   * (`ArrayBuffer`s, `MessagePort`s, streams). They become unusable here.
   */
  transfer?: readonly Transferable[];
}

/** Options for {@linkcode WorkerPool.map}. */
export interface MapOptions {
  /** Cancels every item still queued or running; `map` rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * How many items go to a worker in one task, like Python's `chunksize`.
   * Larger chunks cost less per item; smaller ones balance uneven work.
   *
   * @default {about a quarter of the items per worker}
   */
  chunkSize?: number;
}

/** Options for {@linkcode WorkerPool.imap} and {@linkcode WorkerPool.imapUnordered}. */
export interface IMapOptions {
  /** Cancels the items in flight; the iteration throws `signal.reason`. */
  signal?: AbortSignal;
  /**
   * How many items go to a worker in one task.
   *
   * @default {adapts to the items' run time, from 1}
   */
  chunkSize?: number;
  /**
   * The most chunks read from the input and not yet yielded. This bounds
   * memory however long (or endless) the input is.
   *
   * @default {twice the pool size}
   */
  maxInFlight?: number;
}

/** A module's exported functions, as a pool's task module offers them. */
// deno-lint-ignore no-explicit-any
export type TaskModule = Record<string, any>;

/** The names of a task module's exported functions. */
export type TaskName<M> =
  & {
    // deno-lint-ignore no-explicit-any
    [K in keyof M]: M[K] extends (...args: any[]) => unknown ? K : never;
  }[keyof M]
  & string;

/** The parameters of task `K` of module `M`. */
export type TaskArgs<M, K extends keyof M> = M[K] extends (
  ...args: infer A
) => unknown ? A
  : never;

/** The awaited result of task `K` of module `M`. */
export type TaskResult<M, K extends keyof M> = M[K] extends (
  // deno-lint-ignore no-explicit-any
  ...args: any[]
) => infer R ? Awaited<R>
  : never;

/**
 * A self-contained function to run in a worker. It is sent as source code, so
 * it must not use variables from its enclosing scope (pass them as
 * arguments). A `function` expression gets the {@linkcode TaskContext} as
 * `this`.
 */
export type InlineTask<A extends unknown[], R> = (
  this: TaskContext,
  ...args: A
) => R;

/** The rest parameters of `run`/`submit`: `args` may be left out when the task takes none. */
export type RunRest<A extends unknown[]> = [] extends A
  ? [args?: A, options?: RunOptions]
  : [args: A, options?: RunOptions];

const DEFAULT_NAME = "@seed/concurrency pool";
const WORKER_URL = new URL("./_worker.ts", import.meta.url).href;

/**
 * A pool of workers that runs tasks in parallel, with futures, streaming map,
 * cancellation, backpressure and crash recovery.
 *
 * - **Tasks** come from a task module, whose exported functions are the tasks
 *   (names and argument types checked from the module's type), or are inline
 *   self-contained functions, for notebook-style code. Sync and async
 *   functions both work.
 * - **Order**: tasks start in the order they were submitted; `map` and `imap`
 *   give results in input order, `imapUnordered` as they complete.
 * - **Errors** keep their class, name, message, worker stack, `cause` chain
 *   and own fields (see `@seed/concurrency/errors`). A value that cannot be
 *   cloned fails only its own call, with an error that names it.
 * - **Crash recovery**: when a worker dies (an uncaught error outside a task,
 *   an unhandled rejection, `self.close()`, `Deno.exit()`), the task it was
 *   running rejects with {@linkcode WorkerCrashedError} (its `cause` says
 *   why), tasks it held but had not started run on another worker, and a new
 *   worker takes its place. Unlike Python's `BrokenProcessPool`, one crash
 *   never breaks the pool.
 * - **Cancellation**: a call's `signal` (or `Future.cancel()`) removes a
 *   queued task; a running task sees the abort through
 *   {@linkcode TaskContext} and has `abortGraceMs` to stop, after which its
 *   worker is terminated and replaced. The call rejects with `signal.reason`
 *   at once. Deno 2.9 cannot stop a thread busy in a synchronous loop
 *   (`terminate()` leaves it running until the loop ends), so CPU-bound tasks
 *   should check `currentTask().aborted` (or `this.aborted` inline); such
 *   still-running abandoned workers are counted in `stats.abandonedWorkers`.
 * - **Close**: `close()` finishes queued work, then ends every worker;
 *   `terminate()` ends now and rejects what is pending with
 *   {@linkcode PoolClosedError}; `await using` closes at the end of the block.
 *   Both resolve once every worker thread has ended.
 *
 * @typeParam M The task module's type, `typeof import("./tasks.ts")`.
 *
 * @example The notebook's `Pool(4).map(square, range(10))`
 * ```ts
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 4 });
 * const squares = await pool.map((x: number) => x * x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * assert.deepEqual(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
 * ```
 *
 * @example Tasks from a module, checked by TypeScript
 * ```ts ignore
 * // tasks.ts
 * export function square(x: number): number {
 *   return x * x;
 * }
 *
 * // main.ts
 * import { WorkerPool } from "@seed/concurrency";
 * await using pool = new WorkerPool<typeof import("./tasks.ts")>(
 *   new URL("./tasks.ts", import.meta.url),
 *   { size: 4 },
 * );
 * const nine: number = await pool.run("square", [3]);
 * ```
 */
export class WorkerPool<M extends TaskModule = Record<never, never>>
  implements AsyncDisposable {
  readonly #scheduler: Scheduler;
  readonly #moduleUrl: string | null;
  readonly #blobUrl: string | undefined;
  readonly #inline = new WeakMap<object, number>();
  #closing: Promise<void> | undefined;

  /**
   * Creates a pool for inline task functions.
   *
   * @param options Pool options.
   * @throws {RangeError} If `size`, `maxQueue`, `maxTasksPerWorker`,
   * `idleTimeoutMs` or `abortGraceMs` is out of range.
   * @throws {TypeError} If `permissions` is not a permissions value.
   *
   * @example A pool of four workers
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 4 });
   * assert.equal(pool.size, 4);
   * ```
   */
  constructor(options?: WorkerPoolOptions);
  /**
   * Creates a pool whose tasks are the functions exported by a module.
   *
   * @param module The task module's URL: `new URL("./tasks.ts",
   * import.meta.url)`. Relative paths are not accepted.
   * @param options Pool options.
   * @throws {TypeError} If `module` is not a URL or URL string.
   * @throws {RangeError} If an option is out of range.
   *
   * @example A pool over a task module
   * ```ts ignore
   * import { WorkerPool } from "@seed/concurrency";
   *
   * await using pool = new WorkerPool<typeof import("./tasks.ts")>(
   *   new URL("./tasks.ts", import.meta.url),
   * );
   * ```
   */
  constructor(module: URL | string, options?: WorkerPoolOptions);
  constructor(
    moduleOrOptions?: URL | string | WorkerPoolOptions,
    maybeOptions?: WorkerPoolOptions,
  ) {
    let moduleUrl: string | null = null;
    let options: WorkerPoolOptions;
    if (typeof moduleOrOptions === "string" || moduleOrOptions instanceof URL) {
      moduleUrl = parseModuleUrl(moduleOrOptions);
      options = maybeOptions ?? {};
    } else if (
      moduleOrOptions === undefined || isPlainObject(moduleOrOptions)
    ) {
      options = moduleOrOptions ?? {};
    } else {
      throw new TypeError(
        `Cannot create pool as the first argument must be a task module URL or an options object: received ${
          describe(moduleOrOptions)
        }`,
      );
    }
    const size = positiveInteger(
      "size",
      options.size ?? navigator.hardwareConcurrency ?? 1,
    );
    const maxQueue = positiveInteger(
      "maxQueue",
      options.maxQueue ?? Infinity,
      true,
    );
    const maxTasksPerWorker = positiveInteger(
      "maxTasksPerWorker",
      options.maxTasksPerWorker ?? Infinity,
      true,
    );
    const idleTimeoutMs = nonNegative(
      "idleTimeoutMs",
      options.idleTimeoutMs ?? 10_000,
    );
    const abortGraceMs = nonNegative(
      "abortGraceMs",
      options.abortGraceMs ?? 1_000,
    );
    const permissions = parsePermissions(options.permissions);
    let entryUrl = WORKER_URL;
    if (permissions !== undefined && moduleUrl !== null) {
      // Restricted workers cannot import() local files, but static imports of
      // their entry module load: a tiny entry imports both.
      const source = `import * as tasks from ${JSON.stringify(moduleUrl)};\n` +
        `import { startWorker } from ${JSON.stringify(WORKER_URL)};\n` +
        `startWorker(tasks);\n`;
      this.#blobUrl = URL.createObjectURL(
        new Blob([source], { type: "text/javascript" }),
      );
      entryUrl = this.#blobUrl;
    }
    this.#moduleUrl = moduleUrl;
    this.#scheduler = new Scheduler({
      size,
      maxQueue,
      maxTasksPerWorker,
      idleTimeoutMs,
      abortGraceMs,
      spec: {
        entryUrl,
        moduleUrl,
        permissions,
        name: options.name ?? DEFAULT_NAME,
      },
    });
  }

  /**
   * The most workers the pool runs at once.
   *
   * @example Reading the size
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * assert.equal(pool.size, 2);
   * ```
   */
  get size(): number {
    return this.#scheduler.config.size;
  }

  /**
   * Whether the pool accepts work (`"open"`), is finishing its queue after
   * `close()` (`"closing"`), or has ended (`"closed"`).
   *
   * @example After close
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const pool = new WorkerPool({ size: 1 });
   * await pool.close();
   * assert.equal(pool.state, "closed");
   * ```
   */
  get state(): "open" | "closing" | "closed" {
    return this.#scheduler.state;
  }

  /**
   * A snapshot of the pool's activity: workers, queue, outcomes, and
   * run-time and wait-time summaries.
   *
   * @example Counting completed tasks
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 1 });
   * await pool.run((a: number, b: number) => a + b, [1, 2]);
   * assert.equal(pool.stats.completed, 1);
   * assert.equal(pool.stats.runTimeMs.count, 1);
   * ```
   */
  get stats(): PoolStats {
    return this.#scheduler.stats();
  }

  /**
   * Runs one task in a worker and resolves to its result.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a function the task module exports.
   * @param rest The task's arguments as an array (checked against the
   * function's parameters), then {@linkcode RunOptions}.
   * @returns The task's result.
   * @throws {PoolClosedError} If the pool is closed or closing.
   * @throws {TypeError} If the task name is unknown (the error lists the
   * module's tasks), or an argument or the result cannot be cloned.
   * @throws {WorkerCrashedError} If the worker died while running the task.
   * @throws {unknown} The task's own error, rebuilt with its class and fields,
   * or `signal.reason` if the call was cancelled.
   *
   * @example Running a named task
   * ```ts ignore
   * import { WorkerPool } from "@seed/concurrency";
   *
   * await using pool = new WorkerPool<typeof import("./tasks.ts")>(
   *   new URL("./tasks.ts", import.meta.url),
   * );
   * console.log(await pool.run("square", [3])); // 9
   * ```
   */
  run<K extends TaskName<M>>(
    task: K,
    ...rest: RunRest<TaskArgs<M, K>>
  ): Promise<TaskResult<M, K>>;
  /**
   * Runs an inline function in a worker and resolves to its result.
   *
   * @typeParam A The function's parameter types.
   * @typeParam R The function's return type.
   * @param task A self-contained function (see {@linkcode InlineTask}).
   * @param rest The function's arguments as an array, then
   * {@linkcode RunOptions}.
   * @returns The function's (awaited) result.
   * @throws {PoolClosedError} If the pool is closed or closing.
   * @throws {ReferenceError} If the function uses a variable from its
   * enclosing scope (the error names it).
   * @throws {TypeError} If an argument or the result cannot be cloned, or the
   * function is native or bound.
   *
   * @example Running an inline function with a timeout
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 1 });
   * const sum = await pool.run((a: number, b: number) => a + b, [2, 3], {
   *   signal: AbortSignal.timeout(10_000),
   * });
   * assert.equal(sum, 5);
   * ```
   */
  run<A extends unknown[], R>(
    task: InlineTask<A, R>,
    ...rest: RunRest<A>
  ): Promise<Awaited<R>>;
  run(
    task: string | InlineTask<unknown[], unknown>,
    args?: unknown[],
    options?: RunOptions,
  ): Promise<unknown> {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    try {
      this.#start(task, args, options, PROMISE_SINK, { resolve, reject });
    } catch (error) {
      reject(error);
    }
    return promise;
  }

  /**
   * Submits one task and returns a {@linkcode Future} for it at once, like
   * Python's `Executor.submit`. The future can be awaited, inspected and
   * cancelled (`future.cancel()` cancels the task as a `signal` would).
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a function the task module exports.
   * @param rest The task's arguments, then {@linkcode RunOptions}.
   * @returns A future of the task's result; it rejects as `run` would.
   *
   * @example Submitting a named task
   * ```ts ignore
   * const future = pool.submit("square", [3]);
   * console.log(await future); // 9
   * ```
   */
  submit<K extends TaskName<M>>(
    task: K,
    ...rest: RunRest<TaskArgs<M, K>>
  ): Future<TaskResult<M, K>>;
  /**
   * Submits an inline function and returns a {@linkcode Future} for it.
   *
   * @typeParam A The function's parameter types.
   * @typeParam R The function's return type.
   * @param task A self-contained function (see {@linkcode InlineTask}).
   * @param rest The function's arguments, then {@linkcode RunOptions}.
   * @returns A future of the function's result; it rejects as `run` would.
   *
   * @example Submitting, then waiting on all
   * ```ts
   * import { wait, WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * const futures = [1, 2, 3].map((n) => pool.submit((x: number) => x * 2, [n]));
   * const { done, pending } = await wait(futures);
   * assert.equal(done.size, 3);
   * assert.equal(pending.size, 0);
   * assert.deepEqual(futures.map((f) => f.value), [2, 4, 6]);
   * ```
   */
  submit<A extends unknown[], R>(
    task: InlineTask<A, R>,
    ...rest: RunRest<A>
  ): Future<Awaited<R>>;
  submit(
    task: string | InlineTask<unknown[], unknown>,
    args?: unknown[],
    options?: RunOptions,
    // deno-lint-ignore no-explicit-any
  ): Future<any> {
    const future = new Future<unknown>();
    try {
      this.#start(task, args, options, FUTURE_SINK, future);
    } catch (error) {
      future._settle(false, error);
    }
    return future;
  }

  #start(
    task: string | InlineTask<unknown[], unknown>,
    args: unknown[] | undefined,
    options: RunOptions | undefined,
    sink: TaskSink,
    tag: unknown,
  ): void {
    const scheduler = this.#scheduler;
    if (scheduler.state !== "open") {
      throw new PoolClosedError(
        `Cannot run ${this.#label(task)} as the pool is ${scheduler.state}`,
      );
    }
    const fnId = this.#fnId(task);
    const list = args ?? [];
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot run ${
          this.#label(task)
        } as its arguments must be an array: received ${describe(args)}`,
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    let transfer = options?.transfer === undefined
      ? undefined
      : [...options.transfer];
    let payload = list;
    let mode = MODE_CALL;
    const encoded = encodeAll(list);
    if (encoded !== undefined) {
      payload = encoded.values;
      mode |= MODE_WIRE;
      if (encoded.transfer.length > 0) {
        transfer = [...(transfer ?? []), ...encoded.transfer];
      }
    }
    if (scheduler.full) {
      this.#startWhenRoom(fnId, payload, mode, transfer, signal, sink, tag);
      return;
    }
    const queued = new Task(
      scheduler.newTaskId(),
      fnId,
      payload,
      mode,
      transfer,
      signal,
      sink,
      tag,
      this.#cancel,
    );
    if (sink === FUTURE_SINK) {
      (tag as Future<unknown>)._onCancel((r) => this.#cancel(queued, r));
    }
    scheduler.enqueue(queued);
  }

  /** Backpressure: waits for room in the queue, then queues the task. */
  #startWhenRoom(
    fnId: number,
    payload: unknown[],
    mode: number,
    transfer: Transferable[] | undefined,
    signal: AbortSignal | undefined,
    sink: TaskSink,
    tag: unknown,
  ): void {
    const scheduler = this.#scheduler;
    const create = () =>
      new Task(
        scheduler.newTaskId(),
        fnId,
        payload,
        mode,
        transfer,
        signal,
        sink,
        tag,
        this.#cancel,
      );
    if (sink === FUTURE_SINK) {
      const future = tag as Future<unknown>;
      const abort = new AbortController();
      future._onCancel((reason) => abort.abort(reason));
      const waitSignal = signal === undefined
        ? abort.signal
        : AbortSignal.any([signal, abort.signal]);
      scheduler.waitForRoom(waitSignal).then(() => {
        if (future.done) return;
        const task = create();
        future._onCancel((r) => this.#cancel(task, r));
        scheduler.enqueue(task);
      }, (reason) => future._settle(false, reason));
      return;
    }
    scheduler.waitForRoom(signal).then(
      () => scheduler.enqueue(create()),
      // No task was made: reject the caller's promise directly.
      (reason) => (tag as { reject(reason: unknown): void }).reject(reason),
    );
  }

  #cancel = (task: Task, reason: unknown): void => {
    this.#scheduler.cancel(task, reason);
  };

  #label(task: unknown): string {
    if (typeof task === "string") return `task "${task}"`;
    if (typeof task === "function") {
      return task.name
        ? `inline function "${task.name}"`
        : "an inline function";
    }
    return "the task";
  }

  #fnId(task: unknown): number {
    if (typeof task === "string") {
      if (this.#moduleUrl === null) {
        throw new TypeError(
          `Cannot run task "${task}" as the pool has no task module: pass a function, or create the pool with the URL of a module that exports "${task}"`,
        );
      }
      return this.#scheduler.fnId(FN_NAME, task, `task "${task}"`);
    }
    if (typeof task !== "function") {
      throw new TypeError(
        `Cannot run the task as it must be a task name or a function: received ${
          describe(task)
        }`,
      );
    }
    const known = this.#inline.get(task);
    if (known !== undefined) return known;
    const source = Function.prototype.toString.call(task);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(
        `Cannot run ${
          this.#label(task)
        } in a worker as it is native or bound, so its source cannot be sent: pass a plain function, or move it into a task module`,
      );
    }
    if (/^class\b/.test(source)) {
      throw new TypeError(
        `Cannot run ${this.#label(task)} as it is a class: pass a function`,
      );
    }
    const id = this.#scheduler.fnId(FN_SOURCE, source, this.#label(task));
    this.#inline.set(task, id);
    return id;
  }

  /**
   * Runs a task on every item, in parallel, and resolves to the results in
   * input order, like Python's `Pool.map`. Items are sent in chunks (see
   * {@linkcode MapOptions.chunkSize}). If any item fails, `map` rejects
   * with the error of the first chunk to fail (in completion order, as
   * Python's does), and the chunks still queued are cancelled.
   *
   * All items are read and queued at once; for long or endless inputs use
   * {@linkcode WorkerPool.imap}, which bounds memory.
   *
   * @typeParam T The item type.
   * @typeParam R The task's result type.
   * @param task A task name or a self-contained one-argument function.
   * @param items The items (any iterable).
   * @param options `chunkSize` and `signal`.
   * @returns The results, in input order.
   * @throws {TypeError} If `items` is not iterable, or an item or result
   * cannot be cloned.
   * @throws {PoolClosedError} If the pool is closed or closing.
   * @throws {unknown} The first task error, or `signal.reason`.
   *
   * @example Factorials of 1..10 with BigInt
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * const factorials = await pool.map((n: number) => {
   *   let f = 1n;
   *   for (let i = 2n; i <= BigInt(n); i++) f *= i;
   *   return f;
   * }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
   * assert.equal(factorials[9], 3628800n);
   * ```
   */
  map<K extends TaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]>,
    options?: MapOptions,
  ): Promise<TaskResult<M, K>[]>;
  /**
   * Runs an inline function on every item and resolves to the results in
   * input order.
   *
   * @typeParam T The item type.
   * @typeParam R The function's result type.
   * @param task A self-contained one-argument function.
   * @param items The items (any iterable).
   * @param options `chunkSize` and `signal`.
   * @returns The results, in input order.
   *
   * @example Squares
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * assert.deepEqual(await pool.map((x: number) => x * x, [1, 2, 3]), [1, 4, 9]);
   * ```
   */
  map<T, R>(
    task: InlineTask<[item: T], R>,
    items: Iterable<T>,
    options?: MapOptions,
  ): Promise<Awaited<R>[]>;
  async map(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown>,
    options: MapOptions = {},
  ): Promise<unknown[]> {
    const scheduler = this.#scheduler;
    if (scheduler.state !== "open") {
      throw new PoolClosedError(
        `Cannot map ${this.#label(task)} as the pool is ${scheduler.state}`,
      );
    }
    const fnId = this.#fnId(task);
    if (
      items === null || items === undefined ||
      typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `Cannot map ${this.#label(task)} as 'items' is not iterable: received ${
          describe(items)
        }${
          isAsyncIterable(items)
            ? " (an async iterable: use imap() for those)"
            : ""
        }`,
      );
    }
    const { signal } = options;
    signal?.throwIfAborted();
    const array = Array.isArray(items) ? items : Array.from(items);
    const n = array.length;
    if (n === 0) return [];
    const chunkSize = options.chunkSize === undefined
      ? Math.max(1, Math.ceil(n / (scheduler.config.size * 4)))
      : positiveInteger("chunkSize", options.chunkSize, false, "map");
    const state = new MapState(array);
    const tasks: Task[] = [];
    for (let offset = 0; offset < n; offset += chunkSize) {
      const end = Math.min(n, offset + chunkSize);
      const numbers = allNumbers(array, offset, end);
      const chunk = numbers
        ? Float64Array.from(array.slice(offset, end) as number[])
        : offset === 0 && end === n
        ? array
        : array.slice(offset, end);
      const t = new Task(
        scheduler.newTaskId(),
        fnId,
        chunk as unknown[],
        numbers ? MODE_CHUNK | MODE_F64 : MODE_CHUNK,
        undefined,
        signal,
        state,
        { offset },
        this.#cancel,
      );
      tasks.push(t);
    }
    state.remaining = tasks.length;
    for (const t of tasks) scheduler.enqueue(t);
    try {
      return await state.promise;
    } catch (error) {
      for (const t of tasks) this.#cancel(t, error);
      throw error;
    }
  }

  /**
   * Runs a task on every item of a (possibly endless, possibly async)
   * iterable and yields the results in input order, keeping at most
   * `maxInFlight` chunks read and not yet yielded, so memory stays bounded.
   * Breaking out of the loop cancels the items in flight.
   *
   * @typeParam T The item type.
   * @typeParam R The task's result type.
   * @param task A task name or a self-contained one-argument function.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in input order.
   * @throws {TypeError} If `items` is not iterable.
   * @throws {unknown} The first task error, or `signal.reason`, from the
   * iteration.
   *
   * @example Streaming over a generator
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * function* naturals() {
   *   for (let n = 1; ; n++) yield n;
   * }
   * await using pool = new WorkerPool({ size: 2 });
   * const out: number[] = [];
   * for await (const square of pool.imap((n: number) => n * n, naturals())) {
   *   out.push(square);
   *   if (out.length === 5) break;
   * }
   * assert.deepEqual(out, [1, 4, 9, 16, 25]);
   * ```
   */
  imap<K extends TaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: IMapOptions,
  ): AsyncIterableIterator<TaskResult<M, K>>;
  /**
   * Runs an inline function on every item and yields results in input order.
   *
   * @typeParam T The item type.
   * @typeParam R The function's result type.
   * @param task A self-contained one-argument function.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in input order.
   *
   * @example Over an async source
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * async function* source() {
   *   yield 1;
   *   yield 2;
   * }
   * await using pool = new WorkerPool({ size: 1 });
   * const out = await Array.fromAsync(pool.imap((n: number) => n + 1, source()));
   * assert.deepEqual(out, [2, 3]);
   * ```
   */
  imap<T, R>(
    task: InlineTask<[item: T], R>,
    items: Iterable<T> | AsyncIterable<T>,
    options?: IMapOptions,
  ): AsyncIterableIterator<Awaited<R>>;
  imap(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: IMapOptions = {},
  ): AsyncIterableIterator<unknown> {
    return this.#imap(task, items, options, true);
  }

  /**
   * Like {@linkcode WorkerPool.imap}, but yields each result as soon as it is
   * ready, whatever its position in the input.
   *
   * @typeParam K The task's name in the task module.
   * @param task A task name or a self-contained one-argument function.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in completion order.
   * @throws {TypeError} If `items` is not iterable.
   * @throws {unknown} The first task error, or `signal.reason`, from the
   * iteration.
   *
   * @example Results as they complete
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * const out = await Array.fromAsync(
   *   pool.imapUnordered((n: number) => n * 2, [1, 2, 3]),
   * );
   * assert.deepEqual(out.sort(), [2, 4, 6]);
   * ```
   */
  imapUnordered<K extends TaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: IMapOptions,
  ): AsyncIterableIterator<TaskResult<M, K>>;
  /**
   * Like the inline form of {@linkcode WorkerPool.imap}, in completion order.
   *
   * @typeParam T The item type.
   * @typeParam R The function's result type.
   * @param task A self-contained one-argument function.
   * @param items The items, a sync or async iterable.
   * @param options `chunkSize`, `maxInFlight` and `signal`.
   * @returns An async iterable of results in completion order.
   *
   * @example Summing results in any order
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * let sum = 0;
   * for await (const x of pool.imapUnordered((n: number) => n, [1, 2, 3])) sum += x;
   * assert.equal(sum, 6);
   * ```
   */
  imapUnordered<T, R>(
    task: InlineTask<[item: T], R>,
    items: Iterable<T> | AsyncIterable<T>,
    options?: IMapOptions,
  ): AsyncIterableIterator<Awaited<R>>;
  imapUnordered(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: IMapOptions = {},
  ): AsyncIterableIterator<unknown> {
    return this.#imap(task, items, options, false);
  }

  #imap(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: IMapOptions,
    ordered: boolean,
  ): AsyncIterableIterator<unknown> {
    return new ItemIterator(this.#chunks(task, items, options, ordered));
  }

  /** Yields the results of each chunk, in order or as they complete. */
  async *#chunks(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: IMapOptions,
    ordered: boolean,
  ): AsyncGenerator<unknown[], void, undefined> {
    const scheduler = this.#scheduler;
    const label = ordered ? "imap" : "imapUnordered";
    if (scheduler.state !== "open") {
      throw new PoolClosedError(
        `Cannot ${label} ${
          this.#label(task)
        } as the pool is ${scheduler.state}`,
      );
    }
    const fnId = this.#fnId(task);
    let iterator: Iterator<unknown> | AsyncIterator<unknown>;
    let isAsync = false;
    if (isAsyncIterable(items)) {
      iterator = items[Symbol.asyncIterator]();
      isAsync = true;
    } else if (
      items !== null && items !== undefined &&
      typeof (items as Iterable<unknown>)[Symbol.iterator] === "function"
    ) {
      iterator = (items as Iterable<unknown>)[Symbol.iterator]();
    } else {
      throw new TypeError(
        `Cannot ${label} ${
          this.#label(task)
        } as 'items' is not iterable or async iterable: received ${
          describe(items)
        }`,
      );
    }
    const { signal } = options;
    const fixedChunk = options.chunkSize === undefined
      ? undefined
      : positiveInteger("chunkSize", options.chunkSize, false, label);
    const maxInFlight = options.maxInFlight === undefined
      ? scheduler.config.size * 2
      : positiveInteger("maxInFlight", options.maxInFlight, false, label);
    signal?.throwIfAborted();
    const stream = new StreamState(ordered);
    let exhausted = false;
    let chunkSize = fixedChunk ?? 1;
    try {
      while (true) {
        while (!exhausted && stream.open < maxInFlight) {
          const chunk: unknown[] = [];
          while (chunk.length < chunkSize) {
            const step = isAsync
              ? await (iterator as AsyncIterator<unknown>).next()
              : (iterator as Iterator<unknown>).next();
            if (step.done) {
              exhausted = true;
              break;
            }
            chunk.push(step.value);
            if (isAsync && fixedChunk === undefined) break;
          }
          if (chunk.length === 0) break;
          if ((scheduler.state as string) === "closed") {
            throw new PoolClosedError(
              `Cannot go on with ${label} as the pool is closed`,
            );
          }
          const slot = new StreamSlot(chunk.length);
          const numbers = allNumbers(chunk, 0, chunk.length);
          const t = new Task(
            scheduler.newTaskId(),
            fnId,
            numbers
              ? Float64Array.from(chunk as number[]) as unknown as unknown[]
              : chunk,
            numbers ? MODE_CHUNK | MODE_F64 : MODE_CHUNK,
            undefined,
            signal,
            stream,
            slot,
            this.#cancel,
          );
          slot.task = t;
          stream.add(slot);
          scheduler.enqueue(t);
        }
        const slot = await stream.next();
        if (slot === undefined) return;
        if (!slot.ok) throw slot.value;
        if (fixedChunk === undefined && slot.runTimeMs >= 0) {
          chunkSize = adaptChunk(chunkSize, slot.items, slot.runTimeMs);
        }
        yield slot.value as unknown[];
      }
    } finally {
      for (const t of stream.pendingTasks()) {
        this.#cancel(t, new DOMException("The iteration ended", "AbortError"));
      }
      if (!exhausted) await iterator.return?.();
    }
  }

  /**
   * Finishes every queued and running task, then ends every worker. Resolves
   * once their threads have ended. New calls reject with
   * {@linkcode PoolClosedError} from the moment `close()` is called. Calling
   * it again returns the same promise.
   *
   * @returns A promise that resolves when the pool has closed.
   *
   * @example Closing after queued work completes
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const pool = new WorkerPool({ size: 1 });
   * const result = pool.run((x: number) => x + 1, [1]);
   * await pool.close();
   * assert.equal(await result, 2);
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#scheduler.state = "closing";
    this.#closing = (async () => {
      await this.#scheduler.drained();
      await this.#scheduler.shutdown(undefined);
      this.#revoke();
    })();
    return this.#closing;
  }

  /**
   * Ends every worker now. Queued and running tasks reject with
   * {@linkcode PoolClosedError}. Resolves once the worker threads have ended
   * (a thread stuck in a synchronous loop is not waited for; see
   * `stats.abandonedWorkers`).
   *
   * @returns A promise that resolves when the pool has ended.
   *
   * @example Terminating with work pending
   * ```ts
   * import { PoolClosedError, WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const pool = new WorkerPool({ size: 1 });
   * const pending = pool.run(() => new Promise(() => {}));
   * await pool.terminate();
   * await assert.rejects(pending, PoolClosedError);
   * ```
   */
  terminate(): Promise<void> {
    const done = this.#scheduler.shutdown(
      new PoolClosedError("The task was pending when the pool was terminated"),
    ).then(() => this.#revoke());
    this.#closing ??= done;
    return done;
  }

  #revoke(): void {
    if (this.#blobUrl !== undefined) URL.revokeObjectURL(this.#blobUrl);
  }

  /**
   * Closes the pool (see {@linkcode WorkerPool.close}), so that
   * `await using pool = new WorkerPool(...)` is the `with Pool() as pool:` of
   * Deno.
   *
   * @returns A promise that resolves when the pool has closed.
   *
   * @example Scoped pool
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * let pool: WorkerPool;
   * {
   *   await using scoped = new WorkerPool({ size: 1 });
   *   pool = scoped;
   * }
   * assert.equal(pool.state, "closed");
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// ---- sinks: where task outcomes go -----------------------------------------

const PROMISE_SINK: TaskSink = {
  settle(task, ok, value) {
    const tag = task.tag as {
      resolve(value: unknown): void;
      reject(reason: unknown): void;
    };
    if (ok) tag.resolve(value);
    else tag.reject(value);
  },
};

const FUTURE_SINK: TaskSink = {
  settle(task, ok, value) {
    (task.tag as Future<unknown>)._settle(ok, value);
  },
};

class MapState implements TaskSink {
  readonly results: unknown[];
  remaining = 0;
  readonly promise: Promise<unknown[]>;
  #resolve!: (results: unknown[]) => void;
  #reject!: (reason: unknown) => void;
  #failed = false;

  constructor(items: unknown[]) {
    // Overwritten in place: a packed array (see runChunkSync in _worker.ts).
    this.results = items.slice();
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  settle(task: Task, ok: boolean, value: unknown): void {
    if (this.#failed) return;
    if (!ok) {
      this.#failed = true;
      this.#reject(value);
      return;
    }
    const values = value as ArrayLike<unknown>;
    const offset = (task.tag as { offset: number }).offset;
    const results = this.results;
    for (let i = 0; i < values.length; i++) results[offset + i] = values[i];
    if (--this.remaining === 0) this.#resolve(results);
  }
}

/**
 * Turns a stream of result chunks into a stream of results, with one promise
 * per result and nothing more (an async generator that yields each item
 * costs several).
 */
class ItemIterator implements AsyncIterableIterator<unknown> {
  readonly #chunks: AsyncGenerator<unknown[], void, undefined>;
  #values: unknown[] = [];
  #index = 0;
  #pulling: Promise<IteratorResult<unknown>> | undefined = undefined;

  constructor(chunks: AsyncGenerator<unknown[], void, undefined>) {
    this.#chunks = chunks;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#pulling !== undefined) {
      return this.#pulling.then(() => this.next());
    }
    if (this.#index < this.#values.length) {
      const value = this.#values[this.#index];
      this.#values[this.#index++] = undefined;
      return Promise.resolve({ value, done: false });
    }
    const pulling = this.#pull();
    this.#pulling = pulling;
    const clear = () => {
      if (this.#pulling === pulling) this.#pulling = undefined;
    };
    pulling.then(clear, clear);
    return pulling;
  }

  async #pull(): Promise<IteratorResult<unknown>> {
    while (true) {
      const step = await this.#chunks.next();
      if (step.done) return { value: undefined, done: true };
      this.#values = step.value;
      this.#index = 0;
      if (this.#values.length > 0) {
        const value = this.#values[0];
        this.#values[this.#index++] = undefined;
        return { value, done: false };
      }
    }
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    this.#values = [];
    this.#index = 0;
    await this.#chunks.return(undefined);
    return { value, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<unknown>> {
    this.#values = [];
    this.#index = 0;
    await this.#chunks.throw(error);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }
}

class StreamSlot {
  task: Task | undefined = undefined;
  done = false;
  ok = true;
  value: unknown = undefined;
  runTimeMs = -1;
  readonly items: number;
  constructor(items: number) {
    this.items = items;
  }
}

class StreamState implements TaskSink {
  readonly #ordered: boolean;
  readonly #slots: StreamSlot[] = [];
  #head = 0;
  readonly #ready: StreamSlot[] = [];
  #wake: (() => void) | undefined = undefined;

  constructor(ordered: boolean) {
    this.#ordered = ordered;
  }

  /** Chunks read and not yet yielded. */
  get open(): number {
    return this.#slots.length - this.#head;
  }

  add(slot: StreamSlot): void {
    this.#slots.push(slot);
  }

  settle(task: Task, ok: boolean, value: unknown): void {
    const slot = task.tag as StreamSlot;
    slot.done = true;
    slot.ok = ok;
    slot.value = value;
    slot.runTimeMs = task.runTimeMs;
    if (!this.#ordered) this.#ready.push(slot);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async next(): Promise<StreamSlot | undefined> {
    while (true) {
      if (this.open === 0) return undefined;
      let slot: StreamSlot | undefined;
      if (this.#ordered) {
        const head = this.#slots[this.#head] as StreamSlot;
        if (head.done) slot = head;
      } else {
        slot = this.#ready.shift();
      }
      if (slot !== undefined) {
        this.#remove(slot);
        return slot;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #remove(slot: StreamSlot): void {
    if (this.#ordered) {
      this.#slots[this.#head++] = undefined as unknown as StreamSlot;
    } else {
      const index = this.#slots.indexOf(slot, this.#head);
      this.#slots[index] = this.#slots[this.#head] as StreamSlot;
      this.#slots[this.#head++] = undefined as unknown as StreamSlot;
    }
    if (this.#head > 64 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head);
      this.#head = 0;
    }
  }

  pendingTasks(): Task[] {
    const out: Task[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      const task = (this.#slots[i] as StreamSlot).task;
      if (task !== undefined) out.push(task);
    }
    return out;
  }
}

/**
 * Whether a chunk is worth sending as a Float64Array: long enough, and every
 * item a number.
 */
function allNumbers(
  items: readonly unknown[],
  start: number,
  end: number,
): boolean {
  if (end - start < 64) return false;
  for (let i = start; i < end; i++) {
    if (typeof items[i] !== "number") return false;
  }
  return true;
}

function adaptChunk(current: number, items: number, runTimeMs: number): number {
  // Aim for about a millisecond of work per chunk.
  const perItem = runTimeMs / Math.max(1, items);
  const target = perItem <= 0 ? 4096 : Math.floor(1 / perItem);
  return Math.max(1, Math.min(1024, target, current * 4));
}

// ---- validation -------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
      "function";
}

function parseModuleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href;
  try {
    return new URL(module).href;
  } catch {
    throw new TypeError(
      `Cannot create pool as the task module must be an absolute URL: received ${
        JSON.stringify(module)
      }; use new URL("${module}", import.meta.url)`,
    );
  }
}

function positiveInteger(
  name: string,
  value: unknown,
  allowInfinity = false,
  what = "create pool",
): number {
  if (
    typeof value !== "number" ||
    !(Number.isInteger(value) || (allowInfinity && value === Infinity)) ||
    value < 1
  ) {
    throw new RangeError(
      `Cannot ${
        what === "create pool" ? "create pool" : what
      } as '${name}' must be a positive integer${
        allowInfinity ? " or Infinity" : ""
      }: received ${describe(value)}`,
    );
  }
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(
      `Cannot create pool as '${name}' must be a non-negative number of milliseconds: received ${
        describe(value)
      }`,
    );
  }
  return value;
}

function parsePermissions(
  permissions: WorkerPermissions | undefined,
): Deno.PermissionOptions | undefined {
  if (permissions === undefined || permissions === "inherit") return undefined;
  if (permissions === "none" || isPlainObject(permissions)) return permissions;
  throw new TypeError(
    `Cannot create pool as 'permissions' must be "inherit", "none" or a permissions object: received ${
      describe(permissions)
    }`,
  );
}
