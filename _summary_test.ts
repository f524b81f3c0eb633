// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { type DurationSummary, Summary } from "./_summary.ts";

/** Records each of `samples` in a new Summary and returns its snapshot. */
function summarize(samples: readonly number[]): DurationSummary {
  const summary = new Summary();
  for (const ms of samples) summary.record(ms);
  return summary.snapshot();
}

Deno.test("Summary.snapshot() of no samples is all zeros", () => {
  assert.deepEqual(new Summary().snapshot(), {
    count: 0,
    meanMs: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
  });
});

Deno.test("Summary.snapshot() of one sample reports it everywhere", () => {
  assert.deepEqual(summarize([7.5]), {
    count: 1,
    meanMs: 7.5,
    p50Ms: 7.5,
    p99Ms: 7.5,
    maxMs: 7.5,
  });
});

Deno.test("Summary.snapshot() reports nearest-rank percentiles", async (t) => {
  await t.step("1..100: p50 is 50, p99 is 99 (not the maximum)", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.deepEqual(summarize(samples), {
      count: 100,
      meanMs: 50.5,
      p50Ms: 50,
      p99Ms: 99,
      maxMs: 100,
    });
  });

  await t.step("an odd count has the middle sample as p50", () => {
    assert.equal(summarize([3, 1, 2]).p50Ms, 2);
  });

  await t.step("samples are ordered as numbers, not as strings", () => {
    const snapshot = summarize([100, 9, 20]);
    assert.equal(snapshot.p50Ms, 20);
    assert.equal(snapshot.maxMs, 100);
  });

  await t.step("one outlier in 1000 does not move p99", () => {
    const samples = [...Array(999).fill(1), 5000];
    const snapshot = summarize(samples);
    assert.equal(snapshot.p99Ms, 1);
    assert.equal(snapshot.maxMs, 5000);
  });
});

Deno.test("Summary keeps a window of the last 1024 samples for mean and percentiles", async (t) => {
  await t.step("older samples leave the window, count and max keep all", () => {
    const summary = new Summary();
    summary.record(1000);
    for (let i = 0; i < 1024; i++) summary.record(2);
    const snapshot = summary.snapshot();
    assert.equal(snapshot.count, 1025);
    assert.equal(snapshot.meanMs, 2);
    assert.equal(snapshot.p50Ms, 2);
    assert.equal(snapshot.p99Ms, 2);
    assert.equal(snapshot.maxMs, 1000);
  });

  await t.step("exactly 1024 samples are all in the window", () => {
    const samples = [5000, ...Array(1023).fill(1)];
    const snapshot = summarize(samples);
    assert.equal(snapshot.count, 1024);
    assert.equal(snapshot.meanMs, (5000 + 1023) / 1024);
  });
});

Deno.test("Summary matches a model over any samples", () => {
  /** Nearest rank: the smallest sample with at least p% at or below it. */
  const percentile = (sorted: readonly number[], p: number) => {
    for (let rank = 1; rank <= sorted.length; rank++) {
      if (rank * 100 >= p * sorted.length) return sorted[rank - 1]!;
    }
    throw new Error("unreachable");
  };
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), {
        minLength: 1,
        maxLength: 2500,
        size: "max",
      }),
      (samples) => {
        const window = samples.slice(-1024).sort((a, b) => a - b);
        const sum = window.reduce((total, ms) => total + ms, 0);
        assert.deepEqual(summarize(samples), {
          count: samples.length,
          meanMs: sum / window.length,
          p50Ms: percentile(window, 50),
          p99Ms: percentile(window, 99),
          maxMs: Math.max(...samples),
        });
      },
    ),
    { numRuns: 50 },
  );
});
