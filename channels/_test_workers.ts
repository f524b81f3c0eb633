// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal test helpers for channels that cross workers (not published:
 * `_test_*.ts`).
 *
 * @module
 */

import { WorkerPool } from "../pool.ts";

export { flags, signal, until } from "../_test_atomics.ts";

/**
 * `count` pools of one worker each. Tasks that wait on each other must run
 * at the same time, so each gets a worker of its own: a pool may queue a
 * task behind a long one on the same worker.
 */
export function soloPools(count: number): WorkerPool[] & AsyncDisposable {
  const pools = Array.from(
    { length: count },
    () => new WorkerPool({ size: 1 }),
  ) as WorkerPool[] & AsyncDisposable;
  pools[Symbol.asyncDispose] = async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  };
  return pools;
}
