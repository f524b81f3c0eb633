// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import { ONCE } from "./_wait_queue.ts";

/** Options for the {@linkcode TaskGroup} constructor. */
export interface TaskGroupOptions {
  /**
   * A parent signal: when it aborts, the group's signal aborts with the same
   * reason, and {@linkcode TaskGroup.wait} rejects with that reason (unless a
   * task failed).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Structured concurrency for async tasks, like Python's `asyncio.TaskGroup`
 * and Go's `errgroup`: tasks spawned in a group share an `AbortSignal`, the
 * first failure aborts it, and {@linkcode TaskGroup.wait} (or the end of an
 * `await using` block) waits for every task and rethrows the failure. No
 * task outlives the group.
 *
 * - **Fairness:** tasks start at once, in the order they are spawned; the
 *   group does not limit how many run (combine it with a
 *   {@linkcode https://jsr.io/@seed/concurrency/doc/sync/~/Semaphore | Semaphore}
 *   for that).
 * - **Cancellation:** aborting cancels the work: the first task failure, a
 *   call to {@linkcode TaskGroup.abort} or the abort of the parent signal
 *   aborts the group's {@linkcode TaskGroup.signal}, which every task was
 *   given. The group still waits for every task to settle, so tasks must
 *   honour the signal. Rejections that the group's own abort caused (the
 *   signal's reason itself, or any error named `"AbortError"` after the
 *   abort) are not counted as failures.
 * - **Close:** the group finishes when {@linkcode TaskGroup.wait} has seen
 *   every task settle; spawning after that throws. `wait()` can be called
 *   again and gives the same outcome.
 * - **Misuse:** spawning into a finished group throws a `TypeError`. A group
 *   that is never waited for loses its failures: prefer `await using`.
 *
 * @example Usage
 * ```ts
 * import { TaskGroup } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const results: number[] = [];
 * {
 *   await using group = new TaskGroup();
 *   for (const n of [1, 2, 3]) {
 *     group.spawn(async () => {
 *       await Promise.resolve();
 *       results.push(n * 10);
 *     });
 *   }
 * } // waits here for every task
 * assert.deepEqual(results.sort(), [10, 20, 30]);
 * ```
 *
 * @example The first failure cancels the others
 * ```ts
 * import { TaskGroup } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const group = new TaskGroup();
 * group.spawn((signal) =>
 *   new Promise((_, reject) => {
 *     // A long task that stops when the group aborts.
 *     signal.addEventListener("abort", () => reject(signal.reason), {
 *       once: true,
 *     });
 *   })
 * );
 * group.spawn(() => {
 *   throw new Error("boom");
 * });
 * await assert.rejects(group.wait(), { message: "boom" });
 * assert.equal(group.signal.aborted, true);
 * ```
 */
export class TaskGroup implements AsyncDisposable {
  readonly #controller: AbortController = new AbortController();
  readonly #parent: AbortSignal | undefined;
  #state: "open" | "waiting" | "finished" = "open";
  #pending = 0;
  readonly #failures: unknown[] = [];
  /** The promise `wait()` returns; created by the first call. */
  #outcome: Promise<void> | undefined = undefined;
  #resolve: (() => void) | undefined = undefined;
  #reject: ((reason: unknown) => void) | undefined = undefined;
  readonly #onFulfilled = (): void => this.#taskDone();
  readonly #onRejected = (error: unknown): void => {
    this.#taskFailed(error);
    this.#taskDone();
  };
  readonly #onParentAbort = (): void => {
    this.#controller.abort(this.#parent?.reason);
  };

  /**
   * Creates an empty, open task group.
   *
   * @param options Options, such as a parent signal.
   * @throws {TypeError} If `options.signal` is given and is not an
   * `AbortSignal`.
   *
   * @example With a parent signal
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const parent = new AbortController();
   * const group = new TaskGroup({ signal: parent.signal });
   * parent.abort(new Error("shutting down"));
   * assert.equal(group.signal.aborted, true);
   * await assert.rejects(group.wait(), { message: "shutting down" });
   * ```
   */
  constructor(options?: TaskGroupOptions) {
    const parent = options?.signal;
    if (parent !== undefined && !(parent instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot create TaskGroup as 'signal' must be an AbortSignal: received ${
          describe(parent)
        }`,
      );
    }
    this.#parent = parent;
    if (parent === undefined) return;
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener("abort", this.#onParentAbort, ONCE);
  }

  /**
   * The signal given to every task: it aborts on the first failure, on
   * {@linkcode TaskGroup.abort}, or when the parent signal aborts.
   *
   * @returns The group's signal.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const group = new TaskGroup();
   * assert.equal(group.signal.aborted, false);
   * await group.wait();
   * ```
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * The number of spawned tasks that have not settled yet.
   *
   * @returns A non-negative integer.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const group = new TaskGroup();
   * const { promise, resolve } = Promise.withResolvers<void>();
   * group.spawn(() => promise);
   * assert.equal(group.pending, 1);
   * resolve();
   * await group.wait();
   * assert.equal(group.pending, 0);
   * ```
   */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Starts `task` now, passing it the group's signal. The group waits for
   * it; if it fails, the group's signal aborts with the failure as reason.
   * Tasks may spawn more tasks, also while {@linkcode TaskGroup.wait} is
   * waiting. A task spawned after the group aborted still starts, with an
   * aborted signal.
   *
   * @typeParam T The result type of the task.
   * @param task The task: takes the group's signal, returns a value or a
   * promise. A synchronous throw counts as a failure.
   * @returns The task's own promise, for its result. Its rejection is
   * already handled by the group, so ignoring it is safe.
   * @throws {TypeError} If the group has finished, or `task` is not a
   * function.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * await using group = new TaskGroup();
   * const answer = group.spawn(async () => 42);
   * assert.equal(await answer, 42);
   * ```
   */
  spawn<T>(task: (signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
    if (typeof task !== "function") {
      throw new TypeError(
        `Cannot spawn a task as 'task' must be a function: received ${
          describe(task)
        }`,
      );
    }
    if (this.#state === "finished") {
      throw new TypeError("Cannot spawn a task as the TaskGroup has finished");
    }
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(task(this.#controller.signal));
    } catch (error) {
      promise = Promise.reject(error);
    }
    this.#pending++;
    promise.then(this.#onFulfilled, this.#onRejected);
    return promise;
  }

  /**
   * Aborts the group's signal, asking every task to stop. The group still
   * waits for them; {@linkcode TaskGroup.wait} then rejects with `reason`
   * unless a task failed. Aborting an aborted group does nothing.
   *
   * @param reason The abort reason.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const group = new TaskGroup();
   * group.spawn((signal) =>
   *   new Promise((_, reject) =>
   *     signal.addEventListener("abort", () => reject(signal.reason), {
   *       once: true,
   *     })
   *   )
   * );
   * group.abort(new Error("stop"));
   * await assert.rejects(group.wait(), { message: "stop" });
   * ```
   */
  abort(reason?: unknown): void {
    this.#controller.abort(reason);
  }

  /**
   * Waits until every task has settled, including tasks spawned meanwhile,
   * then finishes the group. Calling it again returns the same outcome.
   *
   * **Cancel safety:** this wait takes no signal, since it must not let a
   * task outlive the group: to stop early, abort the parent signal or call
   * {@linkcode TaskGroup.abort}, which cancels the tasks, and this call
   * settles once they have.
   *
   * @returns A promise that resolves when every task succeeded.
   * @throws {AggregateError} If several tasks failed: `errors` holds every
   * failure, first failure first.
   * @throws {unknown} If exactly one task failed: that failure, unchanged.
   * @throws {DOMException} If the group was aborted (parent signal or
   * {@linkcode TaskGroup.abort}) and no task failed: the abort reason, an
   * `"AbortError"` `DOMException` unless another reason was given.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const group = new TaskGroup();
   * group.spawn(() => Promise.reject(new Error("a")));
   * group.spawn(() => Promise.reject(new Error("b")));
   * const error = await group.wait().catch((error: unknown) => error);
   * assert.ok(error instanceof AggregateError);
   * assert.deepEqual(error.errors.map((e: Error) => e.message), ["a", "b"]);
   * ```
   */
  wait(): Promise<void> {
    if (this.#outcome !== undefined) return this.#outcome;
    this.#state = "waiting";
    this.#outcome = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (this.#pending === 0) this.#finish();
    return this.#outcome;
  }

  /**
   * Same as {@linkcode TaskGroup.wait}, for `await using` declarations: the
   * block does not end before every task has settled.
   *
   * @returns A promise that resolves when every task succeeded.
   * @throws {AggregateError} If several tasks failed.
   * @throws {unknown} If exactly one task failed: that failure, unchanged.
   * @throws {DOMException} If the group was aborted and no task failed: the
   * abort reason, an `"AbortError"` `DOMException` unless another reason was
   * given.
   *
   * @example Usage
   * ```ts
   * import { TaskGroup } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * let done = false;
   * {
   *   await using group = new TaskGroup();
   *   group.spawn(async () => {
   *     await Promise.resolve();
   *     done = true;
   *   });
   * }
   * assert.equal(done, true);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.wait();
  }

  #taskFailed(error: unknown): void {
    const signal = this.#controller.signal;
    if (signal.aborted) {
      // Caused by the group's own abort: not a failure.
      if (error === signal.reason || isAbortError(error)) return;
      this.#failures.push(error);
      return;
    }
    this.#failures.push(error);
    this.#controller.abort(error);
  }

  #taskDone(): void {
    if (--this.#pending === 0 && this.#state === "waiting") this.#finish();
  }

  /** Settles the promise of `wait()`; every task has settled. */
  #finish(): void {
    this.#state = "finished";
    this.#parent?.removeEventListener("abort", this.#onParentAbort);
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    this.#resolve = this.#reject = undefined;
    const failures = this.#failures;
    const signal = this.#controller.signal;
    if (failures.length === 1) reject(failures[0]);
    else if (failures.length > 1) {
      reject(
        new AggregateError(
          failures,
          `TaskGroup failed as ${failures.length} tasks failed`,
        ),
      );
    } else if (signal.aborted) reject(signal.reason);
    else resolve();
  }
}

function isAbortError(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { name?: unknown }).name === "AbortError";
}
