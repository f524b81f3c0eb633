// Copyright the @seed/concurrency authors. MIT license.
// The three warm runners of the heavy-tail and gzip workloads: raw Workers
// that each take the next item when free, a WorkerPool and piscina, on one
// task module, every worker started up front and kept however idle, so that
// none stops and restarts inside a timed run.
import { Piscina } from "piscina";
import { type TaskModule, WorkerPool } from "../pool.ts";
import { RawQueue } from "./_raw_queue.ts";

/**
 * How long the runners are warmed, in ms, at the least. A function that calls
 * a hot loop (a raw worker's message handler calling `burn`) is compiled by
 * Maglev with the loop inlined, which runs it about 1.5x slower, until
 * TurboFan compiles it again, 3-4 s of its own calls later here
 * (`--no-maglev-inlining` makes that phase go away). Each worker goes through
 * it on its own, and the three runners share the warm-up. With one pass, or
 * 6 s, the raw baseline went through it during the timed rounds (heavy tail:
 * raw median 291 ms, fastest 188 ms); with 15 s its median is its steady
 * speed (203 ms).
 */
export const WARM_MS = 15_000;

/** Warm runners on one task module. */
export interface WarmRunners<M extends TaskModule> {
  raw: RawQueue;
  pool: WorkerPool<M>;
  piscina: Piscina;
  /** Ends all three. */
  close(): Promise<void>;
}

/**
 * Starts the runners of `size` workers on `tasks`, gives them `warmUp` (one
 * full pass each) again and again for at least {@linkcode WARM_MS}, so that
 * every worker has loaded the module and its JIT has settled, and checks that
 * the pool kept all its workers.
 */
export async function warmRunners<M extends TaskModule>(
  tasks: URL,
  size: number,
  warmUp: (runners: WarmRunners<M>) => Promise<void>,
): Promise<WarmRunners<M>> {
  const raw = new RawQueue(size);
  const pool = new WorkerPool<M>(tasks, { size, minSize: size });
  const piscina = new Piscina({
    filename: tasks.href,
    minThreads: size,
    maxThreads: size,
    idleTimeout: Infinity,
  });
  const runners: WarmRunners<M> = {
    raw,
    pool,
    piscina,
    async close() {
      raw.close();
      pool.terminate();
      await piscina.destroy();
    },
  };
  await pool.ready();
  const start = performance.now();
  do await warmUp(runners); while (performance.now() - start < WARM_MS);
  if (pool.stats.workers !== size) {
    throw new Error(
      `The pool has ${pool.stats.workers} workers after warm-up, not ${size}`,
    );
  }
  return runners;
}
