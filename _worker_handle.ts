// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one pool worker as the main thread sees it, whatever runs it: a
 * Web Worker thread (`_thread_worker.ts`) or a child process
 * (`_process_worker.ts`). The handle keeps the books the scheduler reads:
 * its lifecycle, the tasks it holds (by seq), and its grace and start
 * timers. The transport (how tasks travel, how the worker's own record of
 * each task is kept, how its death is noticed) is the subclass's.
 *
 * ```text
 *   starting --ready--> ready --retire--> retiring
 *       \                 |   \ died          |  / died
 *        \                |     `--> dying <--'
 *         `---------------+------stop----+-----+--> stopping --exit--> exited
 *                                               \-> abandoned -exit-^
 * ```
 *
 * - `starting`: created; loading its task module. A thread may hold tasks
 *   dealt while no worker was ready (it reads them once loaded); a process
 *   holds none.
 * - `ready`: takes tasks.
 * - `retiring`: takes no new task (recycled, idle, or the pool is closing);
 *   the scheduler stops it once it holds nothing.
 * - `dying`: it died (or is being killed); what it said before it died is
 *   read, then it is stopped.
 * - `stopping`: out of service; holds nothing; its thread or process is
 *   ending.
 * - `abandoned` (threads only): terminated while a task ran. Deno cannot
 *   stop a thread busy in a synchronous loop, so it may run on until the
 *   loop ends. A process is always killed, so never abandoned.
 * - `exited`: its thread or process has ended.
 *
 * Invariants: a task is in the held table exactly while its state is `held`
 * with `task.worker === this`, or while it is settled but started and
 * unanswered; `heldCount` counts the entries; only `starting` (threads),
 * `ready`, `retiring` and `dying` handles hold entries; seqs in the table
 * lie in `[low, nextSeq)`, fewer than `SLOTS`.
 *
 * **The worker's record of each task** is `control` ({@linkcode
 * WorkerControl}): for a thread, the shared control block, changed by
 * compare-and-swap on both sides; for a process, the parent's mirror of
 * what the child has told it (claims and results), which is never ahead of
 * the child.
 *
 * @module
 */

import { ARRIVED, DONE, SENT, SLOTS, type SlotState } from "./_control.ts";
import { ABORT } from "./_protocol.ts";
import type { Task } from "./_task.ts";
import { serializeError } from "./errors/serialize_error.ts";

/** A worker's lifecycle state. */
export type WorkerState =
  | "starting"
  | "ready"
  | "retiring"
  | "dying"
  | "stopping"
  | "abandoned"
  | "exited";

/** What runs a pool's workers. */
export type Isolation = "thread" | "process";

/** What the handle reports to the scheduler. */
export interface WorkerHost {
  /** A message from the worker (not yet checked). */
  onMessage(handle: WorkerHandle, data: unknown): void;
  /** The worker died or broke the protocol. */
  onDeath(handle: WorkerHandle, cause: unknown): void;
  /** The worker's thread or process has ended. */
  onExit(handle: WorkerHandle): void;
}

/** How to start workers. */
export interface WorkerSpec {
  readonly isolation: Isolation;
  readonly entryUrl: string;
  readonly moduleUrl: string | null;
  readonly permissions: Deno.PermissionOptions | undefined;
  readonly name: string;
  /** Whether the entry imports the task module statically (a sandbox). */
  readonly staticEntry: boolean;
  /** A process worker's V8 heap limit, in MB. */
  readonly maxMemoryMb: number | undefined;
}

/**
 * The worker's record of each task it holds, as the main thread uses it
 * (`ControlBlock` for a thread; a mirror for a process).
 */
export interface WorkerControl {
  /** Marks task `seq` as sent. */
  send(seq: number): void;
  /** Takes back task `seq` if it surely has not started. */
  revoke(seq: number): boolean;
  /** Marks running task `seq` as cancelled: whether to abort it. */
  cancel(seq: number): boolean;
  /** The state of task `seq`, or `undefined`. */
  state(seq: number): SlotState | undefined;
  /** Reads results the worker left outside messages. */
  takeResults(
    each: (seq: number, value: unknown, runTimeMs: number) => void,
  ): number;
  /** How many channel operations its tasks wait in. */
  waiting(): number;
}

/**
 * What the scheduler does with a stopped worker's tasks: those that never
 * started (they may run elsewhere) and those that had (running, or finished
 * with their result lost), both in seq order.
 */
