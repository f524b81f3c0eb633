// Copyright the @seed/concurrency authors. MIT license.

/**
 * Parallel CPU work, async coordination and shared memory for Deno.
 *
 * Which part to reach for:
 *
 * | You need to...                                   | Use                                   |
 * | ------------------------------------------------ | ------------------------------------- |
 * | run CPU-heavy functions in parallel              | {@linkcode WorkerPool} (`./pool`)     |
 * | hold a handle to a result and cancel it          | {@linkcode Future} (`./future`)       |
 * | see cancellation inside a task                   | `currentTask()` (`./task`)            |
 * | catch pool failures, send errors across workers  | `./errors`                            |
 * | guard async code in one event loop               | `Lock`, `Semaphore`, ... (`./sync`)   |
 * | share memory with workers, under a lock          | `SharedValue`, `SharedLock` (`./sync`)|
 * | pass values between async tasks                  | `Channel`, `select` (`./channels`)    |
 * | pass values to and between workers               | `WorkerChannel`, `pipe` (`./channels`)|
 *
 * @example The notebook's first cell: a pool of four squares 0..9
 * ```ts
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * await using pool = new WorkerPool({ size: 4 });
 * const results = await pool.map((x: number) => x * x, Array.from({ length: 10 }, (_, i) => i));
 * assert.deepEqual(results, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
 * ```
 *
 * @module
 */
export * from "./pool.ts";
export * from "./future.ts";
export * from "./errors/mod.ts";
export * from "./task.ts";
export * from "./sync/mod.ts";
export * from "./channels/mod.ts";
