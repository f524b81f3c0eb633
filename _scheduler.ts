// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the pool's scheduler. It owns the queue and the workers, and is
 * the only code that moves tasks between states (see `_task.ts`) and workers
 * between states (see `_worker_handle.ts`), but for the one move it leaves
 * to its dealer (`_dealer.ts`, which it owns): which worker holds which
 * queued or unstarted task. `pool.ts` is its public face.
 *
 * ## What holds at rest (no event being handled)
 *
 * For every task, exactly one of:
 * - `waiting`: in `#backpressure`, and the pool is open or closing;
 * - `queued`: in `#queue` (see `_task_queue.ts`);
 * - `held`: in the held table of `task.worker`, a worker in service; or in
 *   none only while its result with library objects is being revived;
 * - `settled`: delivered once; it may still sit in `#queue` (skipped when
 *   reached) or in a worker's held table (a cancelled task still running).
 *
 * So `stats.submitted` equals `completed + failed + cancelled` plus the
 * tasks waiting, queued or held, and at rest every count is exact.
 *
 * For every worker: it is in `#workers` until its thread has exited; only a
 * `ready`, `retiring` or `dying` worker holds tasks, or a `starting` thread;
 * only a `ready` one is given more, or a `starting` thread while none is
 * ready (see `WorkerSet.dealable`); a `retiring` worker that holds nothing
 * is stopped at once. A task never waits in the queue of a pool whose task
 * module failed to load: what a worker that never started held fails.
 *
 * Progress: whenever a task is waiting, queued or held, the heartbeat timer
 * is armed, so results in the workers' result rings are read, and stealing,
 * spawning and admission happen, even when no message arrives (a worker
 * stuck in a long task, a task that waits for another).
 *
 * No task runs twice: a task is taken back from a worker only through the
 * control block's revoke, which fails once the worker has started it (see
 * `_control.ts`); a task that started on a worker that died fails with
 * `WorkerCrashedError`.
 *
 * Every path that takes a worker out of service goes through `#stop`.
 *
 * @module
 */

import { Backpressure } from "./_backpressure.ts";
import { Conditions } from "./_conditions.ts";
import {
  closedError,
  diedError,
  graceError,
  loadError,
  lostTransferError,
  protocolError,
  sharedInProcessError,
  stallWarning,
} from "./_pool_errors.ts";
import { sharedTypeIn } from "./_proc_ports.ts";
import { stalledOnChannels } from "./_balance.ts";
import { DONE } from "./_control.ts";
import { Dealer, takeBack } from "./_dealer.ts";
import { weightOf } from "./_dispatch.ts";
import type { FnTable } from "./_fn_table.ts";
import { type MessageEvents, readMessage, readResults } from "./_results.ts";
import { type PoolStats, StatsRecorder } from "./_stats.ts";
import { type Outcome, Task, type TaskInit, type TaskSink } from "./_task.ts";
import type { WorkerHandle, WorkerHost, WorkerSpec } from "./_worker_handle.ts";
import { WorkerSet } from "./_workers.ts";
import { TaskQueue } from "./_task_queue.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";

/** The pool's lifecycle: `broken` once its task module failed to load. */
export type PoolState = "open" | "broken" | "closing" | "closed";

export interface SchedulerConfig {
  size: number;
  /** Workers kept started while the pool is open (a warm pool). */
  minSize: number;
  maxQueue: number;
  maxTasksPerWorker: number;
  idleTimeoutMs: number;
  abortGraceMs: number;
  startTimeoutMs: number;
  spec: WorkerSpec;
}

const MAX_TASK_ID = 0x7fff_fff0;
/** What the heartbeat "receives" from a busy worker: read its result ring. */
const RING_CHECK = 0;

