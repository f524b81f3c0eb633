// Copyright the @seed/concurrency authors. MIT license.

/**
 * A pool of Web Workers that runs tasks in parallel: the `multiprocessing.Pool`
 * and `concurrent.futures.ProcessPoolExecutor` of Deno.
 *
 * Use {@linkcode WorkerPool.map} for a batch of items (results in input
 * order), {@linkcode WorkerPool.run} to await one call,
 * {@linkcode WorkerPool.submit} for a cancellable {@linkcode Future}, and
 * {@linkcode WorkerPool.imap} / {@linkcode WorkerPool.imapUnordered} to
 * stream a long or endless input with bounded memory. Tasks are the exports
 * of a task module (typed from the module) or self-contained inline
 * functions.
 *
 * @example The notebook's `Pool(4).map(square, range(10))`
 * ```ts
 * import { WorkerPool } from "@seed/concurrency/pool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 4 });
 * const squares = await pool.map((x: number) => x * x, [0, 1, 2, 3, 4]);
 * assert.deepEqual(squares, [0, 1, 4, 9, 16]);
 * ```
 *
 * @module
 */

// How a call travels (internal):
//
//  pool.ts        run / submit / map (_map.ts) / imap (_imap.ts)
//                      |  a Task per call or chunk (_task.ts)
//                      v
//  _scheduler.ts  queue (_task_queue.ts) -> deal to workers ---.
//                 steal for idle ones, start/stop (_balance.ts)|
//                      ^                                       | TASKS, many
//                      | RESULTS, checked (_results.ts)        | to a message
//                      |                                       v (_dispatch.ts)
//  _worker_handle.ts  one per worker: what it holds, its lifecycle, its port
//                      |                        ^
//     control block (_control.ts): each held    |  private MessagePort
//     task's state, claimed by compare-and-swap |  (_protocol.ts)
//                      v                        |
//  _worker.ts     bootstrap: lifeline, crash reports, task module (threads
//                 load it bundled: _worker_bundle.js, `deno task bundle`)
//  _worker_run.ts run tasks in order, batch results, flush before slow ones
//
// A warm `run` goes `pool.ts` -> `_scheduler.ts` (`submit`, `#pump`) ->
// `_dispatch.ts` -> `_worker_run.ts` and back through `_results.ts` to the
// caller's promise. What holds for every task and worker at rest is written
// at the top of `_scheduler.ts`.

import { map } from "./_map.ts";
import type { Unreachable } from "./_unreachable.ts";
import { FnTable, labelOf } from "./_fn_table.ts";
import { onFutureCancel, settleFuture } from "./_future_internals.ts";
import { IMapRun } from "./_imap.ts";
import {
  parseIMapArguments,
  parseMapArguments,
  parsePoolArguments,
} from "./_options.ts";
import { MODE_CALL, MODE_WIRE } from "./_protocol.ts";
import { type PoolState, Scheduler } from "./_scheduler.ts";
import type { PoolStats } from "./_stats.ts";
import { estimateBytes, type TaskInit, type TaskSink } from "./_task.ts";
import { encodeValues } from "./_wire.ts";
import { describe } from "./errors/_describe.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { Future } from "./future.ts";
import type { TaskContext } from "./task.ts";

