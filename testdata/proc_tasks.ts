// A task module for the process worker tests (`_proc_*_test.ts`).
import { currentTask } from "../task.ts";

export function echo<T>(value: T): T {
  return value;
}

export function exit(code: number): never {
  Deno.exit(code);
}

/** Throws outside any call, from a timer. */
export function throwLater(message: string): Promise<never> {
  setTimeout(() => {
    throw new TypeError(message);
  });
  return new Promise(() => {});
}

/** Rejects a promise nobody handles. */
export function rejectLater(message: string): Promise<never> {
  void Promise.reject(new RangeError(message));
  return new Promise(() => {});
}

/** Keeps what it allocates until the heap runs out. */
export function allocate(): never {
  const kept: unknown[] = [];
  while (true) kept.push(new Array(100_000).fill({ n: kept.length }));
}

/** Spins forever in a synchronous loop. */
export function spin(): never {
  while (true) {
    // A task that never yields.
  }
}

export function readText(path: string): Promise<string> {
  return Deno.readTextFile(path);
}

export function pid(): number {
  return Deno.pid;
}

export function uncloneable(): () => void {
  return () => {};
}

/** Writes stray bytes into the channel, as broken task code could. */
export async function corrupt(): Promise<void> {
  const { Socket } = await import("node:net");
  new Socket({ fd: 3, readable: false, writable: true }).write("garbage!");
  return new Promise(() => {});
}

// ---- for pool_process_test.ts: signals through files ---------------------

/** Creates `path`: a signal the test waits for. */
export function mark(path: string): string {
  Deno.writeTextFileSync(path, String(Deno.pid));
  return path;
}

/** Marks `path`, then spins forever in a synchronous loop. */
export function markThenSpin(path: string): never {
  mark(path);
  return spin();
}

/**
 * Marks `started`, waits for its signal to abort (through `currentTask()`),
 * marks `aborted`, and rejects with the reason.
 */
export async function markThenAwaitAbort(
  started: string,
  aborted: string,
): Promise<never> {
  const { signal } = currentTask();
  mark(started);
  await new Promise((resolve) =>
    signal.addEventListener("abort", resolve, { once: true })
  );
  mark(aborted);
  throw signal.reason;
}

/** Marks `started`, then waits until `release` exists; returns its pid. */
export async function markThenWait(
  started: string,
  release: string,
): Promise<number> {
  mark(started);
  while (!exists(release)) await new Promise((r) => setTimeout(r, 5));
  return Deno.pid;
}

/** Marks `started`, then blocks its process until `release` exists. */
export function markThenBlock(started: string, release: string): number {
  mark(started);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!exists(release)) Atomics.wait(nap, 0, 0, 5);
  return Deno.pid;
}

/** Appends one byte to `path` (its size counts the runs), returns `x * x`. */
export function countedSquare(path: string, x: number): number {
  Deno.writeFileSync(path, new Uint8Array(1), { append: true, create: true });
  return x * x;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
