// Copyright the @seed/concurrency authors. MIT license.
// Internal: the pool's scheduler. It owns the task queue and the workers,
// sends tasks in batches, routes results back, cancels, and recovers from
// worker deaths. `pool.ts` is its public face.

import { Deque } from "./_deque.ts";
import {
  ABORT,
  CTRL_EPOCH,
  CTRL_RING,
  CTRL_RING_SIZE,
  CTRL_RUNNING,
  FATAL,
  LOAD_ERROR,
  MODE_CHUNK,
  OK,
  READY,
  RESULT_FIELDS,
  RESULTS,
  SKIPPED,
  TASKS,
} from "./_protocol.ts";
import { type DurationSummary, Summary } from "./_summary.ts";
import { DISPATCHED, DONE, QUEUED, type Task } from "./_task.ts";
import { isWireMarker, revive } from "./_wire.ts";
import {
  WorkerHandle,
  type WorkerHost,
  type WorkerSpec,
} from "./_worker_handle.ts";
import { describe } from "./errors/_describe.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import {
  deserializeError,
  type SerializedError,
  serializeError,
} from "./errors/serialize_error.ts";
import { WorkerCrashedError } from "./errors/worker_crashed_error.ts";

export type PoolState = "open" | "closing" | "closed";

export interface SchedulerConfig {
  size: number;
  maxQueue: number;
  maxTasksPerWorker: number;
  idleTimeoutMs: number;
  abortGraceMs: number;
  spec: WorkerSpec;
}

/** A snapshot of a pool's activity. */
export interface PoolStats {
  /** The most workers the pool runs at once. */
  size: number;
  /** Workers alive now (started lazily, so at most `size`, or 0 when idle). */
  workers: number;
  /** Workers running or holding tasks. */
  busy: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks that fulfilled. */
  completed: number;
  /** Tasks that rejected (their own error, a crash, or a send failure). */
  failed: number;
  /** Tasks cancelled by their signal or future before they finished. */
  cancelled: number;
  /** Workers that died and were replaced. */
  crashedWorkers: number;
  /**
   * Terminated workers whose thread is still running: a task that ignored
   * its cancellation and is busy in a synchronous loop, which Deno cannot
   * stop (see the pool's docs). Each burns a core until its loop ends.
   */
  abandonedWorkers: number;
  /** How long tasks ran in a worker. A `map` chunk counts as one task. */
  runTimeMs: DurationSummary;
  /** How long tasks waited in the queue before they were sent to a worker. */
  waitTimeMs: DurationSummary;
}

const MAX_TASK_ID = 0x7fff_fff0;
const EMPTY: Transferable[] = [];

export class Scheduler implements WorkerHost {
  state: PoolState = "open";
  readonly config: SchedulerConfig;
  readonly #queue = new Deque<Task>();
  #queued = 0;
  readonly #workers: WorkerHandle[] = [];
  #starting = 0;
  #nextWorkerId = 1;
  #nextTaskId = 0;
  readonly #fnKinds: number[] = [];
  readonly #fnTexts: string[] = [];
  readonly #fnLabels: string[] = [];
  readonly #fnByText = new Map<string, number>();
  #avgRunMs = 0;
  loadError: Error | undefined = undefined;
  readonly #roomWaiters = new Deque<() => void>();
  #roomWaiting = 0;
  #flushScheduled = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #abandoned = new Set<WorkerHandle>();
  readonly #exiting = new Set<WorkerHandle>();
  #exitWaiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #crashed = 0;
  readonly #runTime = new Summary();
  readonly #waitTime = new Summary();

  constructor(config: SchedulerConfig) {
    this.config = config;
  }

  // ---- functions ---------------------------------------------------------

  /** Returns the id for a task name or inline source, defining it once. */
  fnId(kind: number, text: string, label: string): number {
    const key = kind + ":" + text;
    let id = this.#fnByText.get(key);
    if (id === undefined) {
      id = this.#fnKinds.length;
      this.#fnKinds.push(kind);
      this.#fnTexts.push(text);
      this.#fnLabels.push(label);
      this.#fnByText.set(key, id);
    }
    return id;
  }

  fnLabel(fnId: number): string {
    return this.#fnLabels[fnId] ?? "task";
  }

  // ---- queue -------------------------------------------------------------

