// A task module for the process worker tests (`_proc_*_test.ts`).
import { currentTask } from "../task.ts";
import { type PipeEnd, WorkerChannel } from "../channels/mod.ts";

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

/**
 * Creates `path`, holding this process's pid: a signal the test waits for.
 * Written whole under another name and renamed, so it never exists empty.
 */
export function mark(path: string): string {
  Deno.writeTextFileSync(`${path}.part`, String(Deno.pid));
  Deno.renameSync(`${path}.part`, path);
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

/** Whether `path` exists (the tests wait on the tasks' marks with it). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// ---- channels and pipes across processes ----------------------------------

/** Sends 0..n-1 on `channel`, closes it, and returns its pid. */
export async function produce(
  channel: WorkerChannel<number>,
  n: number,
): Promise<number> {
  for (let i = 0; i < n; i++) await channel.send(i);
  channel.close();
  return Deno.pid;
}

/** Sums what `channel` carries until it is closed; returns [sum, pid]. */
export async function consume(
  channel: WorkerChannel<number>,
): Promise<[number, number]> {
  let sum = 0;
  for await (const value of channel) sum += value;
  return [sum, Deno.pid];
}

/** A channel this process owns, carrying `values`, then closed. */
export function ownChannel(values: string[]): WorkerChannel<string> {
  const channel = new WorkerChannel<string>(values.length);
  void (async () => {
    for (const value of values) await channel.send(value);
    channel.close();
  })();
  return channel;
}

/**
 * Receives one value and writes it to `path`, starts another receive, and
 * exits its process while that receive waits.
 */
export async function receiveThenDie(
  channel: WorkerChannel<number>,
  path: string,
): Promise<never> {
  Deno.writeTextFileSync(path, String(await channel.receive()));
  void channel.receive();
  await new Promise((resolve) => setTimeout(resolve, 20));
  Deno.exit(1);
}

/** Sends `x` on its pipe end, returns what comes back. */
export async function ask(end: PipeEnd<number, number>, x: number) {
  await end.send(x);
  const answer = await end.receive();
  end.close();
  return answer;
}

/** Answers each number on its pipe end with its double, until closed. */
export async function doubler(end: PipeEnd<number, number>): Promise<number> {
  let answered = 0;
  for await (const x of end) {
    await end.send(x * 2);
    answered++;
  }
  return answered;
}

/** Returns `[x * x, pid]`; if `close`, calls `self.close()` first. */
export function closeIf(x: number, close: boolean): [number, number] {
  if (close) (globalThis as { close(): void }).close();
  return [x * x, Deno.pid];
}
