// Copyright the @seed/concurrency authors. MIT license.
// What a worker crash costs: the same tasks with and without crashes among
// them, beside the cost of starting one worker, in the same run. A crash
// should cost about one worker start (the worker is replaced; the tasks it
// held but had not started run elsewhere meanwhile).
//
//   deno bench -A --unstable-worker-options bench/crash_bench.ts
//
// Read (with crashes - without) / CRASHES against "start one worker".
//
// The second group is the throughput target: 1,000 calls of about 2 ms of
// CPU each, with and without 2% of them crashing their worker, beside raw
// Workers that replace their dead (bench/_crash_workload.ts). It runs
// interleaved in bench/interleaved.ts too, whose ratios the machine's drift
// cannot bias (see bench/_interleave.ts).
import { WorkerPool } from "../pool.ts";
import { crashWorkload } from "./_crash_workload.ts";
import { benchWorkload } from "./_interleave.ts";

const SIZE = 2;
const TASKS = 400;
const CRASHES = 8;

/** Returns its argument; a negative one kills its worker (an uncaught error). */
function step(x: number): number | Promise<never> {
  if (x >= 0) return x;
  setTimeout(() => {
    throw new Error("crash");
  });
  return new Promise<never>(() => {});
}

async function runAll(pool: WorkerPool, crashes: number): Promise<void> {
  const every = Math.floor(TASKS / Math.max(1, crashes));
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < TASKS; i++) {
    const crash = crashes > 0 && i % every === every - 1;
    calls.push(pool.run(step, [crash ? -1 : i]).catch(() => {}));
  }
  await Promise.all(calls);
}

const warm = new WorkerPool({ size: SIZE, idleTimeoutMs: Infinity });
await runAll(warm, 0);
globalThis.addEventListener("unload", () => warm.terminate());

Deno.bench({
  name: `${TASKS} tasks, no crash`,
  group: "crash recovery",
  baseline: true,
  async fn() {
    await runAll(warm, 0);
  },
});

Deno.bench({
  name: `${TASKS} tasks, ${CRASHES} of them crash their worker`,
  group: "crash recovery",
  async fn() {
    await runAll(warm, CRASHES);
  },
});

Deno.bench({
  name: "start one worker and run one task (for comparison)",
  group: "crash recovery",
  async fn() {
    const pool = new WorkerPool({ size: 1 });
    await pool.run(step, [1]);
    await pool.terminate();
  },
});

benchWorkload(await crashWorkload());
