// Copyright the @seed/concurrency authors. MIT license.
// The task module of the benchmarks.

/** The notebook's task. */
export function square(x: number): number {
  return x * x;
}

/**
 * A fixed amount of CPU work (not a wall-clock spin, which would make four
 * threads on two cores look like four cores). Returns x.
 */
export function spin(x: number, iterations: number): number {
  let state = x | 0;
  for (let i = 0; i < iterations; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
  }
  return state === 0.5 ? -1 : x;
}

// Keeping the benches' work at one speed. Every isolate that loads this
// module runs all of `spin` a few times on tiny counts first. Otherwise its
// first long call compiles the loop on the stack (OSR) before the compare
// after the loop has ever run, and V8 then deoptimizes `spin` at that compare
// for want of type feedback, call after call (100 deopts in 8 s of 2 ms
// calls): the same item took 2.0 or 3.9 ms by turns, for seconds at a time,
// which looked like a machine that slows down under load.
for (let i = 0; i < 4; i++) spin(i, 1);

/** How many `spin` iterations take about `ms` milliseconds on this thread. */
export function calibrateSpin(ms: number): number {
  let iterations = 1 << 16;
  while (true) {
    const start = performance.now();
    spin(1, iterations);
    const took = performance.now() - start;
    if (took > 20) return Math.round(iterations * ms / took);
    iterations *= 2;
  }
}

/**
 * `spin` as a one-argument task, for `map`: `iterations` of the same
 * arithmetic. Returns the iteration count.
 *
 * It has its own copy of the loop on purpose. As a wrapper that calls
 * `spin`, it got optimized code of its own with the loop inlined, and ran
 * that at Maglev's speed (about 2.9 ms for 2 ms of work) for the first
 * seconds of every run, until TurboFan compiled it again. Any function that
 * calls it in a hot path does the same to it (a raw worker's message
 * handler): bench/_warm_runners.ts warms runners for seconds, not passes.
 */
export function burn(iterations: number): number {
  let state = iterations | 0;
  for (let i = 0; i < iterations; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
  }
  return state === 0.5 ? -1 : iterations;
}

for (let i = 0; i < 4; i++) burn(i);
