// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the pool's queue of tasks admitted and not yet sent to a
 * worker, oldest first (a task taken back from a worker goes back to the
 * front).
 *
 * Invariants: `length` counts the tasks in state `queued`, and every one of
 * them is in the ring; the ring may also hold tasks that settled while
 * queued (a cancel), which are dropped when reached, so settling a queued
 * task costs O(1).
 *
 * @module
 */

import { BIG_BYTES, holdLimit } from "./_balance.ts";
import { RingBuffer } from "./_ring_buffer.ts";
import type { Task } from "./_task.ts";
import type { WorkerHandle } from "./_worker_handle.ts";

export class TaskQueue {
  readonly #ring = new RingBuffer<Task>();
  /** Tasks in state `queued`. */
  length = 0;
  /**
   * When the tasks queued in this turn were queued (see `add`). A tagged
   * field (`undefined` between turns, never a number-only field), so that
   * every task of the turn points at the same number instead of a box each.
   */
  #stamp: number | undefined = undefined;
  readonly #unstamp = (): void => {
    this.#stamp = undefined;
  };

  /** new/waiting/held (taken back) -> queued, at the back or the front. */
  add(task: Task, front: boolean): void {
    task.state = "queued";
    // One clock read per turn, not per task (a burst of 100k calls spent 5%
    // of its time reading the clock): the wait stats need no finer.
    let stamp = this.#stamp;
    if (stamp === undefined) {
      stamp = this.#stamp = performance.now();
      queueMicrotask(this.#unstamp);
    }
    task.queuedAt = stamp;
    if (front) this.#ring.unshift(task);
    else this.#ring.push(task);
    this.length++;
  }

  /** A queued task is settling: it is dropped from the ring when reached. */
  forget(): void {
    this.length--;
  }

  /** The oldest queued task, if any, left in state `queued`. */
  shift(): Task | undefined {
    for (let task = this.#ring.shift(); task; task = this.#ring.shift()) {
      if (task.state === "queued") return task;
    }
    return undefined;
  }

  /**
   * Takes, for `worker`, up to `max` of the oldest queued tasks, within
   * what the worker may hold (see `holdLimit` in `_balance.ts`) and
   * `maxTasksPerWorker`. A task that transfers its arguments goes only to
   * an idle worker, alone: what it transfers cannot be taken back, so it
   * must never wait behind a task that could crash or stall its worker. The
   * tasks taken stay `queued` until the caller sends them.
   *
   * @param minHold Lets the worker hold at least this many tasks that are
   *   not big (see `feed` in `_dealer.ts`).
   */
  takeFor(
    worker: WorkerHandle,
    max: number,
    maxTasksPerWorker: number,
    avgRunMs: number,
    minHold = 0,
  ): Task[] {
    let room = Math.min(
      max,
      worker.room,
      maxTasksPerWorker - worker.finished - worker.heldCount,
    );
    const ring = this.#ring;
    const tasks: Task[] = [];
    while (room > 0 && ring.length > 0) {
      const head = ring.peek() as Task;
      if (head.state !== "queued") {
        ring.shift(); // settled while queued
        continue;
      }
      const transfers = head.transfer !== undefined;
      // A transfer goes to a worker holding nothing, and one surely up (a
      // worker that fails to start would take the transferred data with it).
      if (
        transfers &&
        (worker.heldCount > 0 || tasks.length > 0 ||
          worker.state === "starting")
      ) break;
      let limit = holdLimit(head, avgRunMs, worker.stealable);
      if (limit < minHold && head.bytes < BIG_BYTES) limit = minHold;
      if (worker.heldCount + tasks.length >= limit) break;
      // Dealt one by one, a worker is refilled once it is down to half its
      // limit, several tasks to a message: a busy worker takes its next
      // message only when it runs out of tasks, an event-loop turn each.
      if (tasks.length === 0 && worker.heldCount > limit / 2) break;
      ring.shift();
      tasks.push(head);
      room--;
      if (transfers) break;
    }
    this.length -= tasks.length;
    return tasks;
  }
}
