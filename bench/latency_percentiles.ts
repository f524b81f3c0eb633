// Copyright the @seed/concurrency authors. MIT license.
// Sequential round-trip latency as percentiles, which deno bench does not
// report (it gives the mean and p75, no median). A `deno run` script; run it
// pinned to one core, as `deno task bench` does:
//
//   taskset -c 0 deno run -A bench/latency_percentiles.ts
//   taskset -c 0 deno run -A bench/latency_percentiles.ts --samples=50000
//   taskset -c 0 deno run -A bench/latency_percentiles.ts --json
//
// Each entry sends one task, awaits its result, and only then sends the next
// (one worker, size 1, nothing else queued), timing every round trip with
// performance.now(). The entries are interleaved in rounds of 100 round trips,
// in a new seeded shuffle each turn, so that machine noise (another process,
// a frequency change) falls on all of them alike instead of on whichever ran
// last. The shuffle matters for p99: the slowest 1% are mostly the first
// call of each round, which pays for what the entry before it left in the
// caches and for a worker asleep in its event loop. A rotating order always
// put the same entry before each one (a WorkerPool after the raw ping-pong
// measured 1.24x raw at p99, the same pool after another pool 1.0x). After
// a warm-up (2,000 round trips each by default, not recorded) each entry
// records 20,000.
//
// The table gives p50, p75, p99 and the mean of each entry with its ratio to
// the raw Worker ping-pong at the same percentile (above 1 is slower).
// bench/report.ts runs this file pinned (with --json) and prints its table
// after the bench table.
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { RawPool } from "./_raw_pool.ts";
import { seededRandom, shuffle } from "./_seeded.ts";

/** One entry's sequential round-trip times. */
export interface LatencyRow {
  /** What was measured. */
  entry: string;
  /** How many round trips were recorded. */
  samples: number;
  /** The median round trip, in microseconds. */
  p50Us: number;
  /** The 75th percentile, in microseconds. */
  p75Us: number;
  /** The 99th percentile, in microseconds. */
  p99Us: number;
  /** The mean, in microseconds. */
  meanUs: number;
}

/** Options for {@linkcode measureLatency}. */
export interface LatencyOptions {
  /**
   * Round trips recorded per entry.
   *
   * @default {20000}
   */
  samples?: number;
  /**
   * Round trips per entry before recording starts.
   *
   * @default {2000}
   */
  warmup?: number;
  /**
   * Round trips an entry makes before the next entry takes its turn.
   *
   * @default {100}
   */
  round?: number;
}

/** One entry: a name and a single awaited round trip with argument `i`. */
interface Entry {
  name: string;
  call: (i: number) => Promise<unknown>;
}

/** The value at fraction `p` of sorted `values` (nearest rank). */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/**
 * Measures the sequential round trip of a raw Worker, `WorkerPool.run` with
 * an inline function and with a task module's function name, and
 * `piscina.run`, interleaved. Starts and ends its own workers.
 *
 * @param options Sample counts.
 * @returns One row per entry, the raw Worker first.
 */
export async function measureLatency(
  options: LatencyOptions = {},
): Promise<LatencyRow[]> {
  const samples = options.samples ?? 20_000;
  const warmup = options.warmup ?? 2_000;
  const round = options.round ?? 100;
  const square = (x: number) => x * x;
  const raw = new RawPool(1);
  const inline = new WorkerPool({ size: 1, idleTimeoutMs: Infinity });
  const named = new WorkerPool<typeof import("./_tasks.ts")>(
    new URL("./_tasks.ts", import.meta.url),
    { size: 1, idleTimeoutMs: Infinity },
  );
  const piscina = new Piscina({
    filename: new URL("./_piscina_task.mjs", import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Infinity,
  });
  const entries: Entry[] = [
    { name: "raw Worker ping-pong", call: (i) => raw.call(i) },
    {
      name: "WorkerPool.run, inline function",
      call: (i) => inline.run(square, [i]),
    },
    {
      name: 'WorkerPool.run, task module ("square")',
      call: (i) => named.run("square", [i]),
    },
    { name: "piscina.run", call: (i) => piscina.run(i) },
  ];
  const times = entries.map(() => new Float64Array(samples));
  try {
    // Interleaved rounds: warm-up first (index < 0 is not recorded).
    const random = seededRandom(99);
    const order = entries.map((_, index) => index);
    for (let done = -warmup; done < samples; done += round) {
      const count = Math.min(round, samples - done);
      for (const index of shuffle(order, random)) {
        const { call } = entries[index] as Entry;
        const out = times[index] as Float64Array;
        for (let j = 0; j < count; j++) {
          const start = performance.now();
          await call(j);
          const took = performance.now() - start;
          if (done + j >= 0) out[done + j] = took;
        }
      }
    }
  } finally {
    raw.close();
    inline.terminate();
    named.terminate();
    await piscina.destroy();
  }
  return entries.map(({ name }, index) => {
    const sorted = (times[index] as Float64Array).sort();
    let sum = 0;
    for (const t of sorted) sum += t;
    return {
      entry: name,
      samples,
      p50Us: percentile(sorted, 0.5) * 1000,
      p75Us: percentile(sorted, 0.75) * 1000,
      p99Us: percentile(sorted, 0.99) * 1000,
      meanUs: sum / samples * 1000,
    };
  });
}

/**
 * A markdown table of `rows`, each time followed by its ratio to the first
 * row's at the same percentile.
 *
 * @param rows Rows from {@linkcode measureLatency}, the baseline first.
 * @returns The table, one line per row after the header.
 */
export function formatLatencyTable(rows: readonly LatencyRow[]): string {
  const base = rows[0];
  const keys = ["p50Us", "p75Us", "p99Us", "meanUs"] as const;
  const cell = (row: LatencyRow, key: typeof keys[number]) => {
    const us = `${row[key].toFixed(1)} µs`;
    if (base === undefined || row === base) return us;
    return `${us} (${(row[key] / base[key]).toFixed(2)}x)`;
  };
  const lines = [
    `| sequential round trip (${
      base?.samples ?? 0
    } each, x raw) | p50 | p75 | p99 | mean |`,
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.entry} | ${keys.map((key) => cell(row, key)).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** The CPUs this process may run on, as Linux lists them, if it says. */
function allowedCpus(): string | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const number = (flag: string, min: number) => {
    const arg = Deno.args.find((a) => a.startsWith(`--${flag}=`));
    if (arg === undefined) return undefined;
    const value = Number(arg.slice(flag.length + 3));
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Cannot measure as '--${flag}' must be an integer of at least ${min}: received ${arg}`,
      );
    }
    return value;
  };
  const options: LatencyOptions = {};
  const samples = number("samples", 1);
  const warmup = number("warmup", 0);
  if (samples !== undefined) options.samples = samples;
  if (warmup !== undefined) options.warmup = warmup;
  const rows = await measureLatency(options);
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(rows));
  } else {
    const cpus = allowedCpus();
    console.log(
      `Deno ${Deno.version.deno}; ${navigator.hardwareConcurrency} CPU(s) available${
        cpus === undefined ? "" : ` (Linux CPU list ${cpus})`
      }.\n`,
    );
    console.log(formatLatencyTable(rows));
  }
}
