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
// shows what more workers do buy. Each workload runs with worker threads (the
// pool's default) and with worker processes (`isolation: "process"`, the
// faithful translation of `multiprocessing.Pool`); processes get fewer runs,
// as each of them takes about 100 ms to start. The four series go into one
// chart, threads and processes side by side: .tmp/pool_sizes.svg (git-ignored)
// by default, so that `deno task demo` leaves the checkout clean, or the
// README's docs/pool_sizes.svg when asked with `--update-docs` (`deno task
// chart`) or SEED_UPDATE_DOCS=1 (`SEED_UPDATE_DOCS=1 deno task demo`).
import assert from "node:assert/strict";
import { WorkerPool } from "../mod.ts";
import { type ChartRow, writePoolSizesChart } from "./_chart.ts";
import { chartUrl, DOCS_CHART, UPDATE_DOCS_ENV } from "./_chart_path.ts";

const SIZES = [1, 2, 4, 8];
const ISOLATIONS = ["thread", "process"] as const;
type Isolation = (typeof ISOLATIONS)[number];
const PLURAL = { thread: "threads", process: "processes" } as const;
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

/** Runs per pool size: fewer with processes, each run starting a child. */
const TINY_RUNS = { thread: 7, process: 3 } as const;
const numbers = Array.from({ length: 10 }, (_, i) => i + 1);

/** One notebook measurement, split into its parts (in milliseconds). */
async function measureTiny(size: number, isolation: Isolation) {
  const start = performance.now();
  const pool = new WorkerPool({ size, isolation });
  const created = performance.now();
  const results = await pool.map((n: number) => n * n, numbers);
  const mapped = performance.now();
  const workers = pool.stats.workers;
  await pool.close();
  const end = performance.now();
  assert.deepEqual(results, numbers.map((n) => n * n));
  assert.ok(workers >= 1 && workers <= size);
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
  `Each time is the median of ${TINY_RUNS.thread} runs with threads and ` +
    `${TINY_RUNS.process} with processes, after a warm-up run of each, the ` +
    `pool sizes taking turns (pool creation + map + close, as in the notebook).`,
);
for (const isolation of ISOLATIONS) await measureTiny(1, isolation);
type TinyRun = Awaited<ReturnType<typeof measureTiny>>;
const tinyRuns = {
  thread: SIZES.map((): TinyRun[] => []),
  process: SIZES.map((): TinyRun[] => []),
};
for (let run = 0; run < Math.max(...Object.values(TINY_RUNS)); run++) {
  for (const [i, size] of SIZES.entries()) {
    for (const isolation of ISOLATIONS) {
      if (run >= TINY_RUNS[isolation]) continue;
      tinyRuns[isolation][i]?.push(await measureTiny(size, isolation));
    }
  }
}
const tinyMs: Record<Isolation, number[]> = { thread: [], process: [] };
for (const isolation of ISOLATIONS) {
  console.log(`${isolation === "thread" ? "Threads" : "Processes"}:`);
  const baselineMs = median(
    tinyRuns[isolation][0]?.map((run) => run.totalMs) ?? [],
  );
  for (const [i, size] of SIZES.entries()) {
    const runs = tinyRuns[isolation][i] ?? [];
    const of = (part: (run: TinyRun) => number) => median(runs.map(part));
    const timeMs = of((run) => run.totalMs);
    tinyMs[isolation].push(timeMs);
    rows.push({
      workload: "notebook: 10 squares, new pool + map + close",
      isolation,
      size,
      timeMs,
      speedup: baselineMs / timeMs,
    });
    const seconds = (timeMs / 1000).toFixed(4);
    console.log(
      `Pool size: ${size}, Time taken: ${seconds} seconds, ` +
        `Results: [${runs[0]?.results.join(", ")}]`,
    );
    console.log(
      `  medians: new WorkerPool ${ms(of((run) => run.createMs))}, ` +
        `map ${ms(of((run) => run.mapMs))} (the pool started ` +
        `${of((run) => run.workers)} of its ${size} workers), ` +
        `close ${ms(of((run) => run.closeMs))}`,
    );
  }
}

// ---- 2. CPU-bound: 16 tasks of ~50 ms of arithmetic on a warm pool ----------

const TASKS = 16;
const TASK_MS = 50;
/** Runs per pool size: fewer with processes, to keep the demo short. */
const CPU_RUNS = { thread: 5, process: 3 } as const;

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
    `of ${CPU_RUNS.thread} runs with threads and ${CPU_RUNS.process} with ` +
    `processes of map over a warm pool (every worker started and the loop ` +
    `compiled beforehand), the sizes and isolations taking turns run by run ` +
    `so that other load on the machine hits them alike.`,
);

