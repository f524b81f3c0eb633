// Notebook cell In [12]: how long a pool takes for each pool size. The cell
// never ran (a stray `|` after `for size in pool_sizes:`); this is what it
// meant to do, measured so that the numbers can be trusted:
//
//   def measure_time(pool_size):
//       start_time = time.time()
//       with multiprocessing.Pool(processes=pool_size) as pool:
//           results = pool.map(square, numbers)
//       end_time = time.time()
//       return results, end_time - start_time
//
//   for size in [2, 4, 8]:
//       results, duration = measure_time(size)
//       print(f"Pool size: {size}, Time taken: {duration:.4f} seconds, Results: {results}")
//
// Squaring ten numbers is far too little work to gain from workers, so a
// second, CPU-bound workload (16 tasks of about 50 ms of arithmetic each)
// shows what more workers do buy. Both go into a chart: .tmp/pool_sizes.svg
// (git-ignored) by default, so that `deno task demo` leaves the checkout
// clean, or the README's docs/pool_sizes.svg when asked with `--update-docs`
// (`deno task chart`) or SEED_UPDATE_DOCS=1 (`SEED_UPDATE_DOCS=1 deno task
// demo`).
import { WorkerPool } from "../mod.ts";
import { type ChartRow, writePoolSizesChart } from "./_chart.ts";
import { chartUrl, DOCS_CHART, UPDATE_DOCS_ENV } from "./_chart_path.ts";

const SIZES = [1, 2, 4, 8];
const CORES = navigator.hardwareConcurrency;
// Checked before measuring, so that a mistyped flag fails at once.
const CHART = chartUrl(Deno.args, Deno.env.get(UPDATE_DOCS_ENV));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const rows: ChartRow[] = [];

// ---- 1. The notebook's cell: new pool + map(square, 1..10) + close ----------

const TINY_RUNS = 7;
const numbers = Array.from({ length: 10 }, (_, i) => i + 1);

/** One notebook measurement, split into its parts (in milliseconds). */
async function measureTiny(size: number) {
  const start = performance.now();
  const pool = new WorkerPool({ size });
  const created = performance.now();
  const results = await pool.map((n: number) => n * n, numbers);
  const mapped = performance.now();
  const workers = pool.stats.workers;
  await pool.close();
  const end = performance.now();
  return {
    results,
    workers,
    totalMs: end - start,
    createMs: created - start,
    mapMs: mapped - created,
    closeMs: end - mapped,
  };
}

console.log(
  `Each time is the median of ${TINY_RUNS} runs after a warm-up run, the ` +
    `pool sizes taking turns (pool creation + map + close, as in the notebook).`,
);
for (const size of SIZES) await measureTiny(size);
const tinyRuns = SIZES.map((): Awaited<ReturnType<typeof measureTiny>>[] => []);
for (let run = 0; run < TINY_RUNS; run++) {
  for (const [i, size] of SIZES.entries()) {
    tinyRuns[i]?.push(await measureTiny(size));
  }
}
const tinyBaselineMs = median(tinyRuns[0]?.map((run) => run.totalMs) ?? []);
for (const [i, size] of SIZES.entries()) {
  const runs = tinyRuns[i] ?? [];
  const of = (part: (run: (typeof runs)[number]) => number) =>
    median(runs.map(part));
  const timeMs = of((run) => run.totalMs);
  rows.push({
    workload: "notebook: 10 squares, new pool + map + close",
    size,
    timeMs,
    speedup: tinyBaselineMs / timeMs,
  });
  console.log(
    `Pool size: ${size}, Time taken: ${(timeMs / 1000).toFixed(4)} seconds, ` +
      `Results: [${runs[0]?.results.join(", ")}]`,
  );
  console.log(
    `  medians: new WorkerPool ${ms(of((run) => run.createMs))}, ` +
      `map ${ms(of((run) => run.mapMs))} (the pool started ` +
      `${of((run) => run.workers)} of its ${size} workers), ` +
      `close ${ms(of((run) => run.closeMs))}`,
  );
}

// ---- 2. CPU-bound: 16 tasks of ~50 ms of arithmetic on a warm pool ----------

const TASKS = 16;
const TASK_MS = 50;
const CPU_RUNS = 5;

/**
 * `k` rounds of xorshift: a fixed amount of arithmetic, so a task costs the
 * same CPU time whatever else runs (a wall-clock spin would not: it ends on
 * time even when its thread shares a core). Self-contained, so it can be sent
 * to a worker as source.
 *
 * With `arrivals`, it is a warm-up task: after its arithmetic (which compiles
 * the loop in that worker) it holds its worker until `size` warm-up tasks
 * have arrived, so each one needs a worker of its own.
 */
function spin(k: number, arrivals?: Int32Array, size?: number): number {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < k; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  if (arrivals !== undefined && size !== undefined) {
    Atomics.add(arrivals, 0, 1);
    Atomics.notify(arrivals, 0);
    const deadline = Date.now() + 5_000;
    for (let seen; (seen = Atomics.load(arrivals, 0)) < size;) {
      if (Date.now() > deadline) break;
      Atomics.wait(arrivals, 0, seen, 100);
    }
  }
  return x;
}

