// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the dealer decides which worker gets which queued task. It
 * shares the queue among the ready workers (or among the threads starting,
 * while none is ready), feeds the ready ones before the main thread blocks
 * on a spawn, and steals unstarted tasks for workers about to run out, by
 * the rules in `_balance.ts`.
 *
 * It moves tasks `queued` -> `held`, and `held` by one worker -> `held` by
 * another, the latter only through the control block's revoke (see
 * {@linkcode takeBack}), so a task that started never moves. It settles
 * nothing itself: a task whose message could not be sent goes to the
 * scheduler's `fail`.
 *
 * @module
 */

import { behindLongMs, holdLimit, mayMove, planSteal } from "./_balance.ts";
import { sendTasks } from "./_dispatch.ts";
import type { FnTable } from "./_fn_table.ts";
import type { StatsRecorder } from "./_stats.ts";
import type { Task } from "./_task.ts";
import type { TaskQueue } from "./_task_queue.ts";
import type { WorkerHandle } from "./_worker_handle.ts";
import type { WorkerSet } from "./_workers.ts";

/** The most tasks `feed` lets a worker hold. */
const MAX_FEED = 256;

/**
 * Takes a held task back from its worker, if the worker has not started
 * it. It is then in no worker's table: the caller sends it elsewhere or
 * settles it.
 *
 * @returns Whether it was taken back.
 */
export function takeBack(task: Task): boolean {
  const worker = task.worker as WorkerHandle;
  if (!worker.control.revoke(task.seq)) return false;
  worker.release(task);
  return true;
}

/** What the dealer works on, all owned by the scheduler. */
export interface DealerParts {
  queue: TaskQueue;
  workers: WorkerSet;
  stats: StatsRecorder;
  fns: FnTable;
  maxTasksPerWorker: number;
  /** Settles a task that could not be sent, with why. */
  fail: (task: Task, error: unknown) => void;
}

export class Dealer {
  readonly #queue: TaskQueue;
  readonly #workers: WorkerSet;
  readonly #stats: StatsRecorder;
  readonly #fns: FnTable;
  readonly #maxTasksPerWorker: number;
  readonly #fail: (task: Task, error: unknown) => void;

  constructor(parts: DealerParts) {
    this.#queue = parts.queue;
    this.#workers = parts.workers;
    this.#stats = parts.stats;
    this.#fns = parts.fns;
    this.#maxTasksPerWorker = parts.maxTasksPerWorker;
    this.#fail = parts.fail;
  }

  /**
   * Deals after any change: steals for workers about to run out while tasks
   * are queued, shares the queue, then steals for idle workers.
   */
  deal(now: number): void {
    const workers = this.#workers.list;
    if (this.#queue.length > 0) {
      // Tasks stuck behind a long one elsewhere are older than the queue's:
      // a worker about to run out takes them first.
      const minSilentMs = behindLongMs(this.#stats.avgRunMs);
      for (const worker of workers) {
        if (worker.state === "ready" && worker.heldCount <= 1) {
          this.#steal(worker, now, minSilentMs);
        }
      }
    }
    this.share();
    for (const worker of workers) {
      if (this.#queue.length > 0) break;
      if (worker.state === "ready" && worker.heldCount === 0) {
        this.#steal(worker, now, 0);
      }
    }
  }

  /**
   * Shares the queue among the workers `WorkerSet.dealable` names, one
   * message each in turn, so every worker starts while the next message is
   * copied.
   */
  share(): void {
    if (this.#queue.length === 0) return;
    const dealable = this.#workers.dealable();
    if (dealable.length === 0) return;
    const share = Math.ceil(this.#queue.length / dealable.length);
    for (const worker of dealable) {
      this.shareTo(worker, share);
      if (this.#queue.length === 0) break;
    }
  }

  /** Sends `worker` up to `max` tasks from the front of the queue. */
  shareTo(worker: WorkerHandle, max: number, minHold = 0): void {
    const tasks = this.#queue.takeFor(
      worker,
      max,
      this.#maxTasksPerWorker,
      this.#stats.avgRunMs,
      minHold,
    );
    if (tasks.length > 0) this.#dispatch(worker, tasks);
  }

  /**
   * Before the main thread blocks for `ms` (starting a worker thread): deals
   * each ready worker queued tasks of known run time enough to stay busy
   * that long. What they hold unstarted can still be stolen afterwards.
   */
  readonly feed = (ms: number): void => {
    const avgRunMs = this.#stats.avgRunMs;
    if (this.#queue.length === 0 || avgRunMs <= 0) return;
    const minHold = Math.min(MAX_FEED, 1 + Math.ceil(ms / avgRunMs));
    for (const worker of this.#workers.list) {
      if (worker.state !== "ready" || !worker.stealable) continue;
      this.shareTo(worker, minHold, minHold);
      if (this.#queue.length === 0) break;
    }
  };

  /** queued (or taken back) -> held by `worker`. */
  #dispatch(worker: WorkerHandle, tasks: Task[]): void {
    const now = performance.now();
    if (worker.heldCount === 0) worker.lastProgressAt = now;
    for (const task of tasks) {
      if (task.sends++ === 0) {
        this.#stats.recordWait(now - (task.queuedAt ?? now));
      }
    }
    for (const { task, error } of sendTasks(worker, tasks, this.#fns)) {
      this.#fail(task, error);
    }
  }

  /**
   * Gives `thief` (idle, or running its last task) the oldest unstarted
   * tasks of the busiest worker silent for more than `minSilentMs`.
   */
  #steal(thief: WorkerHandle, now: number, minSilentMs: number): void {
    const avgRunMs = this.#stats.avgRunMs;
    const plan = planSteal(
      thief,
      this.#workers.list,
      avgRunMs,
      now,
      minSilentMs,
    );
    if (plan === undefined) return;
    const stolen: Task[] = [];
    const stallMs = this.#workers.spawnCostMs;
    for (const task of plan.victim.unstarted(plan.want)) {
      const limit = holdLimit(task, avgRunMs, thief.stealable);
      if (thief.heldCount + stolen.length >= limit) break;
      if (mayMove(task, plan.victim, now, stallMs) && takeBack(task)) {
        stolen.push(task);
      }
    }
    if (stolen.length === 0) return;
    this.#stats.stolen += stolen.length;
    this.#dispatch(thief, stolen);
  }
}
