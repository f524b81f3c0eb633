// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `maxQueue`, the pool's backpressure. A `run`/`submit` call that
 * finds `maxQueue` tasks admitted and not started waits, as a task in the
 * `waiting` state, in one FIFO list (the library's intrusive list, so a call
 * whose signal aborts leaves it in O(1)).
 *
 * - **First come, first served**: while any call waits, a new call waits
 *   behind it, even if a task has just started.
 * - **No lost wake-up**: the scheduler admits after every change and on its
 *   heartbeat while any call waits, so a wait ends as soon as there is room,
 *   even when room appears without a message (a worker starting a task it
 *   held).
 *
 * @module
 */

import { List } from "./_list.ts";
import type { Task } from "./_task.ts";

export class Backpressure {
  readonly #waiting = new List<Task>();
  readonly #max: number;

  constructor(maxQueue: number) {
    this.#max = maxQueue;
  }

  /** How many calls wait. */
  get size(): number {
    return this.#waiting.size;
  }

  /** The call that has waited longest. */
  get head(): Task | undefined {
    return this.#waiting.head;
  }

  /**
   * Whether a new call must wait. `bound`, an upper bound of the tasks
   * admitted and not started, saves counting them exactly (`unstarted()`)
   * while the queue is far from full.
   */
  mustWait(bound: number, unstarted: () => number): boolean {
    if (this.#max === Infinity) return false;
    if (this.#waiting.size > 0) return true;
    return bound >= this.#max && unstarted() >= this.#max;
  }

  /** new -> waiting. */
  wait(task: Task): void {
    task.state = "waiting";
    this.#waiting.push(task);
  }

  /** Takes a waiting task out of the list (it settles). */
  remove(task: Task): void {
    this.#waiting.remove(task);
  }

  /**
   * Takes the waiting tasks that fit now that `unstarted` tasks are
   * admitted and not started, oldest first; the caller queues them.
   */
  admit(unstarted: number): Task[] {
    const out: Task[] = [];
    let room = this.#max - unstarted;
    while (room-- > 0 && this.#waiting.size > 0) {
      out.push(this.#waiting.shift() as Task);
    }
    return out;
  }
}
