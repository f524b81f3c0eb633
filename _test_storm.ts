// Copyright the @seed/concurrency authors. MIT license.
// Internal test driver (not published: `_test_*.ts`): a seeded storm of pool
// calls with crashes, aborts, timeouts, cancelled futures, backpressure,
// recycling, idle timeouts, hostile tasks, early breaks out of imap, and a
// close or terminate at a random moment; then a check of every invariant the
// pool promises (see testdata/storm_checks.ts for the per-call rules):
//
// - every call settles exactly once, with an allowed outcome, and nothing
//   hangs (a watchdog turns a hang into a violation with a dump);
// - no task runs twice (each task counts its starts: in shared memory with
//   threads, by appending a byte to a file of its own with processes);
// - close() or terminate() resolves (close({ signal }) may reject with the
//   signal's reason), and the stats at rest add up;
// - with threads, abandonedWorkers returns to 0 and the OS thread count to
//   its start; with processes, abandonedWorkers is 0 (a process worker is
//   killed, never abandoned) and no child process of this one is left.
//
// Both isolations run the same script, but for the kinds that make sense in
// one only (see `kindsFor`). The seed fixes the script (which calls, kinds,
// signals, when to end); the interleaving with the workers still depends on
// timing. Used by pool_storm_test.ts and bench/soak.ts.
import { WorkerPool, type WorkerPoolOptions } from "./pool.ts";
import {
  BAD_RESULT_KINDS,
  CRASH_KINDS,
  encodeFast,
  FAST_KINDS,
  FAST_RUNS_ENV,
  HOSTILE_KINDS,
  type Kind,
  PROCESS_CRASH_KINDS,
  PROCESS_HOSTILE_KINDS,
  type Runs,
  startsOf,
  type StormItem,
} from "./testdata/storm_tasks.ts";
import type * as Tasks from "./testdata/storm_tasks.ts";
import {
  type Call,
  checkCall,
  describeCall,
  type Method,
  outcomeOf,
  produce,
  produceAsync,
  settlesWithin,
  takeRandom,
  track,
} from "./testdata/storm_calls.ts";
import {
  catchUncaught,
  childProcesses,
  childrenLeftAfter,
  eventually,
  Random,
  restingProblems,
  threadsBackTo,
  watchdog,
  WATCHDOG_MS,
  workerThreadCount,
} from "./testdata/storm_harness.ts";

const TASKS = new URL("./testdata/storm_tasks.ts", import.meta.url);

/** What runs the pool's workers (the pool's `isolation` option). */
export type Isolation = "thread" | "process";

/** How to run one storm. */
export interface StormOptions {
  seed: number;
  /** Threads or child processes, as the pool's option. Default: threads. */
  isolation?: Isolation;
  /** How many calls to make (a `map` or an `imap` is one call). */
  calls: number;
  /** The safety net that turns a hang into a violation. */
  watchdogMs?: number;
  /** Whether to include hostile tasks (they take process-wide Web Locks). */
  hostile?: boolean;
  /** End the pool after the last call, not at a random moment (for soaks). */
  endLast?: boolean;
  /** How to end the pool, instead of a random way. */
  end?: End;
}

/** How the storm ends the pool. */
export type End = "close" | "terminate" | "closeSignal" | "closeThenTerminate";

/** What a storm did, and what it found wrong. */
export interface StormReport {
  seed: number;
  isolation: Isolation;
  options: WorkerPoolOptions;
  end: End;
  calls: number;
  tasks: number;
  outcomes: Record<string, number>;
  crashedWorkers: number;
  /** From the first call until every thread (or child process) had ended. */
  elapsedMs: number;
  /** From close() or terminate() until it settled. */
  closeMs: number;
  violations: string[];
  stats: unknown;
}

/** The storm's safety net: generous, as the storm takes seconds. */
const STORM_WATCHDOG_MS = Math.max(WATCHDOG_MS * 2, 45_000);