export type { PoolStats } from "./_stats.ts";
export type { DurationSummary } from "./_summary.ts";
export type { PoolState } from "./_scheduler.ts";

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
   * How many workers to start at once and keep, however idle, until
   * `close()`: a warm pool, like Python's `Pool` (which starts every process
   * up front) or piscina's `minThreads`. A crashed or recycled worker is
   * replaced at once. Await {@linkcode WorkerPool.ready} to know they have
   * loaded the task module. Warm workers keep the process alive until the
   * pool is closed.
   *
   * Starting a worker thread blocks the calling thread for most of the
   * start (`new Worker` returns once the thread's runtime is up: 20-30 ms on
   * a busy 2-core machine), so a server that must answer while its pool
   * grows or replaces a worker should start its workers up front. The pool
   * starts a thread in an event-loop turn of its own, after the callers of
   * the results (and crashes) it had just read have run, and gives its
   * running workers enough queued work to outlast the start.
   *
   * @default {0}
   */
  minSize?: number;
  /**
   * The most tasks that may wait to start (in the pool's queue or held by a
   * worker). When that many wait, `run` and `submit` wait for room
   * (backpressure) instead of growing memory, first come first served; a
   * wait ends as soon as tasks start. `map` and `imap` are bounded by their
   * own options instead.
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
   * Stop a worker that has been idle this long; it comes back on demand
   * (a start costs about as much as one worker start, tens of ms). Deno
   * cannot let a live worker thread not hold the process open, so a pool
   * that is never closed lets the program exit this long after its last
   * task: the default is short for that reason. Raise it (or use `minSize`)
   * for bursty work where starts matter; `Infinity` keeps workers until
   * `close()`.
   *
   * @default {1000}
   */
  idleTimeoutMs?: number;
  /**
   * How long a cancelled running task has to stop before its worker is
   * terminated and replaced. `Infinity` never terminates it.
   *
   * @default {1000}
   */
  abortGraceMs?: number;
  /**
   * How long a new worker may take to load the task module. A worker that
   * has not started by then (a top-level `await` that never settles, say)
   * fails the pool's start: calls reject with an error whose `cause` says
   * so, as when the module fails to load. `Infinity` waits for ever.
   *
   * @default {30000}
   */
  startTimeoutMs?: number;
  /**
   * What runs each worker:
   * - `"thread"`: a Web Worker thread in this process. Starts in tens of
   *   milliseconds and passes messages in microseconds; shares memory
   *   (`SharedValue`, `SharedLock`, channels). But a thread busy in a
   *   synchronous loop cannot be stopped (it is counted in
   *   `stats.abandonedWorkers`), its heap cannot be capped, and a crash in
   *   native code ends the whole program.
   * - `"process"`: a child `deno` process, like Python's `multiprocessing`.
   *   A cancelled task whose grace ran out is always stopped (the process is
   *   killed and replaced); `maxMemoryMb` caps each worker's heap;
   *   `permissions` need no unstable flag; a native crash fails one task.
   *   The price: a worker start costs about 4× a thread's, a round trip
   *   some 100 µs, and nothing is shared: arguments and results are copied
   *   (the buffers a `transfer` list names are copied, then detached here,
   *   as with threads). `WorkerChannel`s and `pipe()` ends work between
   *   process workers and with this process (their messages go through it,
   *   like Python's `multiprocessing.Queue` and `Pipe`); the shared-memory
   *   types (`SharedValue`, `SharedArray`, `SharedLock`, `SharedEvent`)
   *   cannot cross: such a call fails with a `TypeError` naming the type.
   *   Tasks held by a process worker are not moved to another when it is
   *   busy. Starting process workers needs `--allow-run` (or `-A`).
   *
   * The API is the same either way.
   *
   * @default {"thread"}
   */
  isolation?: "thread" | "process";
  /**
   * With `isolation: "process"`: each worker's V8 heap limit, in MB. A task
   * that needs more fails with `WorkerCrashedError` whose `cause` says the
   * worker ran out of memory; the worker is replaced and the pool goes on.
   *
   * @default {V8's default}
   */
  maxMemoryMb?: number;
  /**
   * The Deno permissions of the workers: `"inherit"` (the process's),
   * `"none"`, or an object such as `{ read: ["./data"], net: false }`. A
   * sandbox for untrusted task code: see "Trust" in the pool's docs for what
   * it guards and what it cannot. With threads, anything but `"inherit"`
   * needs Deno's `--unstable-worker-options` flag (the constructor says so if
   * it is missing); with `isolation: "process"` the permissions become the
   * child's command-line flags, with prompts off, and need no flag.
   * Permissions cannot exceed the process's own.
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
export interface WorkerPoolRunOptions {
  /**
   * Cancels the task: a queued task is removed; a running task sees the abort
   * (see {@linkcode TaskContext}) and gets `abortGraceMs` to stop. The call
   * rejects with `signal.reason` at once. `AbortSignal.timeout(ms)` gives a
   * per-task timeout.
   *
   * @default {never cancelled}
   */
  signal?: AbortSignal;
  /**
   * Objects in the arguments to move to the worker instead of copying
   * (`ArrayBuffer`s, `MessagePort`s, streams). They become unusable here.
   *
   * @default {nothing moves}
   */
  transfer?: readonly Transferable[];
}

