// Copyright the @seed/concurrency authors. MIT license.
// The task module of bench/process_bench.ts, for process and thread pools.

export { spin, square } from "./_tasks.ts";

/** The tiny task: one addition. */
export function inc(x: number): number {
  return x + 1;
}

/** The map task. */
export function double(x: number): number {
  return x * 2;
}

/**
 * Spins in a synchronous loop for ever, never looking at its signal: only
 * killing its worker stops it. Returns nothing (it never returns).
 */
export function spinForever(): number {
  let state = 1;
  while (state !== 0) state = (Math.imul(state, 1103515245) + 12345) | 1;
  return state;
}