/** How storms end, close() twice as often as the others. */
const ENDS: readonly End[] = [
  "close",
  "close",
  "terminate",
  "closeSignal",
  "closeThenTerminate",
];

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * How long the child processes of a process pool may take to be gone once
 * it has ended, in ms: a worker told to stop is killed after 2 s at most,
 * and its exit is seen a moment later.
 */
const CHILDREN_GONE_MS = 10_000;

/** The kinds of task a storm draws from, beside the ordinary ones. */
interface Kinds {
  crash: readonly Kind[];
  hostile: readonly Kind[];
  badResult: readonly Kind[];
}

/**
 * The kinds each isolation draws from. Every crash kind kills a process
 * worker as it kills a thread (throw outside a task, unhandled rejection,
 * `self.close()`, `Deno.exit()`, stack overflow), and a process can also be
 * killed by a signal (`crashKill`: no last words, as at an OOM kill or a
 * native crash). The thread's hostile kinds attack what only a worker
 * thread has (`self.postMessage` and its ports, the control block in shared
 * memory, the lifeline Web Locks), so a process storm leaves them out: in a
 * child process there is no `self.postMessage` to forge with, and patching
 * `Atomics`, `MessagePort` or taking its own Web Locks touches nothing the
 * pool uses. A process storm's hostile kind garbles the child's channel
 * instead. The results that cannot be moved (a bad transfer list, a
 * transferred SharedArrayBuffer) fail their call in both.
 */
function kindsFor(isolation: Isolation): Kinds {
  return isolation === "thread"
    ? {
      crash: CRASH_KINDS,
      hostile: HOSTILE_KINDS,
      badResult: BAD_RESULT_KINDS,
    }
    : {
      crash: [...CRASH_KINDS, ...PROCESS_CRASH_KINDS],
      hostile: PROCESS_HOSTILE_KINDS,
      badResult: BAD_RESULT_KINDS,
    };
}

/** Runs one storm and checks every invariant; a violation is reported, not thrown. */
export async function runStorm(options: StormOptions): Promise<StormReport> {
  return await new Storm(options).run();
}

class Storm {
  readonly seed: number;
  readonly isolation: Isolation;
  readonly kinds: Kinds;
  readonly budget: number;
  readonly hostile: boolean;
  readonly watchdogMs: number;
  readonly rng: Random;
  readonly options: WorkerPoolOptions;
  readonly end: End;
  readonly endAt: number;
  readonly pool: WorkerPool<typeof Tasks>;
  /** Start counters: shared memory (threads) or a temporary directory. */
  readonly runs: Runs;
  /** Start counters of fast calls (see `stepFast`): a directory. */
  readonly fastRuns: string;
  /** Fast calls are drawn apart, so that seeds keep their other calls. */
  readonly fastRng: Random;
  readonly fastIndices: number[] = [];
  /** Whether the last call was a fast one, awaited, and the next follows. */
  sequence = false;
  readonly calls: Call[] = [];
  readonly abortable: { controller: AbortController; call: Call }[] = [];
  readonly cancellable: Call[] = [];
  readonly violations: string[] = [];
  /** Calls still pending when the watchdog fired (it named them). */
  readonly lost = new Set<Call>();
  nextIndex = 0;
  /** The most calls left pending before the script waits for the oldest. */
  readonly backlog: number;
  settled = 0;
  stuck = 0;
  oldest = 0;
  ending: Promise<void> | undefined;
  endState = "none" as "none" | "pending" | "resolved" | "rejected";
  endError: unknown;
  endStartedAt = 0;
  endSettledAt = 0;
  closeController: AbortController | undefined;
  closeAbortReason: unknown;
  terminating: Promise<void> | undefined;
  /** A process storm saw an abandoned worker (it is noted once). */
  sawAbandoned = false;