  newTaskId(): number {
    this.#nextTaskId = this.#nextTaskId >= MAX_TASK_ID
      ? 1
      : this.#nextTaskId + 1;
    return this.#nextTaskId;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Whether a new task must wait for room in the queue. */
  get full(): boolean {
    return this.#queued + this.#roomWaiting >= this.config.maxQueue;
  }

  /** Resolves when the queue has room; rejects with the signal's reason. */
  waitForRoom(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#roomWaiting++;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const onAbort = () => {
        if (done) return;
        done = true;
        this.#roomWaiting--;
        reject(signal?.reason);
        this.#wakeRoom();
      };
      this.#roomWaiters.push(() => {
        if (done) return;
        done = true;
        this.#roomWaiting--;
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #wakeRoom(): void {
    while (
      this.#roomWaiters.length > 0 &&
      this.#queued + this.#roomWaiting - 1 < this.config.maxQueue
    ) {
      const before = this.#roomWaiting;
      (this.#roomWaiters.shift() as () => void)();
      if (this.#roomWaiting === before) continue; // an aborted waiter
      break;
    }
  }

  enqueue(task: Task): void {
    if (this.loadError !== undefined) {
      task.settle(false, this.loadError);
      return;
    }
    if (this.state === "closed") {
      task.settle(
        false,
        new PoolClosedError("Cannot run the task as the pool is closed"),
      );
      return;
    }
    task.enqueuedAt = performance.now();
    this.#queue.push(task);
    this.#queued++;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    this.#dispatch();
  };

  #dispatch(): void {
    if (this.#queued === 0) return;
    for (const worker of this.#workers) {
      if (worker.state === "ready") this.#dispatchTo(worker);
      if (this.#queued === 0) return;
    }
    this.#maybeSpawn();
  }

  /** How many tasks a worker may hold: more when tasks are short. */
  #depth(): number {
    const avg = this.#avgRunMs;
    if (avg <= 0) return 1;
    return Math.max(1, Math.min(1024, Math.floor(2 / avg)));
  }

  #dispatchTo(worker: WorkerHandle): void {
    let room = this.#depth() - worker.inflight.length;
    if (room <= 0 || this.#queued === 0) return;
    let defs: unknown[] | null = null;
    let transfer: Transferable[] | undefined;
    const flat: unknown[] = [];
    const sent: Task[] = [];
    const now = performance.now();
    while (room > 0 && this.#queue.length > 0) {
      const task = this.#queue.shift() as Task;
      if (task.state !== QUEUED) continue;
      this.#queued--;
      if (!worker.known.has(task.fnId)) {
        worker.known.add(task.fnId);
        (defs ??= []).push(
          task.fnId,
          this.#fnKinds[task.fnId],
          this.#fnTexts[task.fnId],
        );
      }
      flat.push(task.id, task.fnId, task.payload, task.mode);
      if (task.transfer !== undefined) (transfer ??= []).push(...task.transfer);
      sent.push(task);
      this.#waitTime.record(now - task.enqueuedAt);
      room--;
    }
    if (sent.length === 0) return;
    try {
      worker.post(
        [TASKS, defs, flat],
        transfer === undefined ? EMPTY : [...new Set(transfer)],
      );
    } catch (error) {
      this.#sendSeparately(worker, sent, error);
      return;
    }
    for (const task of sent) {
      task.state = DISPATCHED;
      task.worker = worker;
      worker.inflight.push(task);
    }
    if (this.#roomWaiters.length > 0) this.#wakeRoom();
  }

  /** A batch could not be cloned: fail the tasks at fault, send the rest. */
  #sendSeparately(
    worker: WorkerHandle,
    tasks: Task[],
    batchError: unknown,
  ): void {
    const ok: Task[] = [];
    for (const task of tasks) {
      const problem = this.#cloneProblem(task);
      if (problem === undefined) {
        ok.push(task);
      } else {
        this.#failed++;
        task.settle(false, problem);
      }
    }
    if (ok.length === tasks.length) {
      // Nothing alone is at fault (a transfer list clash, say): fail them all.
      for (const task of tasks) {
        this.#failed++;
        task.settle(
          false,
          new TypeError(`Cannot send ${this.fnLabel(task.fnId)} to a worker`, {
            cause: batchError,
          }),
        );
      }
      return;
    }
    const defs: unknown[] = [];
    const flat: unknown[] = [];
    const transfer: Transferable[] = [];
    for (const task of ok) {
      defs.push(task.fnId, this.#fnKinds[task.fnId], this.#fnTexts[task.fnId]);
      flat.push(task.id, task.fnId, task.payload, task.mode);
      if (task.transfer !== undefined) transfer.push(...task.transfer);
    }
    if (ok.length > 0) {
      worker.post([TASKS, defs, flat], [...new Set(transfer)]);
      for (const task of ok) {
        task.state = DISPATCHED;
        task.worker = worker;
        worker.inflight.push(task);
      }
    }
    this.#afterChange();
  }

  #cloneProblem(task: Task): TypeError | undefined {
    const items = task.payload;
    for (let i = 0; i < items.length; i++) {
      try {
        structuredClone(items[i]);
      } catch (error) {
        const what = (task.mode & MODE_CHUNK) !== 0
          ? `item ${
            (typeof task.tag === "object" && task.tag !== null
              ? (task.tag as { offset: number }).offset
              : 0) + i
          } given to ${this.fnLabel(task.fnId)}`
          : `argument ${i} of ${this.fnLabel(task.fnId)}`;
        return new TypeError(
          `Cannot send ${what} to a worker as ${
            describe(items[i])
          } cannot be cloned: pass only structured-cloneable values (no functions, symbols or class instances with private state)`,
          { cause: error },
        );
      }
    }
    return undefined;
  }

  // ---- workers -----------------------------------------------------------

  #liveWorkers(): number {
    let n = 0;
    for (const worker of this.#workers) if (worker.state !== "retiring") n++;
    return n;
  }

  #maybeSpawn(): void {
    if (this.state === "closed" || this.loadError !== undefined) return;
    // One worker starting at a time: tiny work never pays for more workers
    // than it needs, and heavy work ramps up a worker every few milliseconds.
    if (this.#starting > 0 || this.#liveWorkers() >= this.config.size) return;
    let worker: WorkerHandle;
    try {
      worker = new WorkerHandle(this.#nextWorkerId++, this.config.spec, this);
    } catch (error) {
      const hint = this.config.spec.permissions !== undefined
        ? ": workers with restricted permissions need Deno's --unstable-worker-options flag"
        : "";
      this.#loadFailed(
        new Error(`Cannot start a pool worker${hint}`, { cause: error }),
      );
      return;
    }
    this.#starting++;
    this.#workers.push(worker);
  }

  onMessage(worker: WorkerHandle, message: unknown[]): void {
    switch (message[0]) {
      case RESULTS:
        this.#onResults(worker, message[1] as unknown[]);
        break;
      case READY:
        if (worker.state !== "starting") return;
        this.#starting--;
        worker.state = "ready";
        worker.watch();
        worker.idleSince = performance.now();
        this.#dispatch();
        this.#afterChange();
        break;
      case LOAD_ERROR:
        this.#loadFailed(
          deserializeError(message[1] as SerializedError),
          worker,
        );
        break;
      case FATAL:
        this.onDeath(worker, deserializeError(message[1] as SerializedError));
        break;
    }
  }

  #onResults(worker: WorkerHandle, results: unknown[]): void {
    for (let i = 0; i < results.length; i += RESULT_FIELDS) {
      const task = worker.inflight.shift();
      const id = results[i] as number;
      if (task === undefined || task.id !== id) {
        throw new Error(
          `Internal error: worker ${worker.id} answered task ${id} out of order`,
        );
      }
      worker.finished++;
      if (worker.graceTaskId === id) this.#clearGrace(worker);
      const status = results[i + 1] as number;
      if (status === SKIPPED) continue;
      const runTimeMs = results[i + 3] as number;
      this.#runTime.record(runTimeMs);
      this.#avgRunMs = this.#avgRunMs === 0
        ? runTimeMs || 1e-3
        : this.#avgRunMs * 0.875 + runTimeMs * 0.125;
      if (task.state === DONE) continue;
      task.runTimeMs = runTimeMs;
      const value = results[i + 2];
      if (status === OK) {
        this.#completed++;
        if ((task.mode & MODE_CHUNK) === 0 && isWireMarker(value)) {
          revive(value).then(
            (revived) => task.settle(true, revived),
            (error) => task.settle(false, error),
          );
        } else {
          task.settle(true, value);
        }
      } else {
        this.#failed++;
        task.settle(false, deserializeError(value as SerializedError));
      }
    }
    const max = this.config.maxTasksPerWorker;
    if (worker.state === "ready" && worker.finished >= max) {
      worker.state = "retiring";
    }
    if (worker.state === "retiring") {
      if (worker.inflight.length === 0) this.#retire(worker);
      this.#dispatch();
    } else if (this.#queued > 0) {
      this.#dispatchTo(worker);
      if (this.#queued > 0) this.#maybeSpawn();
    }
    if (worker.inflight.length === 0) {
      worker.idleSince = performance.now();
      this.#armIdle();
    }
    this.#afterChange();
  }

  /** Ends a worker that has no tasks, without counting it as a crash. */
  #retire(worker: WorkerHandle): void {
    this.#remove(worker);
    worker.state = "dead";
    this.#exiting.add(worker);
    worker.terminate();
  }

