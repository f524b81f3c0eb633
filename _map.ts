// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `map`, which runs a task on every item of an array and resolves
 * to the results in input order. Items travel in chunks (one task each);
 * chunks of numbers travel as Float64Array.
 *
 * @module
 */

import { MODE_CHUNK, MODE_F64, MODE_STAR, MODE_WIRE } from "./_protocol.ts";
import type { Scheduler } from "./_scheduler.ts";
import {
  estimateBytes,
  type Task,
  type TaskInit,
  type TaskSink,
} from "./_task.ts";
import { encodeValues } from "./_wire.ts";
import { describe } from "./errors/_describe.ts";

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

/** How a `map`, `starmap` or `imap` sends its items, beyond their chunking. */
export interface ChunkHow {
  /** Items are argument lists, spread into the call (`starmap`). */
  star: boolean;
  /** What each item moves to the worker instead of copying. */
  transfer: ((item: never) => readonly Transferable[]) | undefined;
  label: string;
}

const PLAIN: ChunkHow = { star: false, transfer: undefined, label: "map" };

/** The transferables the user's `transfer` option names for `items`. */
function itemTransfers(
  items: unknown[],
  offset: number,
  how: ChunkHow,
): Transferable[] {
  const out: Transferable[] = [];
  const pick = how.transfer as (item: unknown) => readonly Transferable[];
  for (let i = 0; i < items.length; i++) {
    const list = pick(items[i]);
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot ${how.label} as 'transfer' returned ${
          describe(list)
        } for item ${offset + i}: it must return an array of transferables`,
      );
    }
    for (const object of list) out.push(object as Transferable);
  }
  return out;
}

/**
 * What a chunk of `items`, starting at input index `offset`, carries.
 *
 * @throws {TypeError} If the `transfer` option returns something other
 *   than an array for an item.
 */
export function chunkInit(
  fnId: number,
  items: unknown[],
  offset: number,
  signal: AbortSignal | undefined,
  how: ChunkHow = PLAIN,
): TaskInit {
  if (!how.star && allNumbers(items)) {
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
  let transfer = encoded === undefined || encoded.transfer.length === 0
    ? undefined
    : encoded.transfer;
  if (how.transfer !== undefined) {
    const moved = itemTransfers(items, offset, how);
    if (moved.length > 0) transfer = [...(transfer ?? []), ...moved];
  }
  const mode = MODE_CHUNK | (how.star ? MODE_STAR : 0);
  return {
    fnId,
    payload: encoded === undefined ? items : [encoded.values, encoded.paths],
    mode: encoded === undefined ? mode : mode | MODE_WIRE,
    transfer,
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

  readonly #onProgress: MapProgress | undefined;
  #done = 0;

  constructor(items: unknown[], onProgress: MapProgress | undefined) {
    this.#onProgress = onProgress;
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
    if (this.#onProgress !== undefined) {
      this.#done += values.length;
      try {
        this.#onProgress(this.#done, results.length);
      } catch (error) {
        this.#failed = true;
        this.#reject(error);
        return;
      }
    }
    if (--this.remaining === 0) this.#resolve(results);
  }
}

/** An item this big (bytes) makes a chunk of few items. */
const BIG_ITEM_BYTES = 16 * 1024;
/** What a chunk of big items weighs at most (unless one item is bigger). */
const BIG_CHUNK_BYTES = 1024 * 1024;

/** About how many bytes an item weighs, from a few samples. */
function itemBytes(items: readonly unknown[]): number {
  const n = items.length;
  const samples = [items[0], items[n >> 1], items[n - 1]];
  return estimateBytes(samples) / samples.length;
}

/** A chunk of items known to take time runs about this long (ms). */
const CHUNK_MS = 1;

/**
 * The number of items in each chunk of a `map` over `items`, by guided
 * self-scheduling: each chunk takes a share of what remains
 * (`remaining / (2 * workers)`), so chunks start large (few messages) and
 * shrink toward the end, where small chunks keep every worker busy until
 * the last item. Chunks never shrink below 1/32nd of a worker's even share.
 * Once the function's time per item is known (`perItemMs`, from its earlier
 * runs; 0 if unknown), a chunk holds at most `CHUNK_MS` of work: items of a
 * millisecond or more go one by one, so one chunk of costly items cannot
 * hold up the end. Big items (typed arrays of many kilobytes, say) go one
 * or a few at a time, so they can be dealt to whichever worker is free.
 */
export function chunkSizes(
  items: readonly unknown[],
  workers: number,
  perItemMs = 0,
): number[] {
  const n = items.length;
  const bytes = n === 0 ? 0 : itemBytes(items);
  let most = bytes >= BIG_ITEM_BYTES
    ? Math.max(1, Math.floor(BIG_CHUNK_BYTES / bytes))
    : Infinity;
  if (perItemMs > 0) {
    most = Math.min(most, Math.max(1, Math.floor(CHUNK_MS / perItemMs)));
  }
  const smallest = Math.min(most, Math.max(1, Math.ceil(n / (32 * workers))));
  const sizes: number[] = [];
  for (let remaining = n; remaining > 0;) {
    const share = Math.ceil(remaining / (2 * workers));
    const size = Math.min(remaining, most, Math.max(smallest, share));
    sizes.push(size);
    remaining -= size;
  }
  return sizes;
}

/** Called as items complete: how many, of how many (when known). */
export type MapProgress = (done: number, total: number | undefined) => void;

/** A `map` or `starmap` call's options, checked. */
export interface MapConfig extends ChunkHow {
  chunkSize: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: MapProgress | undefined;
}

/**
 * Runs `fnId` on every item in chunks (of `chunkSize` items each, or as
 * `chunkSizes` says); resolves to the results in order, or rejects with the
 * first failure (and cancels the chunks still pending).
 *
 * @throws {TypeError} (rejects) If `transfer` misbehaves for an item.
 */
export async function map(
  scheduler: Scheduler,
  fnId: number,
  items: unknown[],
  config: MapConfig,
): Promise<unknown[]> {
  const n = items.length;
  if (n === 0) return [];
  const { chunkSize, signal } = config;
  const state = new MapState(items, config.onProgress);
  const sizes = chunkSize === undefined
    ? chunkSizes(items, scheduler.config.size, scheduler.fns.perItemMs(fnId))
    : undefined;
  // Every chunk is made before any task, so a bad `transfer` leaves none.
  const inits: TaskInit[] = [];
  for (let offset = 0, k = 0; offset < n; k++) {
    const end = Math.min(n, offset + (sizes?.[k] ?? chunkSize as number));
    const chunk = offset === 0 && end === n ? items : items.slice(offset, end);
    inits.push(chunkInit(fnId, chunk, offset, signal, config));
    offset = end;
  }
  for (const init of inits) {
    state.tasks.push(scheduler.task(init, state, undefined));
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