// One warm pool per size and isolation, all kept open: idle workers cost no
// CPU. Process pools start all their workers up front (`minSize`), as
// Python's `Pool(n)` does, one pool at a time, and the time that takes is
// printed.
const pools: Record<Isolation, WorkerPool[]> = {
  thread: SIZES.map((size) =>
    new WorkerPool({ size, idleTimeoutMs: Infinity })
  ),
  process: [],
};
const cpuRuns = {
  thread: SIZES.map((): number[] => []),
  process: SIZES.map((): number[] => []),
};
const startMs: number[] = [];
try {
  for (const [i, pool] of pools.thread.entries()) {
    await warmUp(pool, SIZES[i] as number, Math.round(k / 10));
  }
  for (const size of SIZES) {
    const start = performance.now();
    const pool = new WorkerPool({
      size,
      minSize: size,
      idleTimeoutMs: Infinity,
      isolation: "process",
    });
    pools.process.push(pool);
    await pool.ready();
    startMs.push(performance.now() - start);
    assert.equal(pool.stats.workers, size);
    // Compiles the loop in (most likely) every worker; not timed.
    await pool.map(spin, Array(2 * size).fill(Math.round(k / 10)), {
      chunkSize: 1,
    });
  }
  const ks = Array.from({ length: TASKS }, () => k);
  for (let run = 0; run < Math.max(...Object.values(CPU_RUNS)); run++) {
    for (const i of SIZES.keys()) {
      for (const isolation of ISOLATIONS) {
        if (run >= CPU_RUNS[isolation]) continue;
        const pool = pools[isolation][i] as WorkerPool;
        const start = performance.now();
        const results = await pool.map(spin, ks, { chunkSize: 1 });
        cpuRuns[isolation][i]?.push(performance.now() - start);
        assert.equal(results.length, TASKS);
        assert.equal(new Set(results).size, 1);
      }
    }
  }
} finally {
  await Promise.all(
    [...pools.thread, ...pools.process].map((pool) => pool.close()),
  );
}

console.log(
  `Starting all the worker processes up front, as Python's Pool(n) does, ` +
    `took ${
      SIZES.map((size, i) => `${ms(startMs[i] ?? NaN)} for ${size}`).join(", ")
    } (${CORES} cores).`,
);
const cpuSpeedups: Record<Isolation, number[]> = { thread: [], process: [] };
for (const isolation of ISOLATIONS) {
  const baselineMs = median(cpuRuns[isolation][0] ?? []);
  for (const [i, size] of SIZES.entries()) {
    const timeMs = median(cpuRuns[isolation][i] ?? []);
    const speedup = baselineMs / timeMs;
    cpuSpeedups[isolation].push(speedup);
    rows.push({
      workload: `CPU-bound: ${TASKS} × ${TASK_MS} ms, warm pool, map`,
      isolation,
      size,
      timeMs,
      speedup,
    });
    console.log(
      `CPU-bound ${TASKS} x ${TASK_MS} ms, ${PLURAL[isolation]}, ` +
        `pool size: ${size}, Time taken: ${(timeMs / 1000).toFixed(4)} ` +
        `seconds, speedup: ${speedup.toFixed(2)} x`,
    );
  }
}

// ---- 3. The chart -----------------------------------------------------------

await Deno.mkdir(new URL(".", CHART), { recursive: true });
await writePoolSizesChart(CHART, rows, CORES, [
  `${CORES} CPU cores (navigator.hardwareConcurrency), Deno ${Deno.version.deno}`,
  'Solid: worker threads; dashed: worker processes (isolation: "process")',
  "Notebook: new WorkerPool + map(square, 1..10) + close, timed together",
  `CPU-bound: map of ${TASKS} tasks of ${TASK_MS} ms each, pool started beforehand`,
  `Each point: median of ${TINY_RUNS.thread} (threads) or ` +
  `${TINY_RUNS.process} (processes) runs of the notebook, ` +
  `${CPU_RUNS.thread} or ${CPU_RUNS.process} of the CPU-bound map`,
]);
console.log(
  `\nChart written to ${CHART.pathname}` +
    (CHART.href === DOCS_CHART.href
      ? ""
      : ` (the README's ${DOCS_CHART.pathname} is left as it was: ` +
        `\`deno task chart\` rewrites it)`),
);

const expected = Math.min(CORES, SIZES.at(-1) ?? 1);
const best = Math.min(
  ...ISOLATIONS.map((isolation) => Math.max(...cpuSpeedups[isolation])),
);
const reached = ISOLATIONS.map((isolation) =>
  `${Math.max(...cpuSpeedups[isolation]).toFixed(2)} x with ${
    PLURAL[isolation]
  }`
).join(" and ");
console.log(
  `On this ${CORES}-core machine the CPU-bound speedup ` +
    (best >= 0.8 * expected
      ? `flattens at about ${expected} x from pool size ${expected} on ` +
        `(${reached})`
      : `should flatten at about ${expected} x from pool size ${expected} ` +
        `on, but reached only ${reached} as other processes were using ` +
        `the cores (load average ${Deno.loadavg()[0]?.toFixed(2)})`) +
    `: more workers than cores only take turns. For ten squares, starting ` +
    `a worker is nearly all of the time (the pool starts just one, whatever ` +
    `its size), so no size helps: about ${
      ms(median(tinyMs.thread))
    } with a thread, ${ms(median(tinyMs.process))} with a process.`,
);