/**
 * Options for {@linkcode WorkerPool.map} and {@linkcode WorkerPool.starmap}.
 *
 * @typeParam T The item type.
 */
export interface WorkerPoolMapOptions<T = unknown> {
  /**
   * Cancels every item still queued or running; `map` rejects with
   * `signal.reason`.
   *
   * @default {never cancelled}
   */
  signal?: AbortSignal;
  /**
   * What each item moves to the worker instead of copying (its
   * `ArrayBuffer`s, say): `(item) => [item.buffer]`. Moved buffers become
   * unusable here, and a chunk that moves anything goes only to an idle
   * worker and never moves between workers.
   *
   * @default {nothing moves}
   */
  transfer?: (item: T) => readonly Transferable[];
  /**
   * Called each time a chunk of items completes, with how many items have
   * completed and how many there are, for a progress bar. An error it
   * throws fails the call.
   *
   * @default {no calls}
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * How many items go to a worker in one task, like Python's `chunksize`.
   * Larger chunks cost less per item; smaller ones balance uneven work.
   * By default chunks shrink as the map goes (guided self-scheduling: each
   * takes a share of what remains), so they start large and end small
   * enough to keep every worker busy to the last item; items of many
   * kilobytes go one or a few at a time.
   *
   * @default {a share of the remaining items, shrinking}
   */
  chunkSize?: number;
}

/**
 * Options for {@linkcode WorkerPool.imap} and {@linkcode WorkerPool.imapUnordered}.
 *
 * @typeParam T The item type.
 */
