// Copyright the @seed/concurrency authors. MIT license.
// Internal: a running summary of durations over the most recent samples.

/** A summary of durations, in milliseconds. */
export interface DurationSummary {
  /** How many durations were recorded in all. */
  count: number;
  /** Their mean over the recent window. */
  meanMs: number;
  /** The median of the recent window. */
  p50Ms: number;
  /** The 99th percentile of the recent window. */
  p99Ms: number;
  /** The largest duration ever recorded. */
  maxMs: number;
}

const WINDOW = 1024;

export class Summary {
  #samples = new Float64Array(WINDOW);
  #count = 0;
  #max = 0;

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
    const at = (q: number) =>
      sorted[Math.min(n - 1, Math.floor(q * n))] as number;
    return {
      count: this.#count,
      meanMs: sum / n,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: this.#max,
    };
  }
}