  constructor(storm: StormOptions) {
    this.seed = storm.seed;
    this.isolation = storm.isolation ?? "thread";
    this.kinds = kindsFor(this.isolation);
    this.budget = storm.calls;
    this.hostile = storm.hostile ?? true;
    this.watchdogMs = storm.watchdogMs ?? STORM_WATCHDOG_MS;
    const rng = this.rng = new Random(storm.seed);
    const options: WorkerPoolOptions = {
      size: 1 + rng.int(4),
      abortGraceMs: 5 + rng.int(30),
      name: `storm ${storm.seed}`,
    };
    if (rng.chance(0.4)) options.maxQueue = 1 + rng.int(6);
    if (rng.chance(0.4)) options.maxTasksPerWorker = 4 + rng.int(17);
    if (rng.chance(0.5)) options.idleTimeoutMs = 1 + rng.int(20);
    // Drawn apart, so the seeds found before warm pools keep their storms.
    const warm = new Random(storm.seed ^ 0x5eed);
    if (warm.chance(0.3)) {
      options.minSize = 1 + warm.int(options.size as number);
    }
    if (this.isolation === "process") options.isolation = "process";
    this.options = options;
    this.backlog = 2 + rng.int(8 * (options.size as number));
    const end = rng.pick(ENDS);
    this.end = storm.end ?? end;
    const endAt = Math.floor(this.budget * (0.5 + 0.5 * rng.next()));
    this.endAt = storm.endLast ? this.budget : endAt;
    this.pool = new WorkerPool<typeof Tasks>(TASKS, options);
    // A process worker cannot be sent shared memory: its tasks count their
    // starts in files (see `Runs` in storm_tasks.ts).
    this.runs = this.isolation === "thread"
      ? new Int32Array(new SharedArrayBuffer(4 * (this.budget * 24)))
      : Deno.makeTempDirSync({ prefix: `storm-${this.seed}-` });
    this.fastRuns = Deno.makeTempDirSync({
      prefix: `storm-fast-${this.seed}-`,
    });
    // Read by the workers' stepFast (threads only, see #issue).
    Deno.env.set(FAST_RUNS_ENV, this.fastRuns);
    this.fastRng = new Random(storm.seed ^ 0xfa57);
  }

  async run(): Promise<StormReport> {
    try {
      return await this.#run();
    } finally {
      if (typeof this.runs === "string") {
        Deno.removeSync(this.runs, { recursive: true });
      }
      Deno.removeSync(this.fastRuns, { recursive: true });
    }
  }