export interface WorkerPoolIMapOptions<T = unknown> {
  /**
   * Cancels the items in flight; the iteration throws `signal.reason`.
   *
   * @default {never cancelled}
   */
  signal?: AbortSignal;
  /**
   * What each item moves to the worker instead of copying, as for
   * {@linkcode WorkerPoolMapOptions.transfer}.
   *
   * @default {nothing moves}
   */
  transfer?: (item: T) => readonly Transferable[];
  /**
   * Called each time a chunk of items completes, with how many items have
   * completed, and how many there are if the input is an array
   * (`undefined` otherwise). An error it throws ends the iteration with it.
   *
   * @default {no calls}
   */
  onProgress?: (done: number, total: number | undefined) => void;
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

/** Options for {@linkcode WorkerPool.ready}. */
export interface WorkerPoolReadyOptions {
  /**
   * Bounds the wait: `ready()` rejects with `signal.reason` if it aborts
   * first (the workers go on starting).
   *
   * @default {no bound}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode WorkerPool.close}. */
export interface WorkerPoolCloseOptions {
  /**
   * Bounds the wait: if it aborts first, the pool is terminated and
   * `close()` rejects with `signal.reason`.
   *
   * @default {no bound}
   */
  signal?: AbortSignal;
}

/**
 * The former name of {@linkcode WorkerPoolRunOptions}.
 *
 * @deprecated Use {@linkcode WorkerPoolRunOptions}: options types are named
 * after their class and method across the library.
 */
export type RunOptions = WorkerPoolRunOptions;

/**
 * The former name of {@linkcode WorkerPoolMapOptions}.
 *
 * @typeParam T The item type.
 * @deprecated Use {@linkcode WorkerPoolMapOptions}.
 */
export type MapOptions<T = unknown> = WorkerPoolMapOptions<T>;

/**
 * The former name of {@linkcode WorkerPoolIMapOptions}.
 *
 * @typeParam T The item type.
 * @deprecated Use {@linkcode WorkerPoolIMapOptions}.
 */
export type IMapOptions<T = unknown> = WorkerPoolIMapOptions<T>;

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

/**
 * The names of the tasks of `M` that take one argument (or none, or more
 * that are optional): the tasks `map` and `imap` can run on items. Use
 * {@linkcode WorkerPool.starmap} for tasks of several arguments.
 */
export type MapTaskName<M> =
  & {
    [K in TaskName<M>]: [TaskArgs<M, K>[0]] extends TaskArgs<M, K> ? K
      : TaskArgs<M, K> extends [] ? K
      : never;
  }[TaskName<M>]
  & string;

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

/**
 * The rest parameters of `run`/`submit`: `(args: A, options?)`, where `args`
 * may be left out too when the task can be called with no argument. (Some
 * renderings of this type drop the `?` markers: both `options` and, for such
 * tasks, `args` are optional.)
 *
 * @typeParam A The task's parameter types.
 */
export type RunRest<A extends unknown[]> = [] extends A
  ? [args?: A, options?: WorkerPoolRunOptions]
  : [args: A, options?: WorkerPoolRunOptions];

/**
 * A pool of workers that runs tasks in parallel, with futures, streaming map,
 * cancellation, backpressure and crash recovery.
 *
 * - **Tasks** come from a task module, whose exported functions are the tasks
 *   (names and argument types checked from the module's type), or are inline
 *   self-contained functions, for notebook-style code. Sync and async
 *   functions both work.
 * - **Order**: tasks are sent to workers in the order they were submitted,
 *   and each worker starts what it holds in that order, so a pool of one
 *   worker starts tasks in submission order. With more workers tasks run
 *   side by side and may start out of order: an idle worker takes over the
 *   oldest unstarted tasks of a busy one. `map` and `imap` give results in
 *   input order, `imapUnordered` as they complete.
 * - **Once**: a task never runs twice. A task taken back from a worker (to
 *   run elsewhere, or cancelled) provably had not started; a task that had
 *   started on a worker that died fails, it is not run again.
 * - **Errors** keep their class, name, message, worker stack, `cause` chain
 *   and own fields (see `@seed/concurrency/errors`). A value that cannot be
 *   cloned fails only its own call, with an error that names it.
 * - **Crash recovery**: when a worker dies (an uncaught error outside a task,
 *   an unhandled rejection, `self.close()`, `Deno.exit()`), the task it was
 *   running rejects with {@linkcode WorkerCrashedError} (its `cause` says
 *   why), tasks it held but had not started run on another worker, and a new
 *   worker takes its place. A task that had finished but whose result was
 *   still on its way fails the same way. Unlike Python's `BrokenProcessPool`,
 *   one crash never breaks the pool.
 * - **Cancellation**: a call's `signal` (or `Future.cancel()`) removes a
 *   queued task; a running task sees the abort through
 *   {@linkcode TaskContext} and has `abortGraceMs` to stop, after which its
 *   worker is terminated and replaced. The call rejects with `signal.reason`
 *   at once. Deno 2.9 cannot stop a thread busy in a synchronous loop
 *   (`terminate()` leaves it running until the loop ends), so CPU-bound tasks
 *   should check `currentTask().aborted` (or `this.aborted` inline); such
 *   still-running abandoned workers are counted in `stats.abandonedWorkers`.
 *   A cancelled call has already rejected, so a task cannot hand back a
 *   partial result through it: to stop a task early and keep what it did,
 *   give it a stop flag of its own (a `SharedEvent` argument, say) and let
 *   it return normally when the flag is set.
 * - **Arguments are taken when a task is sent**, not when it is called: a
 *   call to an idle worker goes at once, but a queued call copies its
 *   arguments (and moves its `transfer` list) only when a worker takes it.
 *   Do not change an argument after the call; pass a copy
 *   (`data.slice()`) if the caller goes on changing it. Copying at every
 *   call would slow the calls that need no copy.
 * - **One call at a time**: a worker thread that ran a task sent alone
 *   waits about a millisecond for the next, blocked in `Atomics.wait`, so a
 *   caller that awaits each `run()` of one number or boolean argument is
 *   answered through shared memory, without a message either way (a round
 *   trip below a bare `postMessage` ping-pong). While it waits, its event
 *   loop does not turn: timers and I/O that task code left running wait too,
 *   never more than a few milliseconds.
 * - **Close**: `close()` finishes queued work, then ends every worker, and
 *   resolves once every worker thread has ended, abandoned ones included (its
 *   `signal` bounds the wait); `terminate()` ends now, rejects what is
 *   pending with {@linkcode PoolClosedError}, and does not wait for abandoned
 *   threads; `await using` closes at the end of the block.
 * - **Trust**: a worker is untrusted. Anything it sends that breaks the
 *   pool's protocol (task code calling `self.postMessage`, say) retires it as
 *   crashed; it can never settle another caller's call. A sandbox
 *   (`permissions`) limits what task code may reach through Deno's
 *   permissions and cannot make Deno prompt the operator, but it does not
 *   stop a busy loop from holding a core, nor limit memory, and tasks that
 *   share a worker share its globals (use `maxTasksPerWorker: 1` to keep
 *   untrusted tasks apart).
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
 * @example A queued call takes its arguments when it is sent: pass a copy
 * ```ts
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const busy = pool.run(() => new Promise((done) => setTimeout(done, 20)));
 * const data = new Float64Array([1, 2, 3]);
 * const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
 * const copied = pool.run(sum, [data.slice()]); // queued behind `busy`
 * const shared = pool.run(sum, [data]); // queued too: copied when sent
 * data[0] = 100;
 * await busy;
 * assert.equal(await copied, 6);
 * assert.equal(await shared, 105);
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
  readonly #fns: FnTable;
  readonly #blobUrl: string | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Creates a pool for inline task functions.
   *
   * @param options Pool options.
   * @throws {RangeError} If `size`, `maxQueue`, `maxTasksPerWorker`,
   * `idleTimeoutMs`, `abortGraceMs` or `startTimeoutMs` is out of range.
   * @throws {TypeError} If `permissions` is not a permissions value.
   * @throws {Error} If `permissions` restricts workers but Deno's
   * `--unstable-worker-options` flag is missing.
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
    const { config, blobUrl } = parsePoolArguments(
      moduleOrOptions,
      maybeOptions,
    );
    this.#blobUrl = blobUrl;
    this.#fns = new FnTable(config.spec.moduleUrl !== null);
    this.#scheduler = new Scheduler(config, this.#fns);
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
   * Whether the pool accepts work (`"open"`), could not load its task module
   * (`"broken"`: every call rejects with the load error), is finishing its
   * queue after `close()` (`"closing"`), or has ended (`"closed"`).
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
  get state(): PoolState {
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
    return this.#scheduler.snapshot();
  }

  /**
   * Runs one task in a worker and resolves to its result.
   *
   * @typeParam K The task's name in the task module.
   * @param task The name of a function the task module exports.
   * @param rest The task's arguments as an array (checked against the
   * function's parameters), then {@linkcode WorkerPoolRunOptions}.
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
   * {@linkcode WorkerPoolRunOptions}.
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
    this: Unreachable,
    task: string | InlineTask<unknown[], unknown>,
    args?: unknown[],
    options?: WorkerPoolRunOptions,
  ): Promise<unknown> {
    const self = this as unknown as WorkerPool<M>;
    // Only `resolve` is kept (see PROMISE_SINK): a call in flight holds its
    // promise, one function and their context, about 100 bytes less than
    // with `reject` and an object to hold both (100k calls at once spend a
    // third of the main thread's time in the garbage collector).
    let resolve!: (value: unknown) => void;
    const promise = new Promise<unknown>((res) => {
      resolve = res;
    });
    try {
      self.#start(task, args, options, PROMISE_SINK, resolve);
    } catch (error) {
      return Promise.reject(error);
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
   * @param rest The task's arguments, then {@linkcode WorkerPoolRunOptions}.
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
   * @param rest The function's arguments, then {@linkcode WorkerPoolRunOptions}.
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
    this: Unreachable,
    task: string | InlineTask<unknown[], unknown>,
    args?: unknown[],
    options?: WorkerPoolRunOptions,
    // deno-lint-ignore no-explicit-any
  ): Future<any> {
    const future = new Future<unknown>();
    try {
      (this as unknown as WorkerPool<M>).#start(
        task,
        args,
        options,
        FUTURE_SINK,
        future,
      );
    } catch (error) {
      settleFuture(future, false, error);
    }
    return future;
  }

  /** Throws unless the pool takes new calls. */
  #checkOpen(verb: string, task: unknown): void {
    const scheduler = this.#scheduler;
    if (scheduler.state === "broken") throw scheduler.loadError;
    if (scheduler.state !== "open") {
      throw new PoolClosedError(
        `Cannot ${verb} ${labelOf(task)} as the pool is ${scheduler.state}`,
      );
    }
  }

