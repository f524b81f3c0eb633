// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: imported first by a process worker's entry (`_proc_child.ts`),
 * before any other module of the library, so that `_env.ts` knows, when it
 * loads, that this process is a pool worker: its main thread may block, and
 * its peers must notice its death, as for a worker thread.
 *
 * @module
 */

(globalThis as Record<symbol, unknown>)[
  Symbol.for("@seed/concurrency/process-worker")
] = true;
