// Copyright the @seed/concurrency authors. MIT license.
// The notebook's last cell (In [12]), done properly: how long does the work
// take for pool sizes 1, 2, 4 and 8? Size 1 is the baseline of each group.
//
//   deno bench -A bench/pool_size_bench.ts
//
// (a) The notebook's own work: create a pool, map squares over 1..10, close,
//     timed together as the notebook does. Tiny work: the time is worker
//     start-up, and the pool starts only the workers the work needs.
// (b) CPU-bound: 16 tasks of about 50 ms of real computation on a warm pool,
//     where more workers help, up to the number of cores.
import { WorkerPool } from "../pool.ts";
import { calibrateSpin } from "./_tasks.ts";

const SIZES = [1, 2, 4, 8];
const NUMBERS = Array.from({ length: 10 }, (_, i) => i + 1);
const TASKS = new URL("./_tasks.ts", import.meta.url);

for (const size of SIZES) {
  Deno.bench({
    name: `notebook cell: Pool(${size}) + map(square, 1..10) + close`,
    group: "notebook cell In [12]",
    baseline: size === 1,
    async fn() {
      await using pool = new WorkerPool({ size });
      const results = await pool.map((n: number) => n * n, NUMBERS);
      if (results[9] !== 100) throw new Error("Wrong result");
    },
  });
}

const ITERATIONS = calibrateSpin(50);

for (const size of SIZES) {
  const pool = new WorkerPool<typeof import("./_tasks.ts")>(TASKS, {
    size,
    idleTimeoutMs: 5_000,
  });
  // Start every worker outside the timing.
  await Promise.all(
    Array.from({ length: size }, (_, i) => pool.run("spin", [i, ITERATIONS])),
  );
  globalThis.addEventListener("unload", () => pool.terminate());
  Deno.bench({
    name: `CPU-bound 16 x 50 ms at size ${size}`,
    group: "CPU-bound 16 x 50 ms",
    baseline: size === 1,
    n: 3,
    warmup: 1,
    async fn() {
      await Promise.all(
        Array.from({ length: 16 }, (_, i) => pool.run("spin", [i, ITERATIONS])),
      );
    },
  });
}
