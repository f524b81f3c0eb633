// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the pool's balancing decisions, kept apart from the mechanics
 * that carry them out: when to start one more worker, and which unstarted
 * tasks an idle worker takes over from a busy one (work stealing).
 *
 * Dispatch is greedy (a worker is given a share of the queue, so it never
 * waits for the main thread between tasks), except for tasks that are worth
 * dealing one by one (see `holdLimit`): a big payload, or tasks known to
 * take a millisecond or more, go to a worker only while it holds fewer than
 * a few, so the rest stay in the pool's queue for whichever worker frees up
 * first, and no worker is left idle while another holds a backlog.
 * Stealing corrects the imbalance that greedy dispatch leaves, and frees
 * tasks dealt ahead to a worker whose current task turned out long: an idle
 * worker takes those (they are older than any in the queue) before the
 * queue's, once their worker has been silent for twice the average run
 * (see `behindLongMs`). The rules that keep stealing from doing harm:
 * - A task the victim has not received yet (SENT in `_control.ts`) moves
 *   only if it was never moved before and the victim has been silent for a
 *   while (see `mayMove`), so a large argument is not moved while it is
 *   still being copied in, and the thief, which is idle, starts what it
 *   takes at once: no ping-pong. A task it has received may move again:
 *   tasks that wait for each other must be able to reach a worker each.
 * - A task that transfers its arguments never moves: they are the victim's.
 * - A task is worth moving only if copying it again costs less than the wait
 *   it saves: one of `bytes` moves only once its victim has been silent (busy
 *   on one task) for `bytes / COPY_BYTES_PER_MS` ms.
 * - The oldest unstarted tasks move first, so old tasks do not wait behind
 *   new ones.
 *
 * @module
 */

import { ARRIVED } from "./_control.ts";
import type { Task } from "./_task.ts";
import type { WorkerHandle } from "./_worker_handle.ts";

/** A payload this big (in bytes) is dealt one by one. */
export const BIG_BYTES = 64 * 1024;
/** Tasks this long (ms, on average) are dealt one by one. */
const LONG_RUN_MS = 1;
/** How much work (ms) a worker dealt long tasks holds beyond its current one. */
const AHEAD_MS = 4;

/**
 * The most tasks a worker may hold for `task` to go to it too: with a big
 * payload, the one it runs and one on its way (so it starts the next at
 * once, while the main thread copies the one after); with long tasks, about
 * `AHEAD_MS` of work beyond the current one; otherwise no limit (tiny tasks
 * go in large batches, and stealing evens them out). A worker that cannot be
 * stolen from (a process) gets two tasks of unknown length at first: an even
 * deal of long tasks could not be evened out; the first results tell how
 * long tasks take.
 *
 * @param avgRunMs The pool's average task run time, 0 before any ran.
 * @param stealable Whether the worker's tasks can be taken back.
 */
export function holdLimit(
  task: Task,
  avgRunMs: number,
  stealable = true,
): number {
  if (task.bytes >= BIG_BYTES) return 2;
  if (avgRunMs >= LONG_RUN_MS) return 1 + Math.ceil(AHEAD_MS / avgRunMs);
  if (avgRunMs === 0 && !stealable) return 2;
  return Infinity;
}

/** How long a worker must be silent for a small task on its way to it to move. */
const SENT_SILENT_MS = 1;
/**
 * How long a worker must have been silent for its unstarted tasks to be
 * taken over while the queue still has tasks: its current task is then
 * longer than most.
 */
export function behindLongMs(avgRunMs: number): number {
  return Math.max(1, 2 * avgRunMs);
}

/** Roughly how fast the main thread copies a payload into a message. */
const COPY_BYTES_PER_MS = 1_000_000;

/** What one steal should take: a victim and how many tasks. */
export interface StealPlan {
  victim: WorkerHandle;
  want: number;
}

/**
 * Picks the worker `thief` (idle) should take tasks from: the one with the
 * largest backlog of unstarted tasks, among those silent (no answer) for
 * more than `minSilentMs`; a thread still starting counts, with what it
 * was dealt while no worker was ready.
 */