  async #run(): Promise<StormReport> {
    const threadsBefore = workerThreadCount();
    const childrenBefore = new Set(childProcesses().map((child) => child.pid));
    const started = performance.now();
    // An error the pool throws outside any call would end the process: note
    // it as a violation instead, and go on.
    const stopCatching = catchUncaught((error) => {
      const where = error instanceof Error
        ? ` (${error.stack?.split("\n")[1]?.trim()})`
        : "";
      this.violations.push(
        `the pool threw outside any call: ${String(error)}${where}`,
      );
    });
    try {
      await watchdog(
        this.#play(threadsBefore, childrenBefore),
        `the storm of seed ${this.seed}`,
        () => this.#dump(),
        this.watchdogMs,
        () => this.settled,
      );
    } catch (error) {
      this.violations.push(error instanceof Error ? error.message : `${error}`);
      // Calls still pending were lost: terminate() must not make them look
      // settled to the checks below.
      for (const call of this.calls) {
        if (call.status === "pending") this.lost.add(call);
      }
      void this.pool.terminate().catch(() => {});
    } finally {
      stopCatching();
    }
    const elapsedMs = performance.now() - started;
    const outcomes: Record<string, number> = {};
    for (const call of this.calls) {
      const kind = this.lost.has(call) ? "lost at the hang" : outcomeOf(call);
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
    }
    this.#check();
    const stats = this.pool.stats;
    return {
      seed: this.seed,
      isolation: this.isolation,
      options: this.options,
      end: this.end,
      calls: this.calls.length,
      tasks: this.nextIndex,
      outcomes,
      crashedWorkers: stats.crashedWorkers,
      elapsedMs,
      closeMs: this.endSettledAt > 0
        ? this.endSettledAt - this.endStartedAt
        : -1,
      violations: this.violations,
      stats,
    };
  }

  async #play(
    threadsBefore: number,
    childrenBefore: ReadonlySet<number>,
  ): Promise<void> {
    const { rng, pool } = this;
    for (let n = 0; n < this.budget; n++) {
      if (n === this.endAt) this.#startEnd();
      this.#issue();
      const call = this.calls[n]!;
      void call.done.then(() => this.settled++);
      // A caller that awaits each call, and makes the next at once: the next
      // finds its worker parked. Most steps of such a sequence skip the
      // storm's other moves (aborts, crashes, the end), some do not.
      this.sequence = call.items[0]?.runs === this.fastRuns &&
        this.fastRng.chance(0.85);
      if (this.sequence) {
        await settlesWithin(call.done, 250);
        if (!this.fastRng.chance(0.15)) continue;
      }
      await this.#control();
    }
    if (this.ending === undefined) this.#startEnd();
    if (this.end === "closeSignal" && rng.chance(0.5)) this.#abortClose();
    if (this.end === "closeThenTerminate") {
      this.terminating ??= pool.terminate();
    }
    await Promise.all(this.calls.map((call) => call.done));
    await this.ending?.catch(() => {});
    await this.terminating;
    const terminated = this.end === "terminate" ||
      this.terminating !== undefined;
    if (this.endState === "resolved" && !terminated) {
      // close() resolves only once every worker thread has ended.
      const abandoned = pool.stats.abandonedWorkers;
      if (abandoned !== 0) {
        this.violations.push(
          `close() resolved while ${abandoned} abandoned workers were counted`,
        );
      }
    }
    if (this.isolation === "process") {
      this.#noneAbandoned(`after ${this.end}`);
      const left = await childrenLeftAfter(childrenBefore, CHILDREN_GONE_MS);
      if (left.length > 0) {
        this.violations.push(
          `${left.length} child processes left ${CHILDREN_GONE_MS} ms after ${this.end} settled: ${
            left.map((child) =>
              `pid ${child.pid} (state ${child.state}) ${child.command}`
            ).join("; ")
          }`,
        );
      }
    }
    await eventually(() => pool.stats.abandonedWorkers === 0);
    await threadsBackTo(threadsBefore);
  }

  /** A process worker is killed, never abandoned: notes it if one was. */
  #noneAbandoned(when: string): void {
    const abandoned = this.pool.stats.abandonedWorkers;
    if (abandoned === 0 || this.sawAbandoned) return;
    this.sawAbandoned = true;
    this.violations.push(
      `${abandoned} abandoned workers ${when}, though process workers are killed, never abandoned`,
    );
  }

  #item(kind: Kind): StormItem {
    const item: StormItem = { runs: this.runs, index: this.nextIndex++, kind };
    if (kind === "slowAsync" || kind === "slowSync") {
      item.ms = 1 + this.rng.int(20);
    }
    if (kind === "stubborn") item.ms = 20 + this.rng.int(60);
    return item;
  }

  #singleKind(): Kind {
    const { rng } = this;
    const r = rng.next();
    if (r < 0.40) return "ok";
    if (r < 0.50) return "async";
    if (r < 0.60) return "fail";
    if (r < 0.68) return "slowAsync";
    if (r < 0.76) return "slowSync";
    if (r < 0.78) return "stubborn";
    if (r < 0.88) return rng.pick(this.kinds.crash);
    if (r < 0.95 && this.hostile) return rng.pick(this.kinds.hostile);
    if (r < 0.97) return rng.pick(this.kinds.badResult);
    return "ok";
  }

  #listKind(crashes: boolean): Kind {
    const r = this.rng.next();
    if (r < 0.70) return "ok";
    if (r < 0.82) return "async";
    if (r < 0.90) return "fail";
    if (r < 0.96) return "slowSync";
    return crashes ? this.rng.pick(this.kinds.crash) : "ok";
  }

  #signal(call: Call): AbortSignal | undefined {
    const r = this.rng.next();
    if (r < 0.2) {
      const controller = new AbortController();
      this.abortable.push({ controller, call });
      return controller.signal;
    }
    if (r < 0.25) return AbortSignal.timeout(1 + this.rng.int(30));
  }

  /** A new pending call of `method`, recorded in `calls`. */
  #newCall(method: Method): Call {
    const call: Call = {
      id: this.calls.length,
      method,
      items: [],
      afterEnd: this.ending !== undefined,
      signal: undefined,
      status: "pending",
      settles: 0,
      yielded: [],
      breakAt: undefined,
      done: Promise.resolve(),
    };
    this.calls.push(call);
    return call;
  }

  /**
   * A fast call: one number argument, so that alone on an idle worker
   * thread it takes the fast path, and, right after the previous one
   * settled, the doorbell of a parked worker (see `_doorbell.ts`).
   */
  #issueFast(): void {
    const { fastRng: rng } = this;
    const kind = rng.next() < 0.75 ? "ok" : rng.pick(FAST_KINDS);
    const item: StormItem = {
      runs: this.fastRuns,
      index: this.nextIndex++,
      kind,
    };
    this.fastIndices.push(item.index);
    const call = this.#newCall("run");
    call.items.push(item);
    let options = {};
    if (rng.chance(0.1)) {
      const controller = new AbortController();
      this.abortable.push({ controller, call });
      call.signal = controller.signal;
      options = { signal: controller.signal };
    }
    track(
      call,
      this.pool.run("stepFast", [encodeFast(item.index, kind)], options),
    );
  }

  #issue(): void {
    const { rng, pool } = this;
    // Threads only: a process worker has no fast path (and its environment
    // is its own).
    if (
      this.isolation === "thread" &&
      (this.sequence || this.fastRng.chance(0.2))
    ) return this.#issueFast();
    const r = rng.next();
    const method: Method = r < 0.55
      ? "run"
      : r < 0.75
      ? "submit"
      : r < 0.85
      ? "map"
      : r < 0.95
      ? "imap"
      : "imapUnordered";
    const call = this.#newCall(method);
    call.signal = this.#signal(call);
    const withSignal = call.signal === undefined ? {} : { signal: call.signal };
    if (method === "run" || method === "submit") {
      const item = this.#item(this.#singleKind());
      call.items.push(item);
      if (method === "run") {
        return track(call, pool.run("step", [item], withSignal));
      }
      const future = call.future = pool.submit("step", [item], withSignal);
      future.onSettled(() => call.settles++);
      call.done = new Promise<void>((resolve) => {
        future.onSettled((f) => {
          call.status = f.state === "fulfilled" ? "resolved" : "rejected";
          if (f.state === "fulfilled") call.value = f.value;
          else call.error = f.error;
          resolve();
        });
      });
      this.cancellable.push(call);
      return;
    }
    if (method === "map") {
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) {
        call.items.push(this.#item(this.#listKind(true)));
      }
      return track(
        call,
        pool.map("step", call.items, { ...withSignal, chunkSize: 1 }),
      );
    }
    const planned = Array.from(
      { length: 1 + rng.int(20) },
      () => this.#item(this.#listKind(false)),
    );
    const isAsync = rng.chance(0.3);
    const options = {
      ...withSignal,
      ...(rng.chance(0.7) ? { chunkSize: 1 } : {}),
      ...(rng.chance(0.5) ? { maxInFlight: 1 + rng.int(4) } : {}),
    };
    if (rng.chance(0.3)) call.breakAt = rng.int(planned.length + 1);
    const source = isAsync
      ? produceAsync(planned, call.items)
      : produce(planned, call.items);
    const iterator = method === "imap"
      ? pool.imap("step", source, options)
      : pool.imapUnordered("step", source, options);
    track(
      call,
      (async () => {
        if (call.breakAt === 0) return;
        for await (const value of iterator) {
          call.yielded.push(value);
          if (call.yielded.length === call.breakAt) break;
        }
      })(),
    );
  }

  #startEnd(): void {
    const { pool } = this;
    this.endStartedAt = performance.now();
    if (this.end === "terminate") this.ending = pool.terminate();
    else if (this.end === "closeSignal") {
      this.closeController = new AbortController();
      this.ending = pool.close({ signal: this.closeController.signal });
    } else this.ending = pool.close();
    this.endState = "pending";
    this.ending.then(() => {
      this.endState = "resolved";
      this.endSettledAt = performance.now();
    }, (error) => {
      this.endState = "rejected";
      this.endError = error;
      this.endSettledAt = performance.now();
    });
  }

  #abortClose(): void {
    const controller = this.closeController;
    if (controller === undefined || controller.signal.aborted) return;
    this.closeAbortReason = new Error("Storm abort of close()");
    controller.abort(this.closeAbortReason);
  }

  /** Aborts, cancels and ends at random moments, and lets time pass. */
  async #control(): Promise<void> {
    const { rng, abortable, cancellable } = this;
    if (this.isolation === "process" && this.calls.length % 16 === 0) {
      this.#noneAbandoned(`after call #${this.calls.length - 1}`);
    }
    if (abortable.length > 0 && rng.chance(0.12)) {
      const { controller, call } = takeRandom(rng, abortable);
      controller.abort(new Error(`Storm abort of call ${call.id}`));
    }
    if (cancellable.length > 0 && rng.chance(0.06)) {
      const call = takeRandom(rng, cancellable);
      const reason = new Error(`Storm cancel of call ${call.id}`);
      if (call.future?.cancel(reason)) call.cancelReason = reason;
    }
    if (this.closeController !== undefined && rng.chance(0.05)) {
      this.#abortClose();
    }
    if (
      this.end === "closeThenTerminate" && this.ending !== undefined &&
      this.terminating === undefined && rng.chance(0.1)
    ) this.terminating = this.pool.terminate();
    if (rng.chance(0.3)) await tick();
    // Keep the backlog bounded, so that crashes, aborts and the end meet
    // running work and not only a long queue. A call that does not settle
    // soon is left for the watchdog to report, and no longer waited for.
    while (this.calls.length - this.settled - this.stuck > this.backlog) {
      while (
        this.oldest < this.calls.length &&
        this.calls[this.oldest]?.status !== "pending"
      ) this.oldest++;
      const oldest = this.calls[this.oldest];
      if (oldest === undefined) {
        // Every call has settled; `settled` counts them a tick later.
        await tick();
        continue;
      }
      if (!(await settlesWithin(oldest.done, 250))) {
        this.stuck++;
        this.oldest++;
      }
    }
  }

  #check(): void {
    const { pool, violations } = this;
    const closedAllowed = this.end === "terminate" ||
      this.terminating !== undefined || this.closeAbortReason !== undefined;
    const rules = {
      closedAllowed,
      claimWindows: this.isolation === "process",
    };
    for (const call of this.calls) {
      if (call.status === "pending" || this.lost.has(call)) continue;
      const problem = checkCall(call, rules);
      if (problem !== undefined) {
        violations.push(`${describeCall(call)}: ${problem}`);
      }
    }
    for (let index = 0; index < this.nextIndex; index++) {
      const count = startsOf(this.runs, index);
      if (count > 1) violations.push(`task ${index} ran ${count} times`);
    }
    for (const index of this.fastIndices) {
      const count = startsOf(this.fastRuns, index);
      if (count > 1) violations.push(`fast task ${index} ran ${count} times`);
    }
    if (
      this.endState === "rejected" &&
      (this.closeAbortReason === undefined ||
        this.endError !== this.closeAbortReason)
    ) violations.push(`${this.end} rejected with ${String(this.endError)}`);
    if (this.endState === "resolved" || this.endState === "rejected") {
      if (pool.state !== "closed") {
        violations.push(`the pool is ${pool.state} after ${this.end}`);
      }
      const stats = pool.stats;
      for (const problem of restingProblems(stats)) {
        violations.push(`stats at rest: ${problem}`);
      }
      if (stats.workers !== 0) {
        violations.push(`${stats.workers} workers after ${this.end}`);
      }
    }
  }

  #dump(): unknown {
    return {
      seed: this.seed,
      isolation: this.isolation,
      options: this.options,
      end: this.end,
      endState: this.endState,
      state: this.pool.state,
      stats: this.pool.stats,
      pending: this.calls.filter((call) => call.status === "pending")
        .slice(0, 40).map(describeCall),
    };
  }
}