/** Waits, without blocking the event loop, until `cell[0]` exceeds `value`. */
async function until(cell: Int32Array, value: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (let seen; (seen = Atomics.load(cell, 0)) <= value;) {
    if (performance.now() > deadline) return false;
    const result = Atomics.waitAsync(cell, 0, seen, 20);
    // A pending waitAsync does not keep the event loop alive; a timer does.
    const keepAlive = setTimeout(() => {}, 1_000);
    await result.value;
    clearTimeout(keepAlive);
  }
  return true;
}

/**
 * Starts every worker of a pool and compiles `spin` in each: one warm-up
 * task per worker. Each task is sent once the one before it holds its
 * worker, so the pool must start a new worker for it. (Sent all at once, some
 * would wait behind a held task on one worker while others sat idle: the
 * pool does not move a task off a worker that is blocked in another.)
 */
async function warmUp(pool: WorkerPool, size: number, k: number) {
  const arrivals = new Int32Array(new SharedArrayBuffer(4));
  const tasks = [];
  for (let i = 0; i < size; i++) {
    tasks.push(pool.run(spin, [k, arrivals, size]));
    if (i < size - 1 && !await until(arrivals, i, 2_000)) break;
  }
  await Promise.all(tasks);
  if (pool.stats.workers !== size) {
    throw new Error(
      `Cannot time a warm pool as ${pool.stats.workers} of its ${size} workers started`,
    );
  }
}

// Calibrate on the main thread: find k such that spin(k) takes TASK_MS.
let k = 1_000_000;
for (let i = 0; i < 3; i++) spin(k);
for (let i = 0; i < 3; i++) {
  const samples = [];
  for (let j = 0; j < 3; j++) {
    const start = performance.now();
    spin(k);
    samples.push(performance.now() - start);
  }
  k = Math.round(k * TASK_MS / median(samples));
}
console.log(
  `\nCPU-bound tasks: ${k.toLocaleString("en")} xorshift rounds each, ` +
    `calibrated to ${TASK_MS} ms on the main thread. Each time is the median ` +
    `of ${CPU_RUNS} runs of map over a warm pool (every worker started and ` +
    `the loop compiled beforehand), the sizes taking turns run by run so ` +
    `that other load on the machine hits them alike.`,
);

// One warm pool per size, all kept open: idle workers cost no CPU.
const pools = SIZES.map((size) =>
  new WorkerPool({ size, idleTimeoutMs: Infinity })
);
const cpuRuns = SIZES.map((): number[] => []);
try {
  for (const [i, pool] of pools.entries()) {
    await warmUp(pool, SIZES[i] as number, Math.round(k / 10));
  }
  const ks = Array.from({ length: TASKS }, () => k);
  for (let run = 0; run < CPU_RUNS; run++) {
    for (const [i, pool] of pools.entries()) {
      const start = performance.now();
      await pool.map(spin, ks, { chunkSize: 1 });
      (cpuRuns[i] as number[]).push(performance.now() - start);
    }
  }
} finally {
  await Promise.all(pools.map((pool) => pool.close()));
}

const cpuBaselineMs = median(cpuRuns[0] as number[]);
const cpuSpeedups: number[] = [];
for (const [i, size] of SIZES.entries()) {
  const timeMs = median(cpuRuns[i] as number[]);
  const speedup = cpuBaselineMs / timeMs;
  cpuSpeedups.push(speedup);
  rows.push({
    workload: `CPU-bound: ${TASKS} × ${TASK_MS} ms, warm pool, map`,
    size,
    timeMs,
    speedup,
  });
  console.log(
    `CPU-bound ${TASKS} x ${TASK_MS} ms, pool size: ${size}, ` +
      `Time taken: ${(timeMs / 1000).toFixed(4)} seconds, ` +
      `speedup: ${speedup.toFixed(2)} x`,
  );
}

// ---- 3. The chart -----------------------------------------------------------

await Deno.mkdir(new URL(".", CHART), { recursive: true });
await writePoolSizesChart(CHART, rows, CORES, [
  `${CORES} CPU cores (navigator.hardwareConcurrency), Deno ${Deno.version.deno}`,
  "Notebook: new WorkerPool + map(square, 1..10) + close, timed together",
  `CPU-bound: map of ${TASKS} tasks of ${TASK_MS} ms each, pool started beforehand`,
  `Each point: median of ${TINY_RUNS} (notebook) or ${CPU_RUNS} (CPU-bound) runs`,
]);
console.log(
  `\nChart written to ${CHART.pathname}` +
    (CHART.href === DOCS_CHART.href
      ? ""
      : ` (the README's ${DOCS_CHART.pathname} is left as it was: ` +
        `\`deno task chart\` rewrites it)`),
);

const expected = Math.min(CORES, SIZES.at(-1) ?? 1);
const best = Math.max(...cpuSpeedups);
console.log(
  `On this ${CORES}-core machine the CPU-bound speedup ` +
    (best >= 0.8 * expected
      ? `flattens at about ${expected} x from pool size ${expected} on`
      : `should flatten at about ${expected} x from pool size ${expected} ` +
        `on, but reached only ${best.toFixed(2)} x as other processes were ` +
        `using the cores (load average ${Deno.loadavg()[0]?.toFixed(2)})`) +
    `: more workers than cores only take turns. For ten squares, starting ` +
    `a worker is nearly all of the time (the pool starts just one, whatever ` +
    `its size), so no size helps.`,
);