  #remove(worker: WorkerHandle): void {
    const index = this.#workers.indexOf(worker);
    if (index !== -1) this.#workers.splice(index, 1);
  }

  onDeath(worker: WorkerHandle, cause: unknown): void {
    if (worker.state === "dead") return;
    const wasStarting = worker.state === "starting";
    this.#remove(worker);
    if (wasStarting) this.#starting--;
    worker.state = "dead";
    this.#clearGrace(worker);
    worker.terminate();
    this.#exiting.add(worker);
    if (!worker.watched) worker.watch();
    if (wasStarting) {
      this.#loadFailed(cause);
      return;
    }
    this.#crashed++;
    const running = Atomics.load(worker.ctrl, CTRL_RUNNING);
    const tasks = worker.inflight.drain();
    for (let i = tasks.length - 1; i >= 0; i--) {
      const task = tasks[i] as Task;
      if (task.state === DONE) continue;
      if (task.id === running) {
        this.#failed++;
        task.settle(
          false,
          new WorkerCrashedError(
            `Worker ${worker.id} died while running ${
              this.fnLabel(task.fnId)
            }: the pool replaced it`,
            { cause, workerId: worker.id },
          ),
        );
      } else {
        // Sent but not started: it runs on another worker instead.
        task.state = QUEUED;
        task.worker = undefined;
        this.#queue.unshift(task);
        this.#queued++;
      }
    }
    this.#dispatch();
    this.#afterChange();
  }

  onExit(worker: WorkerHandle): void {
    this.#abandoned.delete(worker);
    this.#exiting.delete(worker);
    if (worker.state !== "dead") {
      this.onDeath(
        worker,
        new Error(
          "The worker's thread ended without reporting why (self.close() or Deno.exit() where they could not be intercepted)",
        ),
      );
      return;
    }
    if (this.#exiting.size === 0 || this.#onlyAbandonedExiting()) {
      const waiters = this.#exitWaiters;
      this.#exitWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #onlyAbandonedExiting(): boolean {
    for (const worker of this.#exiting) if (!worker.abandoned) return false;
    return true;
  }

  #loadFailed(cause: unknown, worker?: WorkerHandle): void {
    if (worker !== undefined && worker.state !== "dead") {
      this.#remove(worker);
      if (worker.state === "starting") this.#starting--;
      worker.state = "dead";
      worker.terminate();
      this.#exiting.add(worker);
      if (!worker.watched) worker.watch();
    }
    const url = this.config.spec.moduleUrl;
    this.loadError ??= cause instanceof Error &&
        /^Cannot start a pool worker/.test(cause.message)
      ? cause
      : new Error(
        url === null
          ? "Cannot start a pool worker as it failed while loading"
          : `Cannot load the task module ${url}: fix the module or the URL and create a new pool`,
        { cause },
      );
    for (
      let task = this.#queue.shift();
      task !== undefined;
      task = this.#queue.shift()
    ) {
      if (task.state === QUEUED) {
        this.#queued--;
        this.#failed++;
        task.settle(false, this.loadError);
      }
    }
    this.#afterChange();
  }

  // ---- cancellation ------------------------------------------------------

  cancel(task: Task, reason: unknown): void {
    if (task.state === QUEUED) {
      // Left in the deque and skipped when reached: O(1) here.
      this.#queued--;
      this.#cancelled++;
      task.settle(false, reason);
      if (this.#roomWaiters.length > 0) this.#wakeRoom();
      this.#afterChange();
      return;
    }
    if (task.state !== DISPATCHED) return;
    const worker = task.worker as WorkerHandle;
    this.#cancelled++;
    task.settle(false, reason);
    if (worker.state === "dead") return;
    const ctrl = worker.ctrl;
    Atomics.store(ctrl, CTRL_RING + (worker.epoch % CTRL_RING_SIZE), task.id);
    worker.epoch++;
    Atomics.store(ctrl, CTRL_EPOCH, worker.epoch);
    if (Atomics.load(ctrl, CTRL_RUNNING) !== task.id) return; // it will be skipped
    try {
      worker.post([ABORT, task.id, serializeError(reason)], EMPTY);
    } catch {
      // A reason that cannot be serialized still aborts, as an AbortError.
    }
    this.#clearGrace(worker);
    worker.graceTaskId = task.id;
    worker.graceTimer = setTimeout(() => {
      worker.graceTimer = undefined;
      if (worker.graceTaskId !== task.id) return;
      worker.graceTaskId = 0;
      if (Atomics.load(ctrl, CTRL_RUNNING) !== task.id) return;
      worker.abandoned = true;
      this.#abandoned.add(worker);
      this.onDeath(
        worker,
        new Error(
          `A cancelled task did not stop within abortGraceMs (${this.config.abortGraceMs} ms), so its worker was terminated`,
        ),
      );
    }, this.config.abortGraceMs);
  }

  #clearGrace(worker: WorkerHandle): void {
    if (worker.graceTimer !== undefined) clearTimeout(worker.graceTimer);
    worker.graceTimer = undefined;
    worker.graceTaskId = 0;
  }

  // ---- idle workers ------------------------------------------------------

  #armIdle(): void {
    const timeout = this.config.idleTimeoutMs;
    if (this.#idleTimer !== undefined || !Number.isFinite(timeout)) return;
    if (this.state !== "open") return;
    const timer = setTimeout(this.#sweepIdle, timeout);
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #sweepIdle = (): void => {
    this.#idleTimer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const worker of [...this.#workers]) {
      if (worker.state !== "ready" || worker.inflight.length > 0) continue;
      const idleFor = now - worker.idleSince;
      if (idleFor >= this.config.idleTimeoutMs) {
        this.#retire(worker);
      } else {
        next = Math.min(next, this.config.idleTimeoutMs - idleFor);
      }
    }
    if (next !== Infinity && this.state === "open") {
      const timer = setTimeout(this.#sweepIdle, next);
      Deno.unrefTimer(timer);
      this.#idleTimer = timer;
    }
  };

  // ---- closing -----------------------------------------------------------

  #busy(): boolean {
    if (this.#queued > 0 || this.#roomWaiting > 0) return true;
    for (const worker of this.#workers) {
      if (worker.inflight.length > 0) return true;
    }
    return false;
  }

  #afterChange(): void {
    if (this.#drainWaiters.length > 0 && !this.#busy()) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when no task is queued or running. */
  drained(): Promise<void> {
    if (!this.#busy()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Ends every worker now and resolves when their threads have ended. */
  async shutdown(reason: Error | undefined): Promise<void> {
    this.state = "closed";
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (reason !== undefined) {
      for (
        let task = this.#queue.shift();
        task !== undefined;
        task = this.#queue.shift()
      ) {
        if (task.state === QUEUED) {
          this.#queued--;
          task.settle(false, reason);
        }
      }
      for (const worker of this.#workers) {
        for (
          let task = worker.inflight.shift();
          task !== undefined;
          task = worker.inflight.shift()
        ) {
          task.settle(false, reason);
        }
      }
      for (
        let wake = this.#roomWaiters.shift();
        wake !== undefined;
        wake = this.#roomWaiters.shift()
      ) wake();
    }
    for (const worker of [...this.#workers]) {
      this.#clearGrace(worker);
      this.#remove(worker);
      worker.state = "dead";
      worker.terminate();
      this.#exiting.add(worker);
      if (Atomics.load(worker.ctrl, CTRL_RUNNING) !== 0) {
        // Its thread may be stuck in a synchronous task that terminate()
        // cannot stop: count it, but do not wait for it.
        worker.abandoned = true;
        this.#abandoned.add(worker);
      }
      if (!worker.watched) worker.watch();
    }
    this.#starting = 0;
    for (const worker of this.#abandoned) worker.unwatch();
    if (this.#exiting.size > 0 && !this.#onlyAbandonedExiting()) {
      await new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
    }
    for (const worker of this.#abandoned) worker.unwatch();
    this.#afterChange();
  }

  stats(): PoolStats {
    let busy = 0;
    for (const worker of this.#workers) if (worker.inflight.length > 0) busy++;
    return {
      size: this.config.size,
      workers: this.#workers.length,
      busy,
      queued: this.#queued,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      crashedWorkers: this.#crashed,
      abandonedWorkers: this.#abandoned.size,
      runTimeMs: this.#runTime.snapshot(),
      waitTimeMs: this.#waitTime.snapshot(),
    };
  }
}
