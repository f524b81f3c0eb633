// Copyright the @seed/concurrency authors. MIT license.
// Internal: a running summary of durations over the most recent samples.

/** A summary of durations, in milliseconds. */
export interface DurationSummary {
  /** How many durations were recorded in all. */
  count: number;
  /** Their mean over the recent window. */
  meanMs: number;
  /** The median of the recent window (nearest rank: the lower middle). */
  p50Ms: number;
  /** The 99th percentile of the recent window (nearest rank). */
  p99Ms: number;
  /** The largest duration ever recorded. */
  maxMs: number;
}

const WINDOW = 1024;

export class Summary {
  #samples = new Float64Array(WINDOW);
  #count = 0;
  #max = -Infinity;

  record(ms: number): void {
    this.#samples[this.#count & (WINDOW - 1)] = ms;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  snapshot(): DurationSummary {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return { count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i] as number;
    // Nearest rank: the smallest sample with at least `percent`% of the
    // window at or below it. Integer arithmetic keeps `99 * 100 / 100` exact.
    const at = (percent: number) =>
      sorted[Math.max(0, Math.ceil((percent * n) / 100) - 1)] as number;
    return {
      count: this.#count,
      meanMs: sum / n,
      p50Ms: at(50),
      p99Ms: at(99),
      maxMs: this.#max,
    };
  }
}
