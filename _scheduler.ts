// Copyright the @seed/concurrency authors. MIT license.
// Internal: the pool's scheduler. It owns the task queue and the workers,
// sends tasks in batches, routes results back, cancels, and recovers from
// worker deaths. `pool.ts` is its public face.

import { Deque } from "./_deque.ts";
import {
  ABORT,
  CTRL_ANSWER_ID,
  CTRL_ANSWER_RUN_US,
  CTRL_EPOCH,
  CTRL_FAST_FN,
  CTRL_FAST_ID,
  CTRL_RING,
  CTRL_RING_SIZE,
  CTRL_RUNNING,
  CTRL_SEEN,
  CTRL_TAKEN,
  FATAL,
  LOAD_ERROR,
  MODE_CALL,
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
  /** Tasks not started yet: in the pool's queue or held by a worker. */
  queued: number;
  /** Tasks that fulfilled. */
  completed: number;
  /** Tasks that rejected (their own error, a crash, or a send failure). */
  failed: number;
  /** Tasks cancelled by their signal or future before they finished. */
  cancelled: number;
  /** Tasks an idle worker took over from a busy one before they started. */
  stolen: number;
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

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === "number" || type === "string" || type === "boolean";
}
/** The most tasks a worker holds at once. */
const MAX_HELD = 4096;
/** The most tasks in one message. */
const MAX_BATCH = 1024;
/** A message is cut once its tasks carry this many arguments or items. */
const MAX_BATCH_ITEMS = 4096;
const EMPTY: Transferable[] = [];

export class Scheduler implements WorkerHost {
  state: PoolState = "open";
  readonly config: SchedulerConfig;
  readonly #queue = new Deque<Task>();
  #queued = 0;
  readonly #workers: WorkerHandle[] = [];
  #starting = 0;
  /** How long a worker takes to start, in milliseconds (a running average). */
  #spawnCostMs = 10;
  #watchdog: ReturnType<typeof setTimeout> | undefined = undefined;
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
  #stolen = 0;
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
    if (this.config.maxQueue === Infinity) return false;
    return this.#pending() + this.#roomWaiting >= this.config.maxQueue;
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
      this.#pending() + this.#roomWaiting - 1 < this.config.maxQueue
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

