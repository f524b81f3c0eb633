// Copyright the @seed/concurrency authors. MIT license.
// Process workers (`isolation: "process"`) beside thread workers and Python's
// `multiprocessing.Pool`, measured in the same run (issue 10). A `deno run`
// script, not a bench file, because it starts Python:
//
//   deno run -A --unstable-worker-options bench/process_bench.ts
//   deno run -A --unstable-worker-options bench/process_bench.ts --rounds=1
//   deno run -A --unstable-worker-options bench/process_bench.ts --stats
//
// Python is `python3` on the PATH (or `$PYTHON`), running
// bench/_python_pool.py once per round; it times its work inside the
// interpreter and prints JSON, so the interpreter's start is never counted.
//
// 1. 100,000 tiny tasks submitted at once, size 2: `run("inc", [i])` for
//    every i, all awaited; Python `apply_async(inc, (i,))` then `.get()`.
// 2. `map` over 1,000,000 numbers, size 2: `map("double", numbers)` with
//    default chunks; Python `Pool.map(double, data)` with its default
//    chunksize.
// 3. The notebook cell, cold, size 8: create a pool + map(square, 1..10) +
//    close (our `close()` and Python's `close()` + `join()` both wait for
//    the workers to end). Python with `get_context("spawn")` (the target)
//    and `get_context("fork")` beside it.
// 4. A cancelled task spinning in a synchronous loop: a process pool of
//    size 1 with `abortGraceMs` 200 runs a task that never returns; once
//    its worker burns CPU, the call's signal aborts, and the worker's pid
//    (a child of this process, found in /proc) is polled every millisecond
//    until it is a zombie (its core is free) and until it is gone (reaped).
// 5. 16 CPU-bound tasks of about 50 ms (fixed arithmetic, calibrated on
//    this thread), size 2: process against thread.
//
// Workloads 1, 2 and 5 run on warm pools (`minSize` + `ready()` and one
// pass of warm-up, outside the timing), as Python's Pool starts every
// process up front and gets a warm-up apply. Each workload interleaves its
// contenders in rounds, in a rotating order, so machine noise falls on all
// of them alike; the table gives the median of the rounds and its ratio to
// the workload's baseline. Progress goes to stderr, the tables to stdout.

import { WorkerPool } from "../pool.ts";
import { calibrateSpin } from "./_tasks.ts";

type Tasks = typeof import("./_process_tasks.ts");
type Isolation = "thread" | "process";

const TASKS = new URL("./_process_tasks.ts", import.meta.url);
const PYTHON_SCRIPT = new URL("./_python_pool.py", import.meta.url).pathname;
const PYTHON = Deno.env.get("PYTHON") ?? "python3";
const SIZE = 2;
const TINY = 100_000;
const MAP_ITEMS = 1_000_000;
const CELL_SIZE = 8;
const CELL_NUMBERS = Array.from({ length: 10 }, (_, i) => i + 1);
const GRACE_MS = 200;
const CPU_TASKS = 16;
const CPU_MS = 50;

const roundsArg = Deno.args.find((arg) => arg.startsWith("--rounds="));
const roundsOverride = roundsArg === undefined
  ? undefined
  : Number(roundsArg.slice("--rounds=".length));
/** Rounds per workload (a round of tiny tasks takes Python about 8 s). */
const ROUNDS = {
  tiny: roundsOverride ?? 5,
  map: roundsOverride ?? 5,
  cell: roundsOverride ?? 7,
  abort: roundsOverride ?? 5,
  cpu: roundsOverride ?? 5,
};

// ---- helpers ------------------------------------------------------------------