export function planSteal(
  thief: WorkerHandle,
  workers: readonly WorkerHandle[],
  avgRunMs: number,
  now: number,
  minSilentMs: number,
): StealPlan | undefined {
  let victim: WorkerHandle | undefined;
  let most = 0;
  for (const worker of workers) {
    if (worker === thief || worker.stealable === false) continue;
    if (
      worker.state !== "ready" && worker.state !== "retiring" &&
      worker.state !== "starting"
    ) continue;
    if (now - worker.lastProgressAt <= minSilentMs) continue;
    const backlog = worker.backlog;
    if (backlog > most) {
      most = backlog;
      victim = worker;
    }
  }
  if (victim === undefined) return undefined;
  // Half of its unstarted tasks, rounded up: the victim is running one too,
  // so both end with about as much work. A lone unstarted task is worth
  // moving only if tasks are not known to be tiny, or its worker seems stuck
  // (otherwise the victim starts it sooner).
  if (
    most === 1 && avgRunMs > 0 && avgRunMs <= 0.5 &&
    now - victim.lastProgressAt <= 1
  ) {
    return undefined;
  }
  return { victim, want: Math.ceil(most / 2) };
}

/**
 * Whether `task`, held unstarted by `victim`, may move to another worker.
 * A task the victim has received moves if it is small, or once the victim
 * has been silent for as long as copying it again takes. One still on its
 * way (SENT: the victim has not taken its message, being busy in a long
 * task, or still copying a large one in) moves once the victim has been
 * silent for a millisecond if it is small (a worker busy in a synchronous
 * task takes no message, so the task would wait for the whole of it), and
 * only after `stallMs` as well if it is large, so a large argument is not
 * moved while the victim may still be copying it in.
 */
export function mayMove(
  task: Task,
  victim: WorkerHandle,
  now: number,
  stallMs: number,
): boolean {
  if (task.transfer !== undefined) return false;
  const silent = now - victim.lastProgressAt;
  const copyMs = task.bytes <= 64 * 1024 ? 0 : task.bytes / COPY_BYTES_PER_MS;
  if (victim.control.state(task.seq) === ARRIVED) return silent > copyMs;
  // Still on its way. A task already moved once is on its way to a thief
  // that was idle: it starts it as soon as it arrives, so moving it again
  // before then would only make it travel back and forth.
  return task.sends === 1 &&
    silent > (copyMs === 0 ? SENT_SILENT_MS : Math.max(stallMs, copyMs));
}

/** What the spawn decision looks at. */
export interface SpawnInputs {
  /** Workers starting or ready (not retiring). */
  live: number;
  size: number;
  /** Tasks not started: waiting, queued or held. */
  pending: number;
  /** Workers the current busy spell has wanted (a crashed one is replaced). */
  wanted: number;
  avgRunMs: number;
  spawnCostMs: number;
  /** Whether some worker has held work without answering for a start's time. */
  stalled: boolean;
}

/**
 * Whether to start one more worker (the caller starts one at a time): the
 * pending work would outlast a start, a worker seems stuck while tasks wait
 * (its task is long, or waits for another task), or one crashed in this busy
 * spell. Tiny work never pays for workers it does not need.
 */
export function shouldSpawn(inputs: SpawnInputs): boolean {
  const { live, size, pending } = inputs;
  if (live >= size || pending === 0) return false;
  if (live === 0 || live < inputs.wanted || inputs.stalled) return true;
  return inputs.avgRunMs > 0 &&
    pending * inputs.avgRunMs / live > inputs.spawnCostMs;
}

/** How long every worker must wait on a channel before a stall is told. */
export const STALL_MS = 1000;

/**
 * Whether the pool seems stuck on tasks that talk over channels: tasks
 * wait for a worker, no more workers can start, and every worker has gone
 * `STALL_MS` without an answer while a task of its waits in a channel
 * operation (see `_task_waiting.ts`), most likely for a task that cannot
 * start.
 */
export function stalledOnChannels(
  workers: readonly WorkerHandle[],
  size: number,
  queued: number,
  now: number,
): boolean {
  if (queued === 0) return false;
  let ready = 0;
  for (const worker of workers) {
    if (worker.state === "starting") return false;
    if (worker.state !== "ready") continue;
    ready++;
    if (
      worker.control.waiting() <= 0 || now - worker.lastProgressAt < STALL_MS
    ) return false;
  }
  return ready >= size;
}
