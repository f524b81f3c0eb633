// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: facts about the thread this code runs on.
 *
 * @module
 */

// Read once, when the library loads: the thread does not change, and code
// that runs later (a task) cannot change the answer by defining or deleting
// a global. `instanceof` rather than the mere presence of the constructor,
// so a `WorkerGlobalScope` defined on the main thread (a shim, a test) does
// not make it pass for a worker.
const scope = (globalThis as { WorkerGlobalScope?: unknown })
  .WorkerGlobalScope;
const IN_WORKER =
  (typeof scope === "function" && globalThis instanceof scope) ||
  // A process worker's main thread (set by _proc_mark.ts before this loads).
  (globalThis as Record<symbol, unknown>)[
      Symbol.for("@seed/concurrency/process-worker")
    ] === true;

/**
 * Whether this code runs in a pool worker (a worker thread, or the main
 * thread of a process worker) rather than on the application's main thread.
 * The application's main thread may not block (`Atomics.wait`), and never
 * holds a lifeline: when it ends, the process ends with it.
 */
export function isWorkerThread(): boolean {
  return IN_WORKER;
}