function log(text: string): void {
  console.error(text);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** How `ms` compares with `baselineMs` (both times: lower is faster). */
function versus(ms: number, baselineMs: number): string {
  return ms <= baselineMs
    ? `${(baselineMs / ms).toFixed(2)}x faster`
    : `${(ms / baselineMs).toFixed(2)}x slower`;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs bench/_python_pool.py and returns the milliseconds it reports. */
async function python(
  workload: string,
  arg: string | number,
  size: number,
): Promise<number> {
  const output = await new Deno.Command(PYTHON, {
    args: [PYTHON_SCRIPT, workload, String(arg), String(size)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) {
    throw new Error(
      `Cannot run ${PYTHON} ${PYTHON_SCRIPT} ${workload}: exit code ${output.code}`,
    );
  }
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  return report.ms as number;
}

interface Contender {
  name: string;
  /** One timed run, in ms. */
  run: () => Promise<number>;
}

/** Each contender once a round, in an order rotated every round. */
async function interleave(
  label: string,
  rounds: number,
  contenders: readonly Contender[],
): Promise<Map<string, number[]>> {
  const times = new Map(contenders.map((c) => [c.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length]!;
      const ms = await contender.run();
      times.get(contender.name)!.push(ms);
      log(
        `${label} round ${round + 1}/${rounds}: ${contender.name} ${
          formatMs(ms)
        }`,
      );
    }
  }
  return times;
}

/** The state letter and parent of each process, from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, ppid: Number(fields[1]) };
}

/** The CPU time (user + system) process `pid` has used, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the comm.
  return Number(fields[11]) + Number(fields[12]);
}

/** The live (non-zombie) child processes of this process. */
function childPids(): Set<number> {
  const pids = new Set<number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const stat = procStat(pid);
    if (stat?.ppid === Deno.pid && stat.state !== "Z") pids.add(pid);
  }
  return pids;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function warmPool(isolation: Isolation): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(TASKS, {
    isolation,
    size: SIZE,
    minSize: SIZE,
    idleTimeoutMs: Infinity,
  });
}

async function tinyTasks(pool: WorkerPool<Tasks>): Promise<void> {
  const calls = new Array<Promise<number>>(TINY);
  for (let i = 0; i < TINY; i++) calls[i] = pool.run("inc", [i]);
  const results = await Promise.all(calls);
  if (results[TINY - 1] !== TINY) throw new Error("Wrong tiny result");
}

async function mapNumbers(
  pool: WorkerPool<Tasks>,
  numbers: number[],
): Promise<void> {
  const results = await pool.map("double", numbers);
  if (results[MAP_ITEMS - 1] !== (MAP_ITEMS - 1) * 2) {
    throw new Error("Wrong map result");
  }
}

async function cpuBound(
  pool: WorkerPool<Tasks>,
  iterations: number,
): Promise<void> {
  await Promise.all(
    Array.from(
      { length: CPU_TASKS },
      (_, i) => pool.run("spin", [i, iterations]),
    ),
  );
}

async function notebookCell(
  isolation: Isolation,
  inline: boolean,
): Promise<void> {
  let results: number[];
  if (inline) {
    const pool = new WorkerPool({ isolation, size: CELL_SIZE });
    results = await pool.map((n: number) => n * n, CELL_NUMBERS);
    await pool.close();
  } else {
    const pool = new WorkerPool<Tasks>(TASKS, { isolation, size: CELL_SIZE });
    results = await pool.map("square", CELL_NUMBERS);
    await pool.close();
  }
  if (results[9] !== 100) throw new Error("Wrong cell result");
}

interface AbortTimes {
  /** From abort() to the rejection of the call. */
  rejectMs: number;
  /** From abort() to the worker being a zombie or gone: its core is free. */
  freeMs: number;
  /** From abort() to the worker's pid being gone (reaped). */
  goneMs: number;
}

/** One cancelled spinning task on a fresh process pool of size 1. */
async function cancelSpin(): Promise<AbortTimes> {
  const before = childPids();
  const pool = new WorkerPool<Tasks>(TASKS, {
    isolation: "process",
    size: 1,
    minSize: 1,
    abortGraceMs: GRACE_MS,
  });
  try {
    await pool.ready();
    const fresh = [...childPids()].filter((pid) => !before.has(pid));
    if (fresh.length !== 1) {
      throw new Error(
        `Expected one new child process, found ${fresh.length}: ${fresh}`,
      );
    }
    const pid = fresh[0]!;
    const controller = new AbortController();
    const call = pool.run("spinForever", [], { signal: controller.signal });
    let rejectedAt = NaN;
    call.then(
      () => {
        throw new Error("spinForever returned");
      },
      () => {
        rejectedAt = performance.now();
      },
    );
    // Abort once the worker has burnt 50 ms of CPU (5 ticks): it is in the
    // loop by then.
    const ticks = cpuTicks(pid);
    const waitStart = performance.now();
    while (cpuTicks(pid) < ticks + 5) {
      if (performance.now() - waitStart > 10_000) {
        throw new Error("The spinning task never started");
      }
      await tick();
    }
    const abortedAt = performance.now();
    controller.abort();
    let freeAt = NaN;
    while (true) {
      const stat = procStat(pid);
      const now = performance.now();
      if (stat === undefined || stat.state === "Z") {
        if (Number.isNaN(freeAt)) freeAt = now;
      }
      if (stat === undefined) {
        return {
          rejectMs: rejectedAt - abortedAt,
          freeMs: freeAt - abortedAt,
          goneMs: now - abortedAt,
        };
      }
      if (now - abortedAt > 10_000) {
        throw new Error(`Worker ${pid} still runs 10 s after the abort`);
      }
      await tick();
    }
  } finally {
    await pool.close();
  }
}

/** Runs every workload and prints the tables. */
async function main(): Promise<void> {
  // ---- setup --------------------------------------------------------------------

  const machine = (() => {
    try {
      const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
      return cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
    } catch {
      return "unknown CPU";
    }
  })();
  const loadAverage = () => Deno.loadavg()[0]!.toFixed(1);
  const loadAtStart = loadAverage();
  const pythonVersion = new TextDecoder().decode(
    (await new Deno.Command(PYTHON, { args: ["--version"], stdout: "piped" })
      .output()).stdout,
  ).trim();

  log("starting warm pools");
  const pools = { process: warmPool("process"), thread: warmPool("thread") };
  await Promise.all([pools.process.ready(), pools.thread.ready()]);
  const numbers = Array.from({ length: MAP_ITEMS }, (_, i) => i);
  for (const pool of [pools.process, pools.thread]) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => pool.run("inc", [i])),
    );
    await pool.map("double", numbers.slice(0, 100_000));
  }
  const iterations = calibrateSpin(CPU_MS);

  // ---- 1. tiny tasks --------------------------------------------------------------

  const tiny = await interleave("tiny", ROUNDS.tiny, [
    { name: "process", run: () => timed(() => tinyTasks(pools.process)) },
    { name: "thread", run: () => timed(() => tinyTasks(pools.thread)) },
    { name: "python", run: () => python("tiny", TINY, SIZE) },
  ]);

  // ---- 2. map over 1M numbers ------------------------------------------------------

  const mapped = await interleave("map", ROUNDS.map, [
    {
      name: "process",
      run: () => timed(() => mapNumbers(pools.process, numbers)),
    },
    {
      name: "thread",
      run: () => timed(() => mapNumbers(pools.thread, numbers)),
    },
    { name: "python", run: () => python("map", MAP_ITEMS, SIZE) },
  ]);

  // ---- 5. CPU-bound (before the cell, while the warm pools are up) -----------------

  const cpu = await interleave("cpu", ROUNDS.cpu, [
    {
      name: "process",
      run: () => timed(() => cpuBound(pools.process, iterations)),
    },
    {
      name: "thread",
      run: () => timed(() => cpuBound(pools.thread, iterations)),
    },
  ]);

  const warmStats = {
    process: pools.process.stats,
    thread: pools.thread.stats,
  };
  await Promise.all([pools.process.close(), pools.thread.close()]);

  // ---- 3. notebook cell -------------------------------------------------------------

  // One untimed cell each first: Deno compiles the child's modules once.
  await notebookCell("process", false);
  await notebookCell("process", true);
  await notebookCell("thread", false);
  const cell = await interleave("cell", ROUNDS.cell, [
    { name: "process", run: () => timed(() => notebookCell("process", false)) },
    {
      name: "process inline",
      run: () => timed(() => notebookCell("process", true)),
    },
    { name: "thread", run: () => timed(() => notebookCell("thread", false)) },
    { name: "python spawn", run: () => python("cell", "spawn", CELL_SIZE) },
    { name: "python fork", run: () => python("cell", "fork", CELL_SIZE) },
  ]);

  // ---- 4. cancelled spinning task ----------------------------------------------------

  const aborts: AbortTimes[] = [];
  for (let round = 0; round < ROUNDS.abort; round++) {
    const times = await cancelSpin();
    aborts.push(times);
    log(
      `abort round ${round + 1}/${ROUNDS.abort}: rejected ${
        formatMs(times.rejectMs)
      }, core free ${formatMs(times.freeMs)}, pid gone ${
        formatMs(times.goneMs)
      }`,
    );
  }

  // ---- report -------------------------------------------------------------------------

  const med = (times: Map<string, number[]>, name: string) =>
    median(times.get(name)!);

  interface Row {
    workload: string;
    contender: string;
    ms: number;
    runs: number;
    baselineMs: number | undefined;
  }
  const rows: Row[] = [];
  function addRows(
    workload: string,
    times: Map<string, number[]>,
    names: Record<string, string>,
    baseline: string,
  ): void {
    for (const [key, label] of Object.entries(names)) {
      rows.push({
        workload,
        contender: label,
        ms: med(times, key),
        runs: times.get(key)!.length,
        baselineMs: key === baseline ? undefined : med(times, baseline),
      });
    }
  }
  addRows("100k tiny tasks at once, size 2", tiny, {
    python: "Python Pool(2).apply_async x 100k, .get() each",
    process: 'WorkerPool process: run("inc", [i]) x 100k',
    thread: "WorkerPool thread: the same",
  }, "python");
  addRows("map over 1M numbers, size 2", mapped, {
    python: "Python Pool(2).map(double, data), default chunksize",
    process: 'WorkerPool process: map("double", numbers)',
    thread: "WorkerPool thread: the same",
  }, "python");
  addRows("notebook cell, cold, size 8", cell, {
    "python spawn": 'Python get_context("spawn").Pool(8) + map + close/join',
    "python fork": 'Python get_context("fork").Pool(8), the same',
    process: "WorkerPool process: create + map(square) + close",
    "process inline": "WorkerPool process, inline (n) => n * n",
    thread: "WorkerPool thread: create + map(square) + close",
  }, "python spawn");
  addRows(`CPU-bound ${CPU_TASKS} x ${CPU_MS} ms, size 2`, cpu, {
    thread: "WorkerPool thread",
    process: "WorkerPool process",
  }, "thread");

  const table = (header: string[], align: string[], body: string[][]) =>
    [
      `| ${header.join(" | ")} |`,
      `| ${align.join(" | ")} |`,
      ...body.map((cells) => `| ${cells.join(" | ")} |`),
    ].join("\n");

  console.log(
    `\nMachine: ${machine}, ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno}, ${pythonVersion}; ${
      new Date().toISOString().slice(0, 10)
    }; load average ${loadAtStart} at the start, ${loadAverage()} at the end. Medians of interleaved rounds.\n`,
  );
  console.log(table(
    ["workload", "contender", "median", "rounds", "vs baseline"],
    ["---", "---", "---:", "---:", "---:"],
    rows.map((row) => [
      row.workload,
      row.contender,
      formatMs(row.ms),
      String(row.runs),
      row.baselineMs === undefined
        ? "baseline"
        : versus(row.ms, row.baselineMs),
    ]),
  ));

  const freeMs = aborts.map((a) => a.freeMs);
  const goneMs = aborts.map((a) => a.goneMs);
  const rejectMs = aborts.map((a) => a.rejectMs);
  console.log(
    `\nCancelled spinning task (process, size 1, abortGraceMs ${GRACE_MS}), ${aborts.length} rounds: call rejected after ${
      formatMs(median(rejectMs))
    } (median); core free (worker killed: a zombie or gone) after ${
      formatMs(median(freeMs))
    } median, ${formatMs(Math.max(...freeMs))} max; pid reaped after ${
      formatMs(median(goneMs))
    } median.\n`,
  );

  const speedup = (slowMs: number, fastMs: number) => slowMs / fastMs;
  const tinyX = speedup(med(tiny, "python"), med(tiny, "process"));
  const mapX = speedup(med(mapped, "python"), med(mapped, "process"));
  const cellProcess = med(cell, "process");
  const cellSpawn = med(cell, "python spawn");
  const cellFork = med(cell, "python fork");
  const cpuX = speedup(med(cpu, "thread"), med(cpu, "process"));
  const maxFree = Math.max(...freeMs);
  const verdict = (met: boolean) => met ? "met" : "not met";
  console.log(table(
    ["target (2 cores)", "result", "verdict"],
    ["---", "---", "---"],
    [
      [
        "100k tiny tasks, size 2: >= 2x Python `apply_async`",
        `${tinyX.toFixed(2)}x Python's speed (${
          formatMs(med(tiny, "process"))
        } against ${formatMs(med(tiny, "python"))})`,
        verdict(tinyX >= 2),
      ],
      [
        "`map` over 1M numbers, size 2: >= Python `Pool.map`",
        `${mapX.toFixed(2)}x Python's speed (${
          formatMs(med(mapped, "process"))
        } against ${formatMs(med(mapped, "python"))})`,
        verdict(mapX >= 1),
      ],
      [
        "notebook cell, size 8: <= Python `spawn` (`fork` beside it)",
        `${formatMs(cellProcess)} against spawn ${formatMs(cellSpawn)} (fork ${
          formatMs(cellFork)
        })`,
        verdict(cellProcess <= cellSpawn),
      ],
      [
        `cancelled spinning task: core free within abortGraceMs + 100 ms (${
          GRACE_MS + 100
        } ms)`,
        `${formatMs(median(freeMs))} median, ${formatMs(maxFree)} max`,
        verdict(maxFree <= GRACE_MS + 100),
      ],
      [
        `${CPU_TASKS} x ${CPU_MS} ms CPU-bound, size 2: >= 0.97x thread mode`,
        `${cpuX.toFixed(2)}x thread mode (${
          formatMs(med(cpu, "process"))
        } against ${formatMs(med(cpu, "thread"))})`,
        verdict(cpuX >= 0.97),
      ],
    ],
  ));

  if (Deno.args.includes("--stats")) {
    console.log("\nWarm pools' stats after workloads 1, 2 and 5:");
    console.log(warmStats);
  }
}

// `deno bench` (deno task bench, report.ts) loads every *_bench.ts: this one
// is a script, so it runs only under `deno run`.
if (import.meta.main) await main();
