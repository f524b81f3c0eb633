// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the pool's workers as a set: starting them (lazily, one at a
 * time, by the rules in `_balance.ts`), retiring idle ones, forgetting
 * those whose thread has ended, and the figures the stats report. A worker
 * is in the set from its start until its thread has exited.
 *
 * @module
 */

import { shouldSpawn } from "./_balance.ts";
import { heldLifelines } from "./_lifeline.ts";
import { ProcessWorkerHandle } from "./_process_worker.ts";
import { ThreadWorker } from "./_thread_worker.ts";
import type {
  WorkerHandle,
  WorkerHost,
  WorkerSpec,
  WorkerState,
} from "./_worker_handle.ts";

export interface WorkerSetConfig {
  size: number;
  minSize: number;
  idleTimeoutMs: number;
  startTimeoutMs: number;
  spec: WorkerSpec;
}

/** The live figures of the set, for the stats. */
export interface WorkerFigures {
  workers: number;
  busy: number;
  abandonedWorkers: number;
}

export class WorkerSet {
  readonly #config: WorkerSetConfig;
  readonly #host: WorkerHost;
  readonly #list: WorkerHandle[] = [];
  #nextId = 1;
  /** How long a worker takes to start, in ms (a running average). */
  spawnCostMs = 10;
  /** Workers the current busy spell has wanted: a crashed one is replaced. */
  wanted = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #abandonedPoll: ReturnType<typeof setInterval> | undefined = undefined;

  constructor(config: WorkerSetConfig, host: WorkerHost) {
    this.#config = config;
    this.#host = host;
  }

  /**
   * The workers, in the order they started. Taking one out of service while
   * looping is safe (it leaves the list only when its thread has exited,
   * later); one started meanwhile joins the end.
   */
  get list(): readonly WorkerHandle[] {
    return this.#list;
  }

  /** The workers, as a copy, for a loop that may end some of them. */
  all(): WorkerHandle[] {
    return this.#list.slice();
  }

  /** How many workers have not exited. */
  get length(): number {
    return this.#list.length;
  }