  /**
   * Shares the queue among the ready workers, greedily: a worker holds many
   * tasks, so it never waits for the main thread between them, and tasks
   * travel many to a message. Balance comes from work stealing: a worker that
   * runs dry takes back half of the busiest worker's unstarted tasks.
   */
  #dispatch(): void {
    if (this.#queued > 0) {
      let ready = 0;
      for (const worker of this.#workers) if (worker.state === "ready") ready++;
      if (ready > 0) {
        // Deal one message to each worker in turn, so that every worker
        // starts while the next message is still being copied.
        const share = Math.ceil(this.#queued / ready);
        const given = new Map<WorkerHandle, number>();
        let progress = true;
        while (this.#queued > 0 && progress) {
          progress = false;
          for (const worker of this.#workers) {
            if (worker.state !== "ready") continue;
            const left = share - (given.get(worker) ?? 0);
            if (left <= 0) continue;
            const batch = this.#take(worker, left);
            if (batch.length === 0) continue;
            given.set(worker, (given.get(worker) ?? 0) + batch.length);
            this.#send(worker, batch);
            progress = true;
            if (this.#queued === 0) break;
          }
        }
      }
    }
    this.#maybeSpawn();
    if (this.#watchdog === undefined && this.#pending() > 0) {
      this.#armWatchdog();
    }
  }

  /**
   * Takes from the queue, for `worker`, up to `max` live tasks that fit in one
   * message (MAX_BATCH tasks, or MAX_BATCH_ITEMS arguments and items).
   */
  #take(worker: WorkerHandle, max: number): Task[] {
    let room = Math.min(
      max,
      MAX_BATCH,
      MAX_HELD - worker.assigned,
      this.config.maxTasksPerWorker - worker.finished - worker.assigned,
    );
    const tasks: Task[] = [];
    if (room <= 0) return tasks;
    const now = performance.now();
    let weight = 0;
    while (room > 0 && weight < MAX_BATCH_ITEMS && this.#queue.length > 0) {
      const head = this.#queue.peek() as Task;
      if (
        head.state === QUEUED && head.transfer !== undefined &&
        (worker.inflight.length > 0 || tasks.length > 0)
      ) {
        // What a task transfers cannot be taken back or re-sent: it goes
        // only to an idle worker, so that it never waits behind another task
        // that could crash or stall its worker.
        break;
      }
      const task = this.#queue.shift() as Task;
      if (task.state !== QUEUED) continue;
      this.#queued--;
      this.#waitTime.record(now - task.enqueuedAt);
      tasks.push(task);
      weight += task.payload.length;
      room--;
    }
    return tasks;
  }

  /** Sends tasks to a worker, in messages of at most MAX_BATCH tasks. */
  #send(worker: WorkerHandle, tasks: Task[]): void {
    if (tasks.length > 0 && worker.inflight.length === 0) {
      worker.lastProgressAt = performance.now();
    }
    for (let start = 0, end = 0; start < tasks.length; start = end) {
      // Many small tasks to a message; large payloads one to a message, so
      // the worker starts on the first while the next is being copied.
      let weight = 0;
      end = start;
      while (
        end < tasks.length && end - start < MAX_BATCH &&
        weight < MAX_BATCH_ITEMS
      ) {
        weight += (tasks[end] as Task).payload.length;
        end++;
      }
      const batch = start === 0 && end === tasks.length
        ? tasks
        : tasks.slice(start, end);
      let defs: unknown[] | null = null;
      let transfer: Transferable[] | undefined;
      const first = batch[0] as Task;
      if (
        batch.length === 1 && worker.inflight.length === 0 &&
        first.mode === MODE_CALL && first.transfer === undefined &&
        first.payload.length === 1 && worker.known.has(first.fnId) &&
        isPrimitive(first.payload[0])
      ) {
        // The fast path (see _protocol.ts): the bare argument.
        Atomics.store(worker.ctrl, CTRL_FAST_ID, first.id);
        Atomics.store(worker.ctrl, CTRL_FAST_FN, first.fnId);
        worker.post(first.payload as unknown[], EMPTY, true);
        this.#held(worker, first);
        continue;
      }
      const message: unknown[] = [TASKS, null];
      for (const task of batch) {
        if (!worker.known.has(task.fnId)) {
          worker.known.add(task.fnId);
          (defs ??= []).push(
            task.fnId,
            this.#fnKinds[task.fnId],
            this.#fnTexts[task.fnId],
          );
        }
        message.push(task.id, task.fnId, task.payload, task.mode);
        if (task.transfer !== undefined) {
          (transfer ??= []).push(...task.transfer);
        }
      }
      message[1] = defs;
      try {
        worker.post(
          message,
          transfer === undefined ? EMPTY : [...new Set(transfer)],
        );
      } catch (error) {
        // The functions were not delivered either.
        if (defs !== null) {
          for (let i = 0; i < defs.length; i += 3) {
            worker.known.delete(defs[i] as number);
          }
        }
        this.#sendSeparately(worker, batch, error);
        continue;
      }
      for (const task of batch) this.#held(worker, task);
    }
  }

