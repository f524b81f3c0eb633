// A task module for the pool's tests.
import { currentTask, transfer } from "../task.ts";

const tag = crypto.randomUUID();

export function square(x: number): number {
  return x * x;
}

export async function slowDouble(x: number): Promise<number> {
  await Promise.resolve();
  return x * 2;
}

export const notAFunction = 42;

/** Identifies the worker instance that ran the task. */
export function workerTag(): string {
  return tag;
}

export class ValidationError extends Error {
  override name = "ValidationError";
  code = "E_INVALID";
  field: string;
  constructor(field: string, options?: ErrorOptions) {
    super(`Invalid ${field}`, options);
    this.field = field;
  }
}

export function fail(kind: string): never {
  switch (kind) {
    case "type":
      throw new TypeError("wrong type");
    case "custom":
      throw new ValidationError("email", { cause: new RangeError("too long") });
    case "aggregate":
      throw new AggregateError(
        [new TypeError("a"), new ValidationError("b")],
        "many",
      );
    case "string":
      throw "a plain string";
    default:
      throw new Error(kind);
  }
}

/** Marks `flags[0] = 1` when it starts, then waits for its signal to abort. */
export async function awaitAbort(flags: Int32Array): Promise<string> {
  const { signal } = currentTask();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  await new Promise((resolve) =>
    signal.addEventListener("abort", resolve, { once: true })
  );
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  throw signal.reason;
}

/** A synchronous loop that checks for cancellation, as CPU-bound tasks should. */
export function spinUntilAborted(flags: Int32Array): number {
  const task = currentTask();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  let spins = 0;
  while (!task.aborted) spins++;
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  return spins;
}

/** A synchronous loop that ignores cancellation until `flags[2]` is set. */
export function spinIgnoringAbort(flags: Int32Array): void {
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  while (Atomics.load(flags, 2) === 0) {
    // busy
  }
}

/** Blocks its worker until `flags[2]` is set. */
export function block(flags: Int32Array): string {
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
  while (Atomics.load(flags, 2) === 0) Atomics.wait(flags, 2, 0, 50);
  return tag;
}

export function crash(how: string): Promise<never> {
  switch (how) {
    case "throw":
      setTimeout(() => {
        throw new RangeError("thrown outside any task");
      });
      break;
    case "reject":
      Promise.reject(new TypeError("nobody handles this"));
      break;
    case "close":
      self.close();
      break;
    case "exit":
      Deno.exit(3);
  }
  return new Promise(() => {});
}

export function readFile(path: string): Promise<string> {
  return Deno.readTextFile(path);
}

export function returnFunction(): () => number {
  return () => 1;
}

export function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n).fill(7);
  return transfer(b, [b.buffer]);
}

export function byteLength(buffer: ArrayBuffer): number {
  return buffer.byteLength;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function power(base: number, exponent = 2): number {
  return base ** exponent;
}

let bumps = 0;

/**
 * Queues a microtask that counts one bump; returns the bumps counted so far.
 * (`_n`: one number argument takes the fast path.)
 */
export function queueBump(_n: number): number {
  queueMicrotask(() => bumps++);
  return bumps;
}

/** How many bumps `queueBump` counted in this worker. */
export function countBumps(_n: number): number {
  return bumps;
}

let timerFired = false;

/** Sets a timer of 0 ms in this worker (see `hasTimerFired`). */
export function setZeroTimer(_n: number): void {
  timerFired = false;
  setTimeout(() => timerFired = true, 0);
}

/** Whether the timer `setZeroTimer` set has fired. */
export function hasTimerFired(_n: number): boolean {
  return timerFired;
}

/** Spins until cancelled (a task with a number argument: the fast path). */
export function spinUntilCancelled(n: number): number {
  const task = currentTask();
  let spins = n;
  while (!task.aborted) spins++;
  return spins;
}