export interface Stopped {
  unstarted: Task[];
  started: Task[];
}

export abstract class WorkerHandle {
  readonly id: number;
  state: WorkerState = "starting";
  /** Function ids this worker has been sent. */
  readonly known: Set<number> = new Set<number>();
  readonly createdAt: number = performance.now();
  /** When it last answered, or was given work while idle. */
  lastProgressAt: number = performance.now();
  /** When it last became idle (for `idleTimeoutMs`). */
  idleSince: number = performance.now();
  /** The seq the next task sent to it gets. */
  nextSeq = 0;
  /** Entries in the held table. */
  heldCount = 0;
  /** Tasks it finished (answered), for `maxTasksPerWorker`. */
  finished = 0;
  /** How it ended, in words, once known ("its process exited with code 1"). */
  endedHow: string | undefined = undefined;
  /** The cancelled running task its grace timer waits for, or -1. */
  protected graceSeq = -1;
  #graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #startTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  protected readonly host: WorkerHost;
  readonly #held: (Task | undefined)[] = new Array(SLOTS).fill(undefined);
  #low = 0;

  constructor(id: number, host: WorkerHost) {
    this.id = id;
    this.host = host;
  }

  /** The worker's record of each task it holds. */
  abstract readonly control: WorkerControl;
  /**
   * Whether a lone primitive call may travel as a bare value, and calls with
   * a number each as a TASKS_NUM message (threads: the bootstrap reads both).
   */
  abstract readonly fastPath: boolean;
  /** The name of its lifeline (threads; a process has none). */
  abstract readonly lifeline: string;
  /** Posts a message to the worker. @throws {unknown} If it cannot be cloned. */
  abstract post(message: unknown, transfer: Transferable[] | undefined): void;
  /**
   * Sends task `id` of function `fnId`, a lone call with one primitive
   * argument `value`, as a bare value (only when `fastPath`).
   */
  abstract sendFast(id: number, fnId: number, value: unknown): void;
  /**
   * Throws what sending `value` to this worker throws (to find the argument
   * at fault once a message failed).
   */
  checkClone(value: unknown): void {
    structuredClone(value);
  }

  /**
   * Whether the tasks it holds can be taken back at once to run elsewhere
   * (a thread: the control block's compare-and-swap). A process cannot give
   * tasks back while it runs, so process workers are never stolen from.
   */
  readonly stealable: boolean = true;

  /**
   * Whether every task `stop()` gave back as started did start (a thread's
   * control block says so; a process that died without last words may have
   * claimed tasks it had not started yet).
   */
  get startsKnown(): boolean {
    return true;
  }

  /** What else cannot be sent to this kind of worker, for error messages. */
  readonly cloneRule: string = "";

  /** Starts watching for the worker's end (once it said LIVE). */
  abstract watch(): void;
  /** Stops watching, so that the process may exit. */
  abstract unwatch(): void;
  /**
   * Takes the worker out of service and gives back what it held; after
   * this the handle holds nothing and ignores its worker.
   *
   * @returns What it held, or `undefined` if that cannot be known yet (a
   *   process being killed): its death then comes back through
   *   `onDeath`, once everything it said before it ended has been read.
   */
  abstract stop(): Stopped | undefined;

  // ---- transitions --------------------------------------------------------

  /** Whether it has not been taken out of service yet. */
  get inService(): boolean {
    return this.state !== "stopping" && this.state !== "abandoned" &&
      this.state !== "exited";
  }

  /** starting -> ready. */
  markReady(): void {
    this.clearStartTimer();
    this.state = "ready";
    this.lastProgressAt = this.idleSince = performance.now();
  }

  /** ready -> retiring. */
  retire(): void {
    if (this.state === "ready") this.state = "retiring";
  }

  // ---- what it holds ------------------------------------------------------

  /**
   * Records that `task` is sent to this worker and gives it the next seq;
   * call right before posting it.
   */
  hold(task: Task): void {
    const seq = this.nextSeq++;
    task.state = "held";
    task.worker = this;
    task.seq = seq;
    this.#held[seq % SLOTS] = task;
    this.heldCount++;
    this.control.send(seq);
  }