  /** Records that a worker holds a task it was sent. */
  #held(worker: WorkerHandle, task: Task): void {
    task.state = DISPATCHED;
    task.worker = worker;
    task.seq = worker.dispatched++;
    worker.assigned++;
    worker.inflight.push(task);
  }

  /** Tasks not started: in the queue or held by a worker. */
  #pending(): number {
    let pending = this.#queued;
    for (const worker of this.#workers) pending += this.#backlog(worker);
    return pending;
  }

  /** Tasks sent to a worker that it has not taken from its queue yet. */
  #backlog(worker: WorkerHandle): number {
    const taken = Atomics.load(worker.ctrl, CTRL_TAKEN);
    let backlog = worker.dispatched - taken;
    // Tasks taken back from it are not its work, though it still has to
    // skip them.
    for (const seq of worker.stolenSeqs) if (seq >= taken) backlog--;
    return backlog;
  }

  /**
   * Gives an idle `thief` half of the unstarted tasks of the worker with the
   * most, taken from the end of its queue. A task is taken back only if the
   * victim provably has not started it (see the control block in
   * `_protocol.ts`), so no task ever runs twice.
   */
  #steal(thief: WorkerHandle): void {
    if (thief.state !== "ready" || this.#backlog(thief) > 0) return;
    let victim: WorkerHandle | undefined;
    let most = 0;
    for (const worker of this.#workers) {
      if (
        worker === thief || worker.state === "dead" ||
        worker.state === "starting"
      ) continue;
      const backlog = this.#backlog(worker);
      if (backlog > most) {
        most = backlog;
        victim = worker;
      }
    }
    if (victim === undefined) return;
    // A lone unstarted task is worth moving only to an idle worker, and only
    // if tasks are not known to be tiny or the victim seems stuck (otherwise
    // the victim starts it sooner).
    let want = Math.floor(most / 2);
    if (
      want === 0 && thief.inflight.length === 0 &&
      (this.#avgRunMs === 0 || this.#avgRunMs > 0.5 ||
        performance.now() - victim.lastProgressAt > 1)
    ) {
      want = 1;
    }
    if (want === 0) return;
    const ctrl = victim.ctrl;
    const stolen: Task[] = [];
    for (
      let i = victim.inflight.length - 1;
      i >= 0 && stolen.length < want;
      i--
    ) {
      const task = victim.inflight.at(i) as Task;
      // Only the live copy: a task taken back and later given back to this
      // worker has a stale record here too.
      if (
        task.state !== DISPATCHED || task.worker !== victim ||
        task.seq !== victim.answered + i
      ) {
        continue;
      }
      // What it transferred is in the victim's hands now: it cannot move.
      if (task.transfer !== undefined) continue;
      // A large payload costs the main thread another copy to move, which
      // costs more than the imbalance it would fix.
      if (task.payload.length > MAX_BATCH_ITEMS) continue;
      // Marks the worker has not read yet must fit in the ring.
      if (victim.epoch - Atomics.load(ctrl, CTRL_SEEN) >= CTRL_RING_SIZE - 1) {
        break;
      }
      Atomics.store(
        ctrl,
        CTRL_RING + (victim.epoch % CTRL_RING_SIZE),
        -task.seq - 1,
      );
      victim.epoch++;
      Atomics.store(ctrl, CTRL_EPOCH, victim.epoch);
      if (Atomics.load(ctrl, CTRL_TAKEN) > task.seq) break; // too late: it started
      stolen.push(task);
    }
    if (stolen.length === 0) return;
    stolen.reverse();
    victim.assigned -= stolen.length;
    for (const task of stolen) victim.stolenSeqs.push(task.seq);
    victim.stolenSeqs.sort((a, b) => a - b);
    this.#stolen += stolen.length;
    // They stay in the victim's list (it answers SKIPPED for them, in order).
    this.#send(thief, stolen);
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
    if (ok.length > 0) this.#send(worker, ok);
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
    // One worker starting at a time, and only when it would help: tiny work
    // never pays for workers it does not need, and heavy work ramps up a
    // worker every few milliseconds.
    if (this.#starting > 0) return;
    const live = this.#liveWorkers();
    if (live >= this.config.size) return;
    if (live === 0 ? this.#queued === 0 : !this.#worthSpawning(live)) return;
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

  /**
   * Whether one more worker would help: the pending work would outlast its
   * start, or a busy worker has not answered for as long as a start costs
   * while tasks wait (its task is long, or waits for another task).
   */
  #worthSpawning(live: number): boolean {
    const pending = this.#pending();
    if (pending === 0) return false;
    if (this.#stalled()) return true;
    if (
      this.#avgRunMs > 0 &&
      pending * this.#avgRunMs / live > this.#spawnCostMs
    ) {
      return true;
    }
    this.#armWatchdog();
    return false;
  }

  /**
   * Whether some worker has held work without answering for as long as a
   * start costs (called only while tasks wait, in the queue or in a worker).
   */
  #stalled(): boolean {
    const now = performance.now();
    for (const worker of this.#workers) {
      if (
        worker.state === "ready" && worker.inflight.length > 0 &&
        now - worker.lastProgressAt > this.#spawnCostMs
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * While work is pending, looks again every few milliseconds: idle workers
   * steal from stalled ones, and a worker is added if one is stalled. One
   * timer per pool, never one per task.
   */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined || this.state === "closed") return;
    this.#watchdog = setTimeout(this.#tick, Math.max(1, this.#spawnCostMs));
  }

  #tick = (): void => {
    this.#watchdog = undefined;
    if (this.#pending() === 0) return;
    for (const worker of this.#workers) {
      if (worker.state === "ready" && worker.inflight.length === 0) {
        this.#steal(worker);
      }
    }
    this.#maybeSpawn();
    if (this.#pending() > 0) this.#armWatchdog();
  };

  onMessage(worker: WorkerHandle, message: unknown[]): void {
    if (typeof message !== "object") {
      // The fast path (see _protocol.ts): a bare result.
      worker.lastProgressAt = performance.now();
      this.#answer(
        worker,
        Atomics.load(worker.ctrl, CTRL_ANSWER_ID),
        OK,
        message,
        Atomics.load(worker.ctrl, CTRL_ANSWER_RUN_US) / 1000,
      );
      this.#afterAnswers(worker);
      return;
    }
    switch (message[0]) {
      case RESULTS:
        this.#onResults(worker, message);
        break;
      case READY:
        if (worker.state !== "starting") return;
        this.#starting--;
        worker.state = "ready";
        worker.lastProgressAt = performance.now();
        this.#spawnCostMs = this.#spawnCostMs * 0.5 +
          (performance.now() - worker.createdAt) * 0.5;
        worker.watch();
        worker.idleSince = performance.now();
        this.#dispatch();
        if (this.#queued === 0) this.#steal(worker);
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
    worker.lastProgressAt = performance.now();
    for (let i = 1; i < results.length; i += RESULT_FIELDS) {
      this.#answer(
        worker,
        results[i] as number,
        results[i + 1] as number,
        results[i + 2],
        results[i + 3] as number,
      );
    }
    this.#afterAnswers(worker);
  }

  /** Takes one answer from a worker: its records come back in queue order. */
  #answer(
    worker: WorkerHandle,
    id: number,
    status: number,
    value: unknown,
    runTimeMs: number,
  ): void {
    const task = worker.inflight.shift();
    if (task === undefined || task.id !== id) {
      throw new Error(
        `Internal error: worker ${worker.id} answered task ${id} out of order`,
      );
    }
    const seq = worker.answered++;
    if (task.worker !== worker || task.seq !== seq) {
      // The record of a task taken back by another worker: it was skipped.
      const at = worker.stolenSeqs.indexOf(seq);
      if (at !== -1) worker.stolenSeqs.splice(at, 1);
      return;
    }
    if (status === SKIPPED) {
      // Cancelled before it started.
      worker.assigned--;
      return;
    }
    worker.assigned--;
    worker.finished++;
    if (worker.graceTaskId === id) this.#clearGrace(worker);
    this.#runTime.record(runTimeMs);
    this.#avgRunMs = this.#avgRunMs === 0
      ? runTimeMs || 1e-3
      : this.#avgRunMs * 0.875 + runTimeMs * 0.125;
    if (task.state === DONE) return;
    task.runTimeMs = runTimeMs;
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

  /** After a batch of answers: retire, steal, dispatch, go idle. */
  #afterAnswers(worker: WorkerHandle): void {
    if (
      worker.state === "ready" &&
      worker.finished >= this.config.maxTasksPerWorker
    ) {
      worker.state = "retiring";
    }
    if (worker.state === "retiring") {
      if (worker.inflight.length === 0) this.#retire(worker);
    } else if (this.#queued === 0) {
      this.#steal(worker);
    }
    this.#dispatch();
    if (this.#roomWaiters.length > 0) this.#wakeRoom();
    if (worker.inflight.length === 0) {
      worker.idleSince = worker.lastProgressAt;
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
      if (
        task.state === DONE || task.worker !== worker ||
        task.seq !== worker.answered + i
      ) {
        continue; // done, or a stale record of a task that moved
      }
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
      } else if (task.transfer !== undefined) {
        this.#failed++;
        task.settle(
          false,
          new WorkerCrashedError(
            `Worker ${worker.id} died holding ${
              this.fnLabel(task.fnId)
            }, whose transferred arguments were lost with it: the pool replaced the worker`,
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
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
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
      queued: this.#pending(),
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      stolen: this.#stolen,
      crashedWorkers: this.#crashed,
      abandonedWorkers: this.#abandoned.size,
      runTimeMs: this.#runTime.snapshot(),
      waitTimeMs: this.#waitTime.snapshot(),
    };
  }
}
