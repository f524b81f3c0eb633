// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: facts about the thread this code runs on.
 *
 * @module
 */

/**
 * Whether this code runs in a worker rather than on the main thread. The
 * main thread may not block (`Atomics.wait`), and never holds a lifeline:
 * when it ends, the process ends with it.
 */
export function isWorkerThread(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown })
    .WorkerGlobalScope === "function";
}
