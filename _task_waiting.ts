// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: how a pool worker tells the pool that its running task waits
 * in a channel operation (a `WorkerChannel` or a pipe end), so the pool can
 * say when every worker waits on others that cannot start (a pool too
 * small for tasks that talk to each other). The worker installs a counter
 * at `TASK_WAITING`; a channel operation adds one while it waits. On the
 * main thread nothing is installed and nothing is counted.
 *
 * @module
 */

/** The global slot of the worker's wait counter. */
export const TASK_WAITING: unique symbol = Symbol.for(
  "@seed/concurrency/taskWaiting",
);

/** Counts `operation` as a wait of the running task until it settles. */
export function taskWaiting<T>(operation: Promise<T>): Promise<T> {
  const count = (globalThis as Record<symbol, unknown>)[TASK_WAITING] as
    | ((delta: number) => void)
    | undefined;
  if (count === undefined) return operation;
  count(1);
  // A new promise that settles as `operation` does: one the caller ignores
  // still reports its rejection as unhandled.
  return operation.finally(() => count(-1));
}
