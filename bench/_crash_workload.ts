// Copyright the @seed/concurrency authors. MIT license.
// The "2% crash rate" workload of crash_bench.ts and interleaved.ts: 1,000
// calls of about 2 ms of CPU each at size 2, with none or 2% of them killing
// their worker (an error thrown from a timer, uncaught), through the pool and
// through raw Workers that replace their dead (bench/_raw_respawn.ts).
//
// The target is the pool's ratio, with crashes against without: within 25%.
// The raw pair's own ratio is the floor a worker start per crash sets on this
// machine, whatever a pool does: a crash costs a start however it is handled.
import { WorkerPool } from "../pool.ts";
import type { Workload } from "./_interleave.ts";
import { RawRespawn } from "./_raw_respawn.ts";
import { calibrateSpin } from "./_tasks.ts";
import { WARM_MS } from "./_warm_runners.ts";

const SIZE = 2;
const CALLS = 1_000;
const WORK_MS = 2;
const RATE = 0.02;

/** Spins for about WORK_MS; `crash` kills the worker instead. */
function work(iterations: number, crash: boolean): number | Promise<never> {
  if (crash) {
    setTimeout(() => {
      throw new Error("crash");
    });
    return new Promise<never>(() => {});
  }
  let state = 1;
  for (let i = 0; i < iterations; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
  }
  return state;
}

/** Whether call `i` crashes at `rate`. */
function crashes(i: number, rate: number): boolean {
  const every = rate === 0 ? Infinity : Math.round(1 / rate);
  return i % every === every - 1;
}

/** Starts the pool and the raw workers, warmed without crashes. */
export async function crashWorkload(): Promise<Workload> {
  const iterations = calibrateSpin(WORK_MS);
  const pool = new WorkerPool({ size: SIZE, idleTimeoutMs: Infinity });
  const raw = new RawRespawn(SIZE);
  const items = (rate: number) =>
    Array.from(
      { length: CALLS },
      (_, i) => crashes(i, rate) ? -1 : iterations,
    );
  const viaPool = async (rate: number) => {
    const calls: Promise<unknown>[] = [];
    let failed = 0;
    for (let i = 0; i < CALLS; i++) {
      calls.push(
        pool.run(work, [iterations, crashes(i, rate)]).catch(() => failed++),
      );
    }
    await Promise.all(calls);
    const expected = Math.floor(CALLS * rate);
    if (failed !== expected) {
      throw new Error(`${failed} calls failed, expected ${expected}`);
    }
  };
  const viaRaw = async (rate: number) => {
    const deaths = await raw.run(items(rate));
    const expected = Math.floor(CALLS * rate);
    if (deaths !== expected) {
      throw new Error(`${deaths} raw workers died, expected ${expected}`);
    }
  };
  await pool.ready();
  // Warmed for seconds, not passes (see bench/_warm_runners.ts).
  const start = performance.now();
  do {
    await viaPool(0);
    await viaRaw(0);
  } while (performance.now() - start < WARM_MS);
  const calls = `${CALLS} calls of ${WORK_MS} ms`;
  return {
    group: "2% crash rate",
    contenders: [
      { name: `${calls}, no crash`, run: () => viaPool(0) },
      { name: `${calls}, 2% crash their worker`, run: () => viaPool(RATE) },
      { name: `raw Workers, ${calls}, no crash`, run: () => viaRaw(0) },
      { name: `raw Workers, ${calls}, 2% crash`, run: () => viaRaw(RATE) },
    ],
    close() {
      pool.terminate();
      raw.close();
    },
  };
}