export class Scheduler implements WorkerHost {
  state: PoolState = "open";
  readonly config: SchedulerConfig;
  readonly fns: FnTable;
  readonly stats: StatsRecorder = new StatsRecorder();
  /** Why calls fail once the pool is `broken`. */
  loadError: Error | undefined = undefined;
  readonly #queue = new TaskQueue();
  readonly #backpressure: Backpressure;
  readonly #workers: WorkerSet;
  readonly #dealer: Dealer;
  #nextTaskId = 0;
  #heartbeat: ReturnType<typeof setTimeout> | undefined = undefined;
  #flushScheduled = false;
  /** Whether this turn may start a thread (see `#maybeSpawn`). */
  #spawnNow = false;
  #spawnTurnPending = false;
  /** What close(), terminate() and warm() wait for. */
  readonly #conditions = new Conditions();
  /** Whether the stall on channel waits was told (once per pool). */
  #stallTold = false;
  /** Calls of `warm()` still waiting. */
  #warmWaiters = 0;
  readonly #closingListeners = new Set<() => void>();
  /** Process workers being killed, with why (see `#stop`). */
  readonly #deferred = new Map<
    WorkerHandle,
    { cause: unknown; crashed: boolean }
  >();

  constructor(config: SchedulerConfig, fns: FnTable) {
    this.config = config;
    this.fns = fns;
    this.#backpressure = new Backpressure(config.maxQueue);
    this.#workers = new WorkerSet(config, this);
    this.#dealer = new Dealer({
      queue: this.#queue,
      workers: this.#workers,
      stats: this.stats,
      fns,
      maxTasksPerWorker: config.maxTasksPerWorker,
      fail: (task, error) => this.#settle(task, "failed", false, error),
    });
    // A warm pool starts its workers now.
    if (config.minSize > 0) this.#pumpSpawning();
  }

  /** Makes a task; its signal's abort cancels it. */
  task(init: TaskInit, sink: TaskSink, tag: unknown): Task {
    this.#nextTaskId = this.#nextTaskId >= MAX_TASK_ID
      ? 1
      : this.#nextTaskId + 1;
    return new Task(this.#nextTaskId, init, sink, tag, this.#onAbort);
  }

  #onAbort = (task: Task): void => {
    this.cancel(task, task.signal?.reason);
  };

  // ---- task transitions ---------------------------------------------------

  /**
   * Accepts a new task: it waits for room (`wait`, for `run`/`submit` under
   * `maxQueue`) or joins the queue. The caller has checked that the pool is
   * open.
   */
  submit(task: Task, mayWait: boolean): void {
    this.stats.submitted++;
    if (this.config.spec.isolation === "process") {
      const shared = sharedTypeIn(task.payload, task.mode);
      if (shared !== undefined) {
        // Not in the queue yet: settled here, not through #settle.
        this.stats.count("failed");
        const label = this.fns.label(task.fnId);
        task.deliver(false, sharedInProcessError(label, shared));
        return;
      }
    }
    if (
      mayWait &&
      this.#backpressure.mustWait(
        this.#queue.length + this.#workers.held(),
        this.#unstartedNow,
      )
    ) {
      this.#backpressure.wait(task);
      this.#armHeartbeat();
      return;
    }
    this.#enqueue(task, false);
    // A lone call to an idle worker goes at once, without waiting for the
    // microtask that batches a burst of calls (the calls after it batch).
    if (this.#queue.length === 1) {
      const idle = this.#workers.idleReady();
      if (idle !== undefined) this.#dealer.shareTo(idle, 1);
    }
  }

  /** new/waiting/held (taken back) -> queued. */
  #enqueue(task: Task, front: boolean): void {
    this.#queue.add(task, front);
    if (!this.#flushScheduled) {
      // Many calls in one tick go out together, many to a message.
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    this.#pump();
  };

  /**
   * Any state -> settled, once: the one place outcomes are delivered. A
   * `held` task may still be in its worker's table (it started: the worker
   * forgets it when it answers or dies), or in no worker's (answered, or
   * taken back, and being dealt with now).
   */
  #settle(task: Task, outcome: Outcome, ok: boolean, value: unknown): void {
    if (task.state === "settled") return;
    if (task.state === "queued") this.#queue.forget();
    else if (task.state === "waiting") this.#backpressure.remove(task);
    this.stats.count(outcome);
    task.deliver(ok, value);
  }

  /** Cancels a task (its signal aborted, or its future was cancelled). */
  cancel(task: Task, reason: unknown): void {
    if (task.state === "held") {
      const worker = task.worker;
      if (worker === undefined || takeBack(task)) {
        // Taken back unstarted, or answered and being revived.
        this.#settle(task, "cancelled", false, reason);
      } else {
        this.#settle(task, "cancelled", false, reason);
        if (worker.control.cancel(task.seq)) {
          const grace = this.config.abortGraceMs;
          worker.abortRunning(
            task.seq,
            reason,
            grace,
            () => {
              this.stats.terminatedWorkers++;
              this.#stop(worker, graceError(grace), false);
            },
          );
        }
      }
    } else {
      this.#settle(task, "cancelled", false, reason);
    }
    this.#pump();
  }

  // ---- the pump: admission, dispatch, balance, timers ---------------------

  /** Tasks admitted and not started: queued, or held unstarted by a worker. */
  #unstarted(): number {
    return this.#queue.length + this.#workers.backlog();
  }

  readonly #unstartedNow = (): number => this.#unstarted();
  readonly #pendingNow = (): number => this.#pending();

  /** Tasks not started: waiting for room, or admitted and not started. */
  #pending(): number {
    return this.#backpressure.size + this.#unstarted();
  }

  /** Moves waiting tasks into the queue while there is room. */
  #admit(): void {
    if (this.#backpressure.size === 0) return;
    for (const task of this.#backpressure.admit(this.#unstarted())) {
      this.#enqueue(task, false);
    }
  }

  /**
   * Brings everything up to date after any change: admits waiting tasks,
   * shares the queue among ready workers, steals for idle ones, starts or
   * stops workers, arms the timers, and tells close() when the pool drains.
   */
  #pump(): void {
    if (this.state === "closed") return;
    this.#admit();
    const now = performance.now();
    this.#dealer.deal(now);
    for (const worker of this.#workers.list) {
      if (worker.state === "retiring" && worker.heldCount === 0) {
        this.#stop(worker, undefined, false);
      }
    }
    if (this.#maybeSpawn(now)) this.#dealer.share();
    if (this.#busy()) {
      this.#armHeartbeat();
    } else {
      this.#workers.wanted = 0;
      if (this.state === "open") this.#workers.armIdle(() => this.#pump());
    }
    this.#conditions.changed();
  }

  /** Whether any task is waiting, queued or held. */
  #busy(): boolean {
    return this.#backpressure.size > 0 || this.#queue.length > 0 ||
      this.#workers.anyHeld();
  }

  /** How many workers an open pool keeps started. */
  #floor(): number {
    if (this.state !== "open") return 0;
    const { minSize } = this.config;
    return this.#warmWaiters > 0 ? Math.max(1, minSize) : minSize;
  }

  /**
   * Starts workers the rules ask for: whether any started. `new Worker`
   * blocks this thread for most of a start (20-30 ms on 2 cores), so a
   * thread starts in a turn of its own (but at construction, where nothing
   * waits), after the callers of whatever this turn settled have run.
   */
  #maybeSpawn(now: number): boolean {
    if (this.state !== "open" && this.state !== "closing") return false;
    if (this.loadError !== undefined) return false;
    const count = this.#workers.toStart(
      this.#pendingNow,
      this.stats.avgRunMs,
      now,
      this.#floor(),
    );
    if (count === 0) return false;
    if (!this.#spawnNow && this.config.spec.isolation === "thread") {
      this.#spawnTurn();
      return false;
    }
    try {
      this.#workers.start(count, this.#dealer.feed);
      return true;
    } catch (error) {
      this.#loadFailed(
        new Error("Cannot start a pool worker", { cause: error }),
      );
      return false;
    }
  }

  /** Pumps, starting the threads the rules ask for now. */
  #pumpSpawning(): void {
    this.#spawnNow = true;
    try {
      this.#pump();
    } finally {
      this.#spawnNow = false;
    }
  }

  /** Pumps again in a turn of its own (once at a time), to start threads. */
  #spawnTurn(): void {
    if (this.#spawnTurnPending) return;
    this.#spawnTurnPending = true;
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      port2.close();
      this.#spawnTurnPending = false;
      this.#pumpSpawning();
    };
    port2.postMessage(null);
  }

  #armHeartbeat(): void {
    if (this.#heartbeat !== undefined || this.state === "closed") return;
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = undefined;
      // Results a busy worker has put in its ring (see _control.ts).
      for (const worker of this.#workers.list) {
        if (worker.heldCount > 0 && worker.state !== "starting") {
          this.onMessage(worker, RING_CHECK);
        }
      }
      this.#pump();
      const { size, spec } = this.config;
      const now = performance.now();
      const queued = this.#queue.length;
      if (
        !this.#stallTold &&
        stalledOnChannels(this.#workers.list, size, queued, now)
      ) {
        this.#stallTold = true;
        console.warn(stallWarning(spec.name, size, queued));
      }
    }, Math.max(1, Math.min(this.#workers.spawnCostMs, 20)));
  }

  // ---- worker events ------------------------------------------------------

  onMessage(worker: WorkerHandle, data: unknown): void {
    try {
      readMessage(worker, data, this.#events);
    } catch (error) {
      // A bug of ours, or a message that defeated the checks: never let it
      // escape into the event loop, where it would end the process.
      this.#stop(
        worker,
        new Error("Cannot handle a message from the worker", { cause: error }),
        true,
      );
    }
  }

  /** For a worker being stopped: take its results, change nothing else. */
  readonly #quiet: MessageEvents = {
    ready: () => {},
    died: () => {},
    broke: () => {},
    answer: (task, ok, value, runTimeMs) =>
      this.#events.answer(task, ok, value, runTimeMs),
    answered: () => {},
  };

  readonly #events: MessageEvents = {
    ready: (worker) => {
      worker.markReady();
      this.#workers.started(worker);
      this.#pump();
    },
    died: (worker, cause) => this.onDeath(worker, cause),
    broke: (worker, what) => this.#stop(worker, protocolError(what), true),
    answer: (task, ok, value, runTimeMs) => {
      this.stats.recordRun(runTimeMs);
      if (ok) this.fns.recordRun(task.fnId, runTimeMs, weightOf(task));
      task.runTimeMs = runTimeMs;
      this.#settle(task, ok ? "completed" : "failed", ok, value);
    },
    answered: (worker) => {
      if (worker.finished >= this.config.maxTasksPerWorker) worker.retire();
      this.#pump();
    },
  };

  onDeath(worker: WorkerHandle, cause: unknown): void {
    const deferred = this.#deferred.get(worker);
    if (deferred !== undefined) {
      this.#stop(worker, deferred.cause, deferred.crashed);
    } else if (worker.state === "starting") {
      this.#stop(worker, cause, false);
      this.#loadFailed(cause);
    } else this.#stop(worker, cause, true);
  }

  onExit(worker: WorkerHandle): void {
    this.#workers.exited(worker);
    this.#pump();
    if (this.state === "closed") {
      this.#conditions.changed();
    }
  }

  /**
   * Takes a worker out of service, the one way: unstarted tasks it held go
   * back to the front of the queue (or fail, if they transferred arguments
   * that are gone with it); started ones fail with `cause` (or with the
   * close error when the pool is ending). `crashed` counts it in the stats.
   */
  #stop(
    worker: WorkerHandle,
    cause: unknown,
    crashed: boolean,
  ): void {
    // What it put in its result ring before it stopped is delivered.
    if (worker.heldCount > 0) readResults(worker, undefined, this.#quiet);
    const stopped = worker.stop();
    if (stopped === undefined) {
      // A process being killed: what it held is judged when its death
      // comes back through onDeath, once all it said before it ended is
      // read, with the first cause given.
      if (!this.#deferred.has(worker)) {
        this.#deferred.set(worker, { cause, crashed });
      }
      return this.#pump();
    }
    this.#deferred.delete(worker);
    const { unstarted, started } = stopped;
    if (crashed) this.stats.crashedWorkers++;
    for (let i = unstarted.length - 1; i >= 0; i--) {
      const task = unstarted[i] as Task;
      // Cancelled while a process worker held it (it cannot be taken back).
      if (task.state === "settled") continue;
      if (task.transfer !== undefined) {
        const label = this.fns.label(task.fnId);
        const error = lostTransferError(worker.id, label, cause);
        this.#settle(task, "failed", false, error);
      } else if (this.state === "closed") {
        this.#settle(task, "failed", false, closedError());
      } else if (this.loadError !== undefined) {
        // Dealt to a worker that never started: nothing can run it.
        this.#settle(task, "failed", false, this.loadError);
      } else this.#enqueue(task, true);
    }
    for (const task of started) {
      if (task.state === "settled") continue;
      const finished = worker.control.state(task.seq) === DONE;
      const error = this.state === "closed" && cause === undefined
        ? closedError()
        : diedError(
          worker.id,
          this.fns.label(task.fnId),
          finished ? "finished" : worker.startsKnown ? "running" : "claimed",
          cause,
          worker.endedHow,
        );
      this.#settle(task, "failed", false, error);
    }
    this.#pump();
  }

  /** Fails every task that waits for room or is queued. */
  #failPending(error: unknown): void {
    for (let t = this.#backpressure.head; t; t = this.#backpressure.head) {
      this.#settle(t, "failed", false, error);
    }
    for (let t = this.#queue.shift(); t; t = this.#queue.shift()) {
      this.#settle(t, "failed", false, error);
    }
  }

  /** The task module failed to load: the pool cannot run anything. */
  #loadFailed(cause: unknown): void {
    if (this.loadError !== undefined) return;
    this.loadError = loadError(this.config.spec.moduleUrl, cause);
    if (this.state === "open") this.state = "broken";
    // The starting workers first: what they were dealt fails with the rest.
    for (const worker of this.#workers.all()) {
      if (worker.state === "starting") this.#stop(worker, undefined, false);
    }
    this.#failPending(this.loadError);
    this.#pump();
  }

  // ---- closing ------------------------------------------------------------

  /**
   * Starts workers up to `minSize` (at least one) and resolves once that
   * many are ready, their task module loaded.
   *
   * @throws {Error} The load error, if the task module failed to load.
   * @throws {PoolClosedError} If the pool closes first.
   * @throws {unknown} `signal.reason`, if `signal` aborts first.
   */
  async warm(signal: AbortSignal | undefined): Promise<void> {
    const target = Math.max(1, this.config.minSize);
    this.#warmWaiters++;
    try {
      this.#pump();
      await this.#conditions.until(
        () => this.state !== "open" || this.#workers.readyCount() >= target,
        signal,
      );
    } finally {
      this.#warmWaiters--;
    }
    if (this.state === "broken") throw this.loadError;
    if (this.state !== "open") {
      throw new PoolClosedError(
        "The pool was closed before its workers were ready",
      );
    }
  }

  /**
   * Calls `listener` once when the pool starts to close (or ends).
   *
   * @returns A function that stops listening.
   */
  onClosing(listener: () => void): () => void {
    this.#closingListeners.add(listener);
    return () => this.#closingListeners.delete(listener);
  }

  #tellClosing(): void {
    const listeners = [...this.#closingListeners];
    this.#closingListeners.clear();
    for (const listener of listeners) listener();
  }

  /** open/broken -> closing: no new calls; queued work still runs. */
  beginClose(): void {
    if (this.state === "open" || this.state === "broken") {
      this.state = "closing";
    }
    this.#tellClosing();
    this.#pump();
  }

  /**
   * Finishes every task, then stops every worker; resolves when every worker
   * thread has ended, abandoned ones included.
   */
  async close(): Promise<void> {
    this.beginClose();
    await this.#conditions.until(() =>
      this.state === "closed" || !this.#busy()
    );
    if (this.state !== "closed") {
      this.state = "closed";
      this.#clearTimers();
      for (const worker of this.#workers.all()) {
        this.#stop(worker, undefined, false);
      }
    }
    await this.#conditions.until(() => this.#workers.length === 0);
  }

  /**
   * Ends now: every pending task fails with `PoolClosedError`, every worker
   * is terminated. Resolves when every thread that can end has ended; an
   * abandoned one (busy in a synchronous loop) is not waited for, and is
   * counted in the stats until it ends.
   */
  async terminate(): Promise<void> {
    if (this.state !== "closed") {
      this.state = "closed";
      this.#clearTimers();
      this.#tellClosing();
      this.#failPending(closedError());
      for (const worker of this.#workers.all()) {
        this.#stop(worker, undefined, false);
      }
    }
    await this.#conditions.until(() => this.#workers.onlyAbandoned());
    // Abandoned threads are not waited for, unless a close() waits.
    this.#workers.pollAbandoned(
      () => this.#conditions.size > 0,
      (worker) => this.onExit(worker),
    );
  }

  #clearTimers(): void {
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#workers.clearIdle();
  }

  snapshot(): PoolStats {
    return this.stats.snapshot({
      size: this.config.size,
      ...this.#workers.figures(),
      queued: this.#unstarted(),
      waiting: this.#backpressure.size,
    });
  }
}
