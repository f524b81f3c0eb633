// Copyright the @seed/concurrency authors. MIT license.
// The task module of the examples: each exported function is a pool task.
import { currentTask, transfer } from "../task.ts";

/** The notebook's `worker_function` / `square`. */
export function square(x: number): number {
  return x * x;
}

/** The notebook's `factorial`, exact for any size with BigInt. */
export function factorial(n: number): bigint {
  let result = 1n;
  for (let i = 2n; i <= BigInt(n); i++) result *= i;
  return result;
}

/** The id of the process the task runs in: this one, or a child's. */
export function pid(): number {
  return Deno.pid;
}

/**
 * The notebook's failing `process_function`, with a cause and a field, to
 * show that they cross to the caller with the error's class and message.
 */
export function failing(): never {
  throw new ValueError("An error occurred", {
    cause: new RangeError("-1 is below the smallest value allowed, 0"),
    value: -1,
  });
}

/** Python's `ValueError`, to show a custom error crossing the boundary. */
export class ValueError extends Error {
  override name = "ValueError";
  /** The value that was refused. */
  value: unknown;

  /**
   * @param message What is wrong.
   * @param options The `cause`, and the `value` that was refused.
   */
  constructor(message: string, options?: ErrorOptions & { value?: unknown }) {
    super(message, options);
    this.value = options?.value;
  }
}

/** Makes `n` bytes and moves them to the caller without a copy. */
export function makeBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n).fill(1);
  return transfer(bytes, [bytes.buffer]);
}

/**
 * Counts primes below `limit` with a CPU-bound loop that checks for
 * cancellation, as a synchronous task must (see `currentTask`).
 */
export function countPrimes(limit: number): number {
  const task = currentTask();
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if ((n & 1023) === 0) task.throwIfAborted();
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** Spins for about `ms` milliseconds of CPU time and returns `x`. */
export function burn(x: number, ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
  return x;
}
