// Copyright the @seed/concurrency authors. MIT license.
// Runs the contenders of one workload in interleaved rounds, for ratios that
// the machine's drift cannot bias.
//
// Why. `deno bench` runs a group's entries one after another, and an entry
// that runs first meets a different machine than the last: with steady work,
// every entry of tail_bench.ts after the raw baseline came out 3-14% slower,
// piscina's included. And work speeds change by themselves, in steps of
// seconds, when V8 recompiles a hot loop (bench/_tasks.ts and
// bench/_warm_runners.ts say how). Here every round runs each contender
// once, in a rotating order (round r starts with contender r mod n), and a
// contender's ratio is the median over rounds of its time over the
// baseline's time in the same round, a second or less apart: drift falls on
// both sides of each ratio alike. Keep a contender's run short (a fraction
// of a second) for the same reason.
//
// A workload is also what a `deno bench` file registers (`benchWorkload`),
// so the two harnesses time the same functions.

/** One way to do a workload's work, timed as a whole. */
export interface Contender {
  /** What is timed, as the tables name it. */
  name: string;
  /**
   * Does the work once; rejects if the results are wrong. `round` counts the
   * calls (every contender gets the same count in a round), for workloads
   * that vary their input from round to round.
   */
  run(round: number): Promise<unknown>;
}

/** A unit of work and the contenders that do it, the baseline first. */
export interface Workload {
  /** The group name of the tables. */
  group: string;
  /** Timed rounds unless told otherwise (7 if not given). */
  rounds?: number;
  /** The contenders, the baseline (the 1x line) first. */
  contenders: Contender[];
  /** Ends the workers the contenders started. */
  close(): Promise<void> | void;
}

/** One contender's rounds. */
export interface InterleavedRow {
  /** The contender's name. */
  name: string;
  /** Every timed round, in ms, in the order run. */
  roundsMs: number[];
  /** The median round, in ms. */
  medianMs: number;
  /**
   * The median over rounds of this contender's time over the baseline's in
   * the same round (1 for the baseline).
   */
  ratio: number;
}

/** Options for {@linkcode interleave}. */
export interface InterleaveOptions {
  /**
   * Timed rounds (each contender once per round).
   *
   * @default {workload.rounds ?? 7}
   */
  rounds?: number;
  /**
   * Untimed rounds first.
   *
   * @default {1}
   */
  warmup?: number;
}

/** The median of `values` (the upper one of an even count). */
function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? NaN;
}

/**
 * Times every contender of `workload` once per round, rounds rotating which
 * goes first.
 *
 * @returns One row per contender, in the workload's order.
 */
export async function interleave(
  workload: Workload,
  options: InterleaveOptions = {},
): Promise<InterleavedRow[]> {
  const rounds = options.rounds ?? workload.rounds ?? 7;
  const warmup = options.warmup ?? 1;
  const { contenders } = workload;
  const times = contenders.map(() => [] as number[]);
  for (let round = -warmup; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + Math.max(0, round)) % contenders.length;
      const start = performance.now();
      await (contenders[index] as Contender).run(round + warmup);
      const took = performance.now() - start;
      if (round >= 0) (times[index] as number[]).push(took);
    }
  }
  const base = times[0] as number[];
  return contenders.map(({ name }, index) => {
    const roundsMs = times[index] as number[];
    const ratio = median(
      roundsMs.map((ms, round) => ms / (base[round] ?? NaN)),
    );
    return { name, roundsMs, medianMs: median(roundsMs), ratio };
  });
}

/**
 * A markdown table of `rows`: each contender's median round, its ratio to the
 * baseline (the median of per-round ratios; above 1 is slower), then its
 * fastest and slowest round.
 */
export function formatInterleaved(
  group: string,
  rows: readonly InterleavedRow[],
): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const lines = [
    `| ${group} (median of ${
      rows[0]?.roundsMs.length ?? 0
    } interleaved rounds) | median | x baseline | fastest | slowest |`,
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const ratio = row.ratio;
    const label = row === rows[0]
      ? "baseline"
      : ratio >= 1
      ? `${ratio.toFixed(2)}x slower`
      : `${(1 / ratio).toFixed(2)}x faster`;
    lines.push(
      `| ${row.name} | ${ms(row.medianMs)} | ${label} | ${
        ms(Math.min(...row.roundsMs))
      } | ${ms(Math.max(...row.roundsMs))} |`,
    );
  }
  return lines.join("\n");
}

/**
 * Registers one `Deno.bench` per contender of `workload` in its group, the
 * first as the baseline, and closes the workload when the process unloads.
 */
export function benchWorkload(
  workload: Workload,
  options: { n?: number; warmup?: number } = {},
): void {
  const n = options.n ?? 5;
  const warmup = options.warmup ?? 1;
  workload.contenders.forEach(({ name, run }, index) => {
    let round = 0;
    Deno.bench({
      name,
      group: workload.group,
      baseline: index === 0,
      n,
      warmup,
      async fn() {
        await run(round++);
      },
    });
  });
  globalThis.addEventListener("unload", () => void workload.close());
}