  /** Undoes `hold` for the tasks from `seq` on: their message was not sent. */
  unhold(seq: number): Task[] {
    const tasks: Task[] = [];
    for (let s = seq; s < this.nextSeq; s++) {
      const task = this.#held[s % SLOTS] as Task;
      this.#held[s % SLOTS] = undefined;
      this.heldCount--;
      task.worker = undefined;
      task.seq = -1;
      tasks.push(task);
    }
    this.nextSeq = seq;
    return tasks;
  }

  /** The task held at `seq`, or `undefined`. */
  at(seq: number): Task | undefined {
    if (!Number.isInteger(seq) || seq < this.#low || seq >= this.nextSeq) {
      return undefined;
    }
    const task = this.#held[seq % SLOTS];
    return task !== undefined && task.seq === seq && task.worker === this
      ? task
      : undefined;
  }

  /** Forgets the task at `seq` (answered, or taken back). */
  release(task: Task): void {
    const seq = task.seq;
    if (this.#held[seq % SLOTS] !== task) return;
    this.#held[seq % SLOTS] = undefined;
    this.heldCount--;
    task.worker = undefined;
    task.seq = -1;
    if (seq === this.graceSeq) this.clearGrace();
    while (
      this.#low < this.nextSeq && this.#held[this.#low % SLOTS] === undefined
    ) {
      this.#low++;
    }
  }

  /**
   * Empties the held table for `stop()`: each task it held, in seq order,
   * with `keep` deciding whether it goes back unstarted.
   */
  protected takeAll(unstarted: (seq: number) => boolean): Stopped {
    const stopped: Stopped = { unstarted: [], started: [] };
    for (let seq = this.#low; seq < this.nextSeq; seq++) {
      const task = this.at(seq);
      if (task === undefined) continue;
      if (unstarted(seq)) stopped.unstarted.push(task);
      else stopped.started.push(task);
      task.worker = undefined;
    }
    this.#held.fill(undefined);
    this.heldCount = 0;
    this.#low = this.nextSeq;
    this.clearStartTimer();
    this.clearGrace();
    return stopped;
  }

  /** How many more tasks it can hold. */
  get room(): number {
    return SLOTS - 1 - (this.nextSeq - this.#low);
  }

  /** Up to `max` tasks it holds that have not started, oldest first. */
  unstarted(max: number): Task[] {
    const out: Task[] = [];
    for (let seq = this.#low; seq < this.nextSeq && out.length < max; seq++) {
      const task = this.at(seq);
      if (task === undefined) continue;
      const state = this.control.state(seq);
      if (state === ARRIVED || state === SENT) out.push(task);
    }
    return out;
  }

  /**
   * How many tasks it holds that have not started. The worker takes tasks in
   * seq order, so the count runs back from the newest to the first that has
   * started.
   */
  get backlog(): number {
    let n = 0;
    for (let seq = this.nextSeq - 1; seq >= this.#low; seq--) {
      if (this.at(seq) === undefined) continue;
      const state = this.control.state(seq);
      if (state !== SENT && state !== ARRIVED) break;
      n++;
    }
    return n;
  }

  // ---- timers -------------------------------------------------------------

  /**
   * Tells the worker its task `seq` was cancelled (its signal aborts with
   * `reason`), and gives it `graceMs` to end before `onExpired` runs.
   */
  abortRunning(
    seq: number,
    reason: unknown,
    graceMs: number,
    onExpired: () => void,
  ): void {
    try {
      this.post([ABORT, seq, serializeError(reason)], undefined);
    } catch {
      // Its channel is closed: its death is being handled.
    }
    if (!Number.isFinite(graceMs)) return;
    this.armGrace(seq, graceMs, onExpired);
  }

  /** Runs `onExpired` in `graceMs` unless task `seq` has ended by then. */
  protected armGrace(seq: number, graceMs: number, onExpired: () => void) {
    this.clearGrace();
    this.graceSeq = seq;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.graceSeq === seq && this.control.state(seq) !== DONE) {
        this.graceExpired(seq, onExpired);
      }
    }, graceMs);
  }

  /** The grace of cancelled task `seq` ran out while it had not ended. */
  protected graceExpired(_seq: number, onExpired: () => void): void {
    onExpired();
  }

  /** Runs `onExpired` unless the worker is ready within `timeoutMs`. */
  armStartTimer(timeoutMs: number, onExpired: () => void): void {
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      if (this.state === "starting") onExpired();
    }, timeoutMs);
  }

  protected clearGrace(): void {
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.graceSeq = -1;
  }

  protected clearStartTimer(): void {
    if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
  }
}
