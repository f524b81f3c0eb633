// Copyright the @seed/concurrency authors. MIT license.
// Test helpers for the storm and regression tests of the pool: a watchdog
// that turns a hang into a failure, OS thread and child process counts, tests
// that run in a process of their own, and a seeded PRNG.
import { type PoolStats, WorkerPool, type WorkerPoolOptions } from "../pool.ts";
import assert from "node:assert/strict";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import { expectedValue, type Kind, type StormItem } from "./storm_tasks.ts";
import type * as Tasks from "./storm_tasks.ts";

/** How long a test may take before its watchdog calls it a hang. */
export const WATCHDOG_MS = Number(Deno.env.get("STORM_WATCHDOG_MS") ?? 20_000);

/** Set in a child process to the name of the one test it runs for real. */
const ISOLATED = "STORM_ISOLATED";

// deno-lint-ignore no-explicit-any
type AnyPool = WorkerPool<any>;

/** What is wrong with the stats of a pool at rest (every call settled). */
export function restingProblems(stats: PoolStats): string[] {
  const problems: string[] = [];
  const outcomes = stats.completed + stats.failed + stats.cancelled;
  if (stats.busy !== 0) problems.push(`busy is ${stats.busy}, not 0`);
  if (stats.queued !== 0) problems.push(`queued is ${stats.queued}, not 0`);
  if (stats.submitted !== outcomes) {
    problems.push(
      `submitted (${stats.submitted}) != completed + failed + cancelled (${stats.completed} + ${stats.failed} + ${stats.cancelled})`,
    );
  }
  if (!(stats.waitTimeMs.count <= stats.submitted)) {
    problems.push(
      `waitTimeMs.count (${stats.waitTimeMs.count}) > submitted (${stats.submitted})`,
    );
  }
  return problems;
}

/**
 * The OS threads of this process that run a Web Worker (Deno names them
 * `worker-<n>`). The `Threads:` line of `/proc/self/status` counts the
 * runtime's helper threads too, which come and go on their own (a blocking
 * pool thread idles out after seconds), so it cannot show a leak exactly.
 */
export function workerThreadCount(): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    try {
      const name = Deno.readTextFileSync(`/proc/self/task/${entry.name}/comm`);
      if (/^worker-\d+$/.test(name.trim())) count++;
    } catch {
      // The thread ended while we looked.
    }
  }
  return count;
}

/**
 * Waits until at most `count` worker threads are left (an ended worker's OS
 * thread goes a moment after its runtime has ended). Put it under a watchdog.
 */
export async function threadsBackTo(count: number): Promise<void> {
  while (workerThreadCount() > count) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A child process of this process, as `/proc/<pid>/stat` shows it. */
export interface ChildProcess {
  pid: number;
  /** Its state letter: `R` running, `S` sleeping, `Z` zombie, ... */
  state: string;
  /** The end of its command line (empty once it has exited). */
  command: string;
}

/**
 * The child processes of this process that have not exited (zombies,
 * which have exited and wait only to be reaped, are left out), from the
 * ppid field of each `/proc/<pid>/stat`. Linux only.
 */
export function childProcesses(): ChildProcess[] {
  const children: ChildProcess[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // It ended while we looked.
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) !== Deno.pid || state === "Z" || state === undefined) {
      continue;
    }
    let command = "";
    try {
      command = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)
        .replaceAll("\0", " ").trim().slice(-200);
    } catch {
      // It ended while we looked.
    }
    children.push({ pid: Number(entry.name), state, command });
  }
  return children;
}

/**
 * Waits until no child process of this process is left but those in
 * `before` (a child's exit is seen a moment after the pool let it go), for
 * at most `ms`; returns the ones still there.
 */
