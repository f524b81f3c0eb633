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
 */
export function burn(iterations: number): number {
  return spin(iterations, iterations);
}