  #start(
    task: string | InlineTask<unknown[], unknown>,
    args: unknown[] | undefined,
    options: WorkerPoolRunOptions | undefined,
    sink: TaskSink,
    tag: unknown,
  ): void {
    this.#checkOpen("run", task);
    const fnId = this.#fns.idOf(task);
    const list = args ?? [];
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot run ${
          labelOf(task)
        } as its arguments must be an array: received ${describe(args)}`,
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    let transfer = options?.transfer === undefined
      ? undefined
      : [...options.transfer];
    const encoded = encodeValues(list);
    if (encoded !== undefined && encoded.transfer.length > 0) {
      transfer = [...(transfer ?? []), ...encoded.transfer];
    }
    const init: TaskInit = {
      fnId,
      payload: encoded === undefined ? list : [encoded.values, encoded.paths],
      mode: encoded === undefined ? MODE_CALL : MODE_WIRE,
      transfer,
      signal,
      offset: 0,
      bytes: estimateBytes(list),
    };
    const scheduled = this.#scheduler.task(init, sink, tag);
    if (sink === FUTURE_SINK) {
      onFutureCancel(
        tag as Future<unknown>,
        (reason) => this.#scheduler.cancel(scheduled, reason),
      );
    }
    this.#scheduler.submit(scheduled, true);
  }

  /**
   * Runs a task on every item, in parallel, and resolves to the results in
   * input order, like Python's `Pool.map`. Items are sent in chunks (see
   * {@linkcode WorkerPoolMapOptions.chunkSize}). If any item fails, `map` rejects
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
  map<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]>,
    options?: WorkerPoolMapOptions<TaskArgs<M, K>[0]>,
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
    options?: WorkerPoolMapOptions<T>,
  ): Promise<Awaited<R>[]>;
  map(
    this: Unreachable,
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown>,
    options: WorkerPoolMapOptions<never> = {},
  ): Promise<unknown[]> {
    return (this as unknown as WorkerPool<M>).#map("map", task, items, options);
  }

  /**
   * Runs a task on every list of arguments, spread (`task(...args)`), in
   * parallel, and resolves to the results in input order, like Python's
   * `Pool.starmap`. Otherwise as {@linkcode WorkerPool.map}.
   *
   * @typeParam K The task's name in the task module.
   * @param task A task name.
   * @param items The argument lists (any iterable).
   * @param options `chunkSize`, `signal`, `transfer` and `onProgress`.
   * @returns The results, in input order.
   * @throws {TypeError} If `items` is not iterable, or an item is not an
   * array, or an item or result cannot be cloned.
   * @throws {PoolClosedError} If the pool is closed or closing.
   * @throws {unknown} The first task error, or `signal.reason`.
   */
  starmap<K extends TaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>>,
    options?: WorkerPoolMapOptions<TaskArgs<M, K>>,
  ): Promise<TaskResult<M, K>[]>;
  /**
   * Runs an inline function on every list of arguments, spread, and
   * resolves to the results in input order.
   *
   * @typeParam A The function's parameter types.
   * @typeParam R The function's result type.
   * @param task A self-contained function.
   * @param items The argument lists (any iterable).
   * @param options `chunkSize`, `signal`, `transfer` and `onProgress`.
   * @returns The results, in input order.
   *
   * @example Python's `pool.starmap(pow, [(2, 5), (3, 2)])`
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2 });
   * const powers = await pool.starmap(
   *   (base: number, exponent: number) => base ** exponent,
   *   [[2, 5], [3, 2]],
   * );
   * assert.deepEqual(powers, [32, 9]);
   * ```
   */
  starmap<A extends unknown[], R>(
    task: InlineTask<A, R>,
    items: Iterable<A>,
    options?: WorkerPoolMapOptions<A>,
  ): Promise<Awaited<R>[]>;
  starmap(
    this: Unreachable,
    task: string | InlineTask<unknown[], unknown>,
    items: Iterable<unknown[]>,
    options: WorkerPoolMapOptions<never> = {},
  ): Promise<unknown[]> {
    const self = this as unknown as WorkerPool<M>;
    return self.#map("starmap", task, items, options);
  }

  async #map(
    label: "map" | "starmap",
    task: string | InlineTask<never[], unknown>,
    items: Iterable<unknown>,
    options: WorkerPoolMapOptions<never>,
  ): Promise<unknown[]> {
    this.#checkOpen(label, task);
    const fnId = this.#fns.idOf(task);
    const { array, config } = parseMapArguments(label, task, items, options);
    return await map(this.#scheduler, fnId, array, config);
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
  imap<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: WorkerPoolIMapOptions<TaskArgs<M, K>[0]>,
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
    options?: WorkerPoolIMapOptions<T>,
  ): AsyncIterableIterator<Awaited<R>>;
  imap(
    this: Unreachable,
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: WorkerPoolIMapOptions<never> = {},
  ): AsyncIterableIterator<unknown> {
    const self = this as unknown as WorkerPool<M>;
    return self.#imap(task, items, options, true);
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
  imapUnordered<K extends MapTaskName<M>>(
    task: K,
    items: Iterable<TaskArgs<M, K>[0]> | AsyncIterable<TaskArgs<M, K>[0]>,
    options?: WorkerPoolIMapOptions<TaskArgs<M, K>[0]>,
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
    options?: WorkerPoolIMapOptions<T>,
  ): AsyncIterableIterator<Awaited<R>>;
  imapUnordered(
    this: Unreachable,
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: WorkerPoolIMapOptions<never> = {},
  ): AsyncIterableIterator<unknown> {
    const self = this as unknown as WorkerPool<M>;
    return self.#imap(task, items, options, false);
  }

  #imap(
    task: string | InlineTask<[unknown], unknown>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    options: WorkerPoolIMapOptions<never>,
    ordered: boolean,
  ): AsyncIterableIterator<unknown> {
    const label = ordered ? "imap" : "imapUnordered";
    try {
      this.#checkOpen(label, task);
      const fnId = this.#fns.idOf(task);
      const { source, isAsync, config } = parseIMapArguments(
        label,
        task,
        items,
        options,
        this.size,
      );
      return new IMapRun(this.#scheduler, fnId, source, isAsync, config);
    } catch (error) {
      return failedIteration(error);
    }
  }

  /**
   * Starts workers up to `minSize` (at least one) and resolves once that
   * many have loaded the task module and are ready for tasks, so that
   * start-up is paid before it matters (before a benchmark's timed part, or
   * before a server takes requests). A worker that fails to load the module
   * rejects it with the load error, as calls would.
   *
   * @param options `signal` bounds the wait.
   * @returns A promise that resolves when the workers are ready.
   * @throws {PoolClosedError} If the pool is closed, or closes first.
   * @throws {Error} If the task module fails to load (its error is the
   *   `cause`).
   * @throws {unknown} `signal.reason`, if the signal aborts first.
   *
   * @example Paying start-up before the work
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * await using pool = new WorkerPool({ size: 2, minSize: 2 });
   * await pool.ready({ signal: AbortSignal.timeout(10_000) });
   * assert.equal(pool.stats.workers, 2);
   * assert.deepEqual(await pool.map((x: number) => x * 2, [1, 2, 3]), [2, 4, 6]);
   * ```
   */
  ready(options?: WorkerPoolReadyOptions): Promise<void> {
    return this.#scheduler.warm(options?.signal);
  }

  /**
   * Finishes every queued and running task, then ends every worker, and
   * resolves once every worker thread has ended, including an abandoned one
   * (a cancelled task that ignored its abort and is still busy in a
   * synchronous loop: Deno cannot stop it, so `close()` waits for it to
   * end). New calls reject with {@linkcode PoolClosedError} from the moment
   * `close()` is called; an `imap` being iterated stops reading its input.
   * Calling it again returns the same promise.
   *
   * @param options `signal` bounds the wait: if it aborts first, the pool is
   * terminated (see {@linkcode WorkerPool.terminate}) and `close()` rejects
   * with `signal.reason`.
   * @returns A promise that resolves when the pool has closed.
   * @throws {unknown} `signal.reason`, if the signal aborted first.
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
   *
   * @example Bounding the wait
   * ```ts
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const pool = new WorkerPool({ size: 1 });
   * await pool.close({ signal: AbortSignal.timeout(10_000) });
   * assert.equal(pool.state, "closed");
   * ```
   */
  close(options?: WorkerPoolCloseOptions): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = this.#scheduler.close().then(() => this.#revoke());
    }
    const signal = options?.signal;
    if (signal === undefined) return this.#closing;
    if (signal.aborted) return this.#abortClose(signal);
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#abortClose(signal).then(resolve, reject);
      signal.addEventListener("abort", onAbort, { once: true });
      (this.#closing as Promise<void>).then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, reject);
    });
  }

  #abortClose(signal: AbortSignal): Promise<void> {
    return this.terminate().then(() => {
      throw signal.reason;
    });
  }

  /**
   * Ends every worker now. Waiting, queued and running tasks reject with
   * {@linkcode PoolClosedError}. Resolves once the worker threads have
   * ended, except an abandoned one (busy in a synchronous loop, which Deno
   * cannot stop): it is not waited for, and `stats.abandonedWorkers` counts
   * it until its thread ends.
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
    return this.#scheduler.terminate().then(() => this.#revoke());
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

/**
 * A `run` call's outcome: its tag is the promise's `resolve`, and a failure
 * resolves it with a rejected promise, which rejects it with the same reason
 * (two microtasks later than `reject` would).
 */
const PROMISE_SINK: TaskSink = {
  settle(task, ok, value) {
    (task.tag as (value: unknown) => void)(ok ? value : Promise.reject(value));
  },
};

const FUTURE_SINK: TaskSink = {
  settle(task, ok, value) {
    settleFuture(task.tag as Future<unknown>, ok, value);
  },
};

/** An iteration that throws `error` on its first step. */
function failedIteration(error: unknown): AsyncIterableIterator<unknown> {
  let thrown = false;
  const iterator: AsyncIterableIterator<unknown> = {
    next() {
      if (thrown) return Promise.resolve({ value: undefined, done: true });
      thrown = true;
      return Promise.reject(error);
    },
    return(value?: unknown) {
      thrown = true;
      return Promise.resolve({ value, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