export async function childrenLeftAfter(
  before: ReadonlySet<number>,
  ms: number,
): Promise<ChildProcess[]> {
  const deadline = performance.now() + ms;
  while (true) {
    const left = childProcesses().filter((child) => !before.has(child.pid));
    if (left.length === 0 || performance.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until `check()` holds, looking again every few milliseconds. */
export async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Resolves as `work` does, or rejects if it has not settled after `ms`: a
 * safety net that turns a hang into a failure with a dump of what was still
 * pending, not an assertion about time.
 */
export async function watchdog<T>(
  work: Promise<T>,
  what: string,
  dump: () => unknown = () => "(no dump)",
  ms: number = WATCHDOG_MS,
  progress?: () => number,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    // With `progress`, the watchdog fires only after `ms` without progress:
    // a long run that keeps settling calls is not a hang.
    let seen = progress?.();
    const fire = () => {
      const now = progress?.();
      if (now !== seen) {
        seen = now;
        timer = setTimeout(fire, ms);
        return;
      }
      let detail: string;
      try {
        const value = dump();
        detail = typeof value === "string" ? value : JSON.stringify(value);
      } catch (error) {
        detail = `(the dump failed: ${error})`;
      }
      reject(
        new Error(
          `Hang: ${what} had not settled after the ${ms} ms watchdog${
            progress === undefined ? "" : " (without progress)"
          }. Still pending: ${detail}`,
        ),
      );
    };
    timer = setTimeout(fire, ms);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `onError` with each uncaught error and unhandled rejection of this
 * thread, instead of letting it end the process, until the returned function
 * is called.
 */
export function catchUncaught(onError: (error: unknown) => void): () => void {
  const handler = (event: Event) => {
    event.preventDefault();
    onError(
      event instanceof ErrorEvent
        ? event.error
        : (event as PromiseRejectionEvent).reason,
    );
  };
  addEventListener("error", handler);
  addEventListener("unhandledrejection", handler);
  return () => {
    removeEventListener("error", handler);
    removeEventListener("unhandledrejection", handler);
  };
}

/** Whether `promise` is still pending one macrotask from now. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const first = await Promise.race([
    promise.then(() => undefined, () => undefined),
    new Promise((resolve) => setTimeout(() => resolve(marker), 0)),
  ]);
  return first === marker;
}

/**
 * A test that runs in a process of its own: the test file is run again with
 * `deno test --filter <name>`, and the body runs only there. For tests that
 * count the process's threads or take process-wide Web Locks, which other
 * test files running in parallel would disturb.
 */
export function isolatedTest(
  file: string,
  name: string,
  fn: () => void | Promise<void>,
): void {
  Deno.test(name, async () => {
    const isolated = Deno.env.get(ISOLATED);
    if (isolated === name) {
      console.log(`isolated run of: ${name}`);
      return await fn();
    }
    if (isolated !== undefined) return; // another isolated test's process
    await runIsolated(file, name);
  });
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

async function runIsolated(file: string, name: string): Promise<void> {
  const { code, output } = await runDeno(
    [
      "test",
      "-A",
      "--unstable-worker-options",
      "--no-check",
      "--filter",
      name,
      new URL(file).pathname,
    ],
    { [ISOLATED]: name },
    // The child has watchdogs of its own; this one catches a child so stuck
    // that they cannot fire.
    Math.max(WATCHDOG_MS * 6, 120_000),
  );
  if (code !== 0 || !output.includes(`isolated run of: ${name}`)) {
    throw new Error(
      `The isolated run of "${name}" failed (exit code ${code}):\n${
        output.slice(-20_000)
      }`,
    );
  }
}

/**
 * Runs `deno <args>` in the repository's root and returns its exit code and
 * output (stdout then stderr, without colours). Kills it after `timeoutMs`.
 */
export async function runDeno(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs: number = WATCHDOG_MS,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("..", import.meta.url).pathname,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    const output = decoder.decode(stdout) + decoder.decode(stderr);
    return { code, output: output.replace(ANSI, "") };
  } finally {
    clearTimeout(timer);
  }
}

/** A small seeded PRNG (mulberry32): the same seed, the same sequence. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

// ---- pools over the storm task module --------------------------------------

/** The storm task module (testdata/storm_tasks.ts). */
export const STORM_TASKS: URL = new URL("./storm_tasks.ts", import.meta.url);

/** A pool over the storm task module. */
export type StormPool = WorkerPool<typeof Tasks>;

/** A pool over the storm task module, with the new core's options allowed. */
export function stormPool(options: WorkerPoolOptions = {}): StormPool {
  return new WorkerPool<typeof Tasks>(STORM_TASKS, options);
}

/** `n` start counters in shared memory, all 0. */
export function counters(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

/** A storm call: task `index` of `kind`, counting its starts in `runs`. */
export function item(
  runs: Int32Array,
  index: number,
  kind: Kind,
  extra: Partial<StormItem> = {},
): StormItem {
  return { runs, index, kind, ...extra };
}

/** Waits for every promise to settle, under the watchdog. */
export function settleAll<T>(
  promises: readonly PromiseLike<T>[],
  what: string,
  pool?: AnyPool,
): Promise<PromiseSettledResult<Awaited<T>>[]> {
  return watchdog(
    Promise.allSettled(promises),
    what,
    () => pool?.stats ?? "(no pool)",
  );
}

/**
 * Ends a test's pool whatever state it is in: releases its gates, then
 * terminates it without waiting long (a hung pool must not hang the next
 * test too).
 */
export async function dispose(
  pool: AnyPool,
  ...gates: Int32Array[]
): Promise<void> {
  for (const gate of gates) {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    pool.terminate().catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, 2_000)),
  ]);
  clearTimeout(timer);
}

// ---- assertions over storm calls -------------------------------------------

/** Marks `promise` as handled (a failing test must not leave unhandled rejections), and returns it. */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** `[from, from + 1, ..., from + n - 1]`. */
export function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** The reason of a rejected result, or `undefined`. */
// deno-lint-ignore no-explicit-any
export function rejected(result: PromiseSettledResult<unknown>): any {
  return result.status === "rejected" ? result.reason : undefined;
}

/** `n` ordinary calls from task `from` on, as run and submit by turns. */
export function okCalls(
  pool: StormPool,
  runs: Int32Array,
  from: number,
  n: number,
): Promise<unknown>[] {
  return range(from, n).map((index, i) => {
    const call = item(runs, index, i % 3 === 0 ? "async" : "ok");
    return i % 2 === 0
      ? handled(pool.run("step", [call]))
      : handled(Promise.resolve(pool.submit("step", [call])));
  });
}

/**
 * Asserts that each call resolved with its task's value; with `crashOk`, a
 * call may instead have rejected with WorkerCrashedError after its task
 * started (its worker died before the result reached the caller).
 */
export function assertValues(
  results: PromiseSettledResult<unknown>[],
  indexes: number[],
  runs: Int32Array,
  crashOk = false,
): void {
  results.forEach((result, i) => {
    const index = indexes[i] as number;
    if (result.status === "fulfilled") {
      assert.equal(result.value, expectedValue(index), `call ${index}`);
    } else {
      assert.ok(
        crashOk && result.reason instanceof WorkerCrashedError &&
          Atomics.load(runs, index) === 1,
        `call ${index} rejected: ${result.reason}`,
      );
    }
  });
}

/** Asserts that no task counted more than one start. */
export function assertNoneRanTwice(runs: Int32Array): void {
  const twice = [...runs.entries()].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], "tasks that ran more than once: [index, runs]");
}
