// Copyright the @seed/concurrency authors. MIT license.
// deno-lint-ignore-file no-explicit-any -- passes the constructor's arguments through

/**
 * Internal, for tests: the pool the shared suite uses. It is `WorkerPool`
 * with the isolation the suite runs under: threads by default, processes
 * when a `*_process_test.ts` file imported `_test_process_mode.ts` first
 * (each test file runs in its own isolate). An explicit `isolation` option
 * wins.
 *
 * @module
 */

import { isPlainObject } from "./_options.ts";
import { type TaskModule, WorkerPool as Base } from "./pool.ts";

const MODE = Symbol.for("@seed/concurrency/test-isolation");

/** The isolation the suite runs under. */
export function testIsolation(): "thread" | "process" {
  return (globalThis as any)[MODE] === "process" ? "process" : "thread";
}

/** Whether the suite runs with process workers. */
export function inProcessMode(): boolean {
  return testIsolation() === "process";
}

/**
 * Test options for a test of what only threads do or can observe: shared
 * memory between the test and its tasks (the flags of `_test_atomics.ts`),
 * work stealing, the fast path, channels. Process mode has its own tests of
 * the same behaviours where they apply (`pool_process_test.ts`).
 */
export const THREADS_ONLY: { ignore: boolean } = {
  get ignore(): boolean {
    return inProcessMode();
  },
};

/** Sets the suite's isolation (see `_test_process_mode.ts`). */
export function setTestIsolation(isolation: "thread" | "process"): void {
  (globalThis as any)[MODE] = isolation;
}

function withIsolation(moduleOrOptions: any, options: any): [any, any] {
  if (!inProcessMode()) return [moduleOrOptions, options];
  if (moduleOrOptions === undefined || isPlainObject(moduleOrOptions)) {
    return [{ isolation: "process", ...moduleOrOptions }, options];
  }
  if (options === undefined || isPlainObject(options)) {
    return [moduleOrOptions, { isolation: "process", ...options }];
  }
  return [moduleOrOptions, options];
}

/** `WorkerPool`, with the suite's isolation. */
export class WorkerPool<M extends TaskModule = Record<never, never>>
  extends Base<M> {
  constructor(moduleOrOptions?: any, options?: any) {
    super(...withIsolation(moduleOrOptions, options));
  }
}