  /** Tasks held unstarted by all workers. */
  backlog(): number {
    let n = 0;
    for (const worker of this.#list) n += worker.backlog;
    return n;
  }

  /** Tasks held by all workers (an upper bound of `backlog()`). */
  held(): number {
    let n = 0;
    for (const worker of this.#list) n += worker.heldCount;
    return n;
  }

  /** Whether any worker holds a task. */
  anyHeld(): boolean {
    for (const worker of this.#list) if (worker.heldCount > 0) return true;
    return false;
  }

  /** The workers in `state`, the least loaded first. */
  #byLoad(state: WorkerState): WorkerHandle[] {
    const found = this.#list.filter((worker) => worker.state === state);
    if (found.length > 1) found.sort((a, b) => a.heldCount - b.heldCount);
    return found;
  }

  /**
   * The workers to deal the queue to, the least loaded first: the ready
   * ones; while none is, the threads starting. A thread takes what it was
   * dealt as soon as its task module is loaded (its port's messages wait
   * for it), so its first tasks do not wait for READY to come and a message
   * to go back. A process claims tasks through its own protocol, so it is
   * dealt to only once ready.
   */
  dealable(): WorkerHandle[] {
    const ready = this.#byLoad("ready");
    if (ready.length > 0 || this.#config.spec.isolation !== "thread") {
      return ready;
    }
    return this.#byLoad("starting");
  }

  /** A ready worker that holds nothing, if any. */
  idleReady(): WorkerHandle | undefined {
    for (const worker of this.#list) {
      if (worker.state === "ready" && worker.heldCount === 0) return worker;
    }
    return undefined;
  }

  /** Whether every worker left is abandoned. */
  onlyAbandoned(): boolean {
    return this.#list.every((worker) => worker.state === "abandoned");
  }

  /**
   * How many workers to start now, by the rules in `_balance.ts`: the ones a
   * warm pool misses, all at once; or one more; or none.
   */
  toStart(
    pending: () => number,
    avgRunMs: number,
    now: number,
    floor: number,
  ): number {
    let live = 0;
    let starting = 0;
    let stalled = false;
    for (const worker of this.#list) {
      if (worker.state === "starting") starting++;
      if (worker.state === "ready") live++;
      if (
        worker.state === "ready" && worker.heldCount > 0 &&
        now - worker.lastProgressAt > this.spawnCostMs
      ) stalled = true;
    }
    // A warm pool: every missing worker starts at once.
    if (live + starting < floor) return floor - live - starting;
    // Growing, one worker starts at a time; replacing workers that died in
    // this busy spell, all start at once.
    if (starting > 0 && live + starting >= this.wanted) return 0;
    if (live + starting >= this.#config.size) return 0;
    const spawn = shouldSpawn({
      live: live + starting,
      size: this.#config.size,
      pending: pending(),
      wanted: this.wanted,
      avgRunMs,
      spawnCostMs: this.spawnCostMs,
      stalled,
    });
    return spawn ? 1 : 0;
  }

  /**
   * Starts `count` workers (as `toStart` says), after `feed` (see
   * `#beforeSpawn`).
   *
   * @throws {unknown} What `new Worker` throws.
   */
  start(count: number, feed: (ms: number) => void): void {
    this.#beforeSpawn(feed);
    const kept = this.#kept();
    for (let n = 0; n < count; n++) this.#spawn();
    this.wanted = Math.max(this.wanted, kept + count);
  }

  /**
   * `new Worker` blocks the main thread until the new thread's runtime is up
   * (about 20-30 ms on 2 cores, most of a start), so no message is read
   * meanwhile: first give the ready workers work enough to outlast it.
   * Starting a process does not block.
   */
  #beforeSpawn(feed: (ms: number) => void): void {
    if (this.#config.spec.isolation === "thread") feed(this.spawnCostMs);
  }

  /**
   * Starts one worker.
   *
   * @throws {unknown} What `new Worker` throws.
   */
  #spawn(): void {
    const { spec } = this.#config;
    const worker: WorkerHandle = spec.isolation === "process"
      ? new ProcessWorkerHandle(this.#nextId++, spec, this.#host)
      : new ThreadWorker(this.#nextId++, spec, this.#host);
    this.#list.push(worker);
    const timeout = this.#config.startTimeoutMs;
    if (Number.isFinite(timeout)) {
      worker.armStartTimer(timeout, () =>
        this.#host.onDeath(
          worker,
          new Error(
            `The worker did not start within startTimeoutMs (${timeout} ms): does the task module wait for something at its top level that never comes?`,
          ),
        ));
    }
  }

  /** A worker became ready: learn how long starting takes. */
  started(worker: WorkerHandle): void {
    this.spawnCostMs = this.spawnCostMs * 0.5 +
      (performance.now() - worker.createdAt) * 0.5;
  }

  /** A worker's thread has exited: forget it. */
  exited(worker: WorkerHandle): void {
    const index = this.#list.indexOf(worker);
    if (index !== -1) this.#list.splice(index, 1);
  }

  /** How many workers are starting or ready (in service, not retiring). */
  #kept(): number {
    let n = 0;
    for (const worker of this.#list) {
      if (worker.state === "starting" || worker.state === "ready") n++;
    }
    return n;
  }

  /** How many workers are ready. */
  readyCount(): number {
    let n = 0;
    for (const worker of this.#list) if (worker.state === "ready") n++;
    return n;
  }

  /**
   * Arms the idle timer, if a ready worker holds nothing and more than
   * `minSize` workers are kept: when it fires, workers idle for
   * `idleTimeoutMs` retire (down to `minSize`) and `onRetire` runs. The
   * timer does not keep the process alive.
   */
  armIdle(onRetire: () => void): void {
    const timeout = this.#config.idleTimeoutMs;
    if (this.#idleTimer !== undefined || !Number.isFinite(timeout)) return;
    if (this.#kept() <= this.#config.minSize) return;
    let next = Infinity;
    const now = performance.now();
    for (const worker of this.#list) {
      if (worker.state === "ready" && worker.heldCount === 0) {
        next = Math.min(next, worker.idleSince + timeout - now);
      }
    }
    if (next === Infinity) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      const now = performance.now();
      let spare = this.#kept() - this.#config.minSize;
      for (const worker of this.#list) {
        if (spare <= 0) break;
        if (
          worker.state === "ready" && worker.heldCount === 0 &&
          now - worker.idleSince >= timeout
        ) {
          worker.retire();
          spare--;
        }
      }
      onRetire();
    }, Math.max(0, next));
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  clearIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /**
   * Stops watching the lifelines of abandoned workers (a watch keeps the
   * process alive) and polls them instead, on a timer that keeps the process
   * alive only while `keepAlive()` says so (a `close()` waits for them).
   * `onExit` runs for each as its thread ends.
   */
  pollAbandoned(
    keepAlive: () => boolean,
    onExit: (worker: WorkerHandle) => void,
  ): void {
    if (this.#abandonedPoll !== undefined || this.#list.length === 0) return;
    for (const worker of this.#list) worker.unwatch();
    const poll = setInterval(async () => {
      const held = await heldLifelines(this.#list.map((w) => w.lifeline));
      for (const worker of this.all()) {
        if (!held.has(worker.lifeline)) {
          worker.state = "exited";
          onExit(worker);
        }
      }
      if (this.#list.length === 0) {
        clearInterval(poll);
        this.#abandonedPoll = undefined;
      } else if (keepAlive()) Deno.refTimer(poll);
      else Deno.unrefTimer(poll);
    }, 50);
    if (!keepAlive()) Deno.unrefTimer(poll);
    this.#abandonedPoll = poll;
  }

  figures(): WorkerFigures {
    let workers = 0;
    let busy = 0;
    let abandoned = 0;
    for (const worker of this.#list) {
      if (worker.state === "abandoned") abandoned++;
      else if (worker.state !== "stopping") workers++;
      if (worker.heldCount > 0) busy++;
    }
    return { workers, busy, abandonedWorkers: abandoned };
  }
}
