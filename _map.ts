// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `map`, which runs a task on every item of an array and resolves
 * to the results in input order. Items travel in chunks (one task each);
 * chunks of numbers travel as Float64Array.
 *
 * @module
 */

import { MODE_CHUNK, MODE_F64, MODE_WIRE } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";
import {
  estimateBytes,
  type Task,
  type TaskInit,
  type TaskSink,
} from "./_task.ts";
import { encodeValues } from "./_wire.ts";

/**
 * Whether a chunk is worth sending as a Float64Array: long enough, and every
 * item a number.
 */
function allNumbers(items: readonly unknown[]): boolean {
  if (items.length < 64) return false;
  for (let i = 0; i < items.length; i++) {
    if (typeof items[i] !== "number") return false;
  }
  return true;
}

/** What a chunk of `items`, starting at input index `offset`, carries. */
export function chunkInit(
  fnId: number,
  items: unknown[],
  offset: number,
  signal: AbortSignal | undefined,
): TaskInit {
  if (allNumbers(items)) {
    const numbers = Float64Array.from(items as number[]);
    return {
      fnId,
      payload: numbers,
      mode: MODE_CHUNK | MODE_F64,
      transfer: undefined,
      signal,
      offset,
      bytes: numbers.byteLength,
    };
  }
  const encoded = encodeValues(items);
  return {
    fnId,
    payload: encoded === undefined ? items : [encoded.values, encoded.paths],
    mode: encoded === undefined ? MODE_CHUNK : MODE_CHUNK | MODE_WIRE,
    transfer: encoded === undefined || encoded.transfer.length === 0
      ? undefined
      : encoded.transfer,
    signal,
    offset,
    bytes: estimateBytes(items),
  };
}

/** Collects the chunks of one `map` call. */
class MapState implements TaskSink {
  readonly results: unknown[];
  remaining = 0;
  readonly promise: Promise<unknown[]>;
  readonly tasks: Task[] = [];
  #resolve!: (results: unknown[]) => void;
  #reject!: (reason: unknown) => void;
  #failed = false;

  constructor(items: unknown[]) {
    // Overwritten in place: a packed array (see _worker_chunks.ts).
    this.results = items.slice();
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  settle(task: Task, ok: boolean, value: unknown): void {
    if (this.#failed) return;
    if (!ok) {
      this.#failed = true;
      this.#reject(value);
      return;
    }
    const values = value as ArrayLike<unknown>;
    const results = this.results;
    for (let i = 0; i < values.length; i++) {
      results[task.offset + i] = values[i];
    }
    if (--this.remaining === 0) this.#resolve(results);
  }
}

/**
 * Runs `fnId` on every item in chunks of `chunkSize`; resolves to the
 * results in order, or rejects with the first failure (and cancels the
 * chunks still pending).
 */
export async function map(
  scheduler: Scheduler,
  fnId: number,
  items: unknown[],
  chunkSize: number,
  signal: AbortSignal | undefined,
): Promise<unknown[]> {
  const n = items.length;
  if (n === 0) return [];
  const state = new MapState(items);
  for (let offset = 0; offset < n; offset += chunkSize) {
    const end = Math.min(n, offset + chunkSize);
    const chunk = offset === 0 && end === n ? items : items.slice(offset, end);
    state.tasks.push(
      scheduler.task(chunkInit(fnId, chunk, offset, signal), state, undefined),
    );
  }
  state.remaining = state.tasks.length;
  for (const task of state.tasks) scheduler.submit(task, false);
  try {
    return await state.promise;
  } catch (error) {
    for (const task of state.tasks) scheduler.cancel(task, error);
    throw error;
  }
}
