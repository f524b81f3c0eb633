// Copyright the @seed/concurrency authors. MIT license.
// The notebook's last cell (In [12]), done properly: how long does the work
// take for pool sizes 1, 2, 4 and 8? Size 1 is the baseline of each group.
//
//   deno bench -A bench/pool_size_bench.ts
//
// (a) The notebook's own work: create a pool, map squares over 1..10, close,
//     timed together as the notebook does. Tiny work: the time is worker
//     start-up, and the pool starts only the workers the work needs. Beside
//     it, for the same sizes, what the peers pay for the same cell: `size`
//     raw Workers started at once (as a hand-written pool would), the ten
//     numbers sent round-robin, terminated; and piscina with `maxThreads:
//     size` and its other defaults (it starts half the cores' threads at
//     once, at most `size`, and more on demand), ten run() calls, destroy().
// (b) CPU-bound: 16 tasks of about 50 ms of real computation on a warm pool,
//     where more workers help, up to the number of cores.
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { RawPool } from "./_raw_pool.ts";
import { calibrateSpin } from "./_tasks.ts";

const SIZES = [1, 2, 4, 8];
const NUMBERS = Array.from({ length: 10 }, (_, i) => i + 1);
const TASKS = new URL("./_tasks.ts", import.meta.url);
const PISCINA_TASK = new URL("./_piscina_task.mjs", import.meta.url).href;

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

for (const size of SIZES) {
  Deno.bench({
    name: `raw Workers(${size}) + 10 messages + terminate`,
    group: "notebook cell In [12]",
    async fn() {
      const raw = new RawPool(size);
      const results = await Promise.all(NUMBERS.map((n) => raw.call(n)));
      raw.close();
      if (results[9] !== 100) throw new Error("Wrong result");
    },
  });
  Deno.bench({
    name: `Piscina(maxThreads ${size}) + 10 x run + destroy`,
    group: "notebook cell In [12]",
    async fn() {
      const piscina = new Piscina({ filename: PISCINA_TASK, maxThreads: size });
      const results = await Promise.all(NUMBERS.map((n) => piscina.run(n)));
      await piscina.destroy();
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
