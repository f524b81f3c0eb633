// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `map`, `imap` and `imapUnordered` of a {@linkcode ClusterPool},
 * as chunks sent through its {@linkcode Caller}. A chunk is one call (one
 * message, one slot of `maxInFlight`); a worker process runs it with its
 * local pool's `map`, which spreads it over its threads. Lists of numbers
 * travel as `Float64Array`, both ways.
 *
 * @module
 */

import { RingBuffer } from "../_ring_buffer.ts";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import { packItems, unpackItems } from "./_frames.ts";
import { type Call, type Caller, ChunkTooLarge, type Sink } from "./_caller.ts";

/**
 * The default chunk of a `map` over `n` items: 32 chunks, 1 to 32768 items
 * each (a chunk over {@linkcode CHUNK_BYTES} is split).
 */
export function mapChunk(n: number): number {
  return Math.max(1, Math.min(32768, Math.ceil(n / 32)));
}

/** The most bytes a `map` chunk of many items takes; larger ones are halved. */
const CHUNK_BYTES = 512 * 1024;

function unpacked(value: unknown, expected: number): unknown[] {
  const items = unpackItems(value);
  if (items === undefined || items.length !== expected) {
    throw new TypeError(
      `Cannot use a map result as it holds ${
        items?.length ?? "no"
      } results for ${expected} items`,
    );
  }
  return items;
}

/** Runs every item in chunks; resolves to the results in input order. */
export function clusterMap(
  caller: Caller,
  task: string,
  items: readonly unknown[],
  chunkSize: number,
  signal: AbortSignal | undefined,
): Promise<unknown[]> {
  const results = new Array<unknown>(items.length);
  if (items.length === 0) return Promise.resolve(results);
  const { promise, resolve, reject } = Promise.withResolvers<unknown[]>();
  const calls: Call[] = [];
  let left = Math.ceil(items.length / chunkSize);
  let failed = false;
  const fail = (reason: unknown) => {
    if (failed) return;
    failed = true;
    signal?.removeEventListener("abort", onAbort);
    for (const call of calls) caller.cancel(call, reason);
    reject(reason);
  };
  const onAbort = () => fail(signal?.reason);
  const send = (start: number, end: number): void => {
    const chunk = items.slice(start, end);
    const sink: Sink = (ok, value) => {
      if (failed) return;
      if (!ok) return fail(value);
      try {
        const out = unpacked(value, chunk.length);
        for (let i = 0; i < out.length; i++) results[start + i] = out[i];
      } catch (error) {
        return fail(error);
      }
      if (--left === 0) {
        signal?.removeEventListener("abort", onAbort);
        resolve(results);
      }
    };
    try {
      const budget = chunk.length > 1 ? CHUNK_BYTES : undefined;
      calls.push(
        caller.call(task, "map", [packItems(chunk)], sink, undefined, budget),
      );
    } catch (error) {
      if (!(error instanceof ChunkTooLarge)) return fail(error);
      const middle = start + (chunk.length >> 1);
      left++;
      send(start, middle);
      if (!failed) send(middle, end);
    }
  };
  for (let start = 0; start < items.length && !failed; start += chunkSize) {
    send(start, Math.min(items.length, start + chunkSize));
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/** The options `imap` takes, checked. */
export interface IMapConfig {
  chunkSize: number | undefined;
  maxInFlight: number;
  signal: AbortSignal | undefined;
  ordered: boolean;
}

interface Slot {
  call: Call | undefined;
  done: boolean;
  ok: boolean;
  value: unknown;
  size: number;
}

/** Aims for about 10 ms of work per chunk, growing at most 4x a step. */
function adaptChunk(current: number, items: number, runMs: number): number {
  const perItem = runMs / Math.max(1, items);
  const target = perItem <= 0 ? 4096 : Math.floor(10 / perItem);
  return Math.max(1, Math.min(4096, target, current * 4));
}

/**
 * Streams chunks of a (possibly endless, possibly async) source through the
 * caller, at most `maxInFlight` chunks read and not yet yielded. Without a
 * fixed `chunkSize`, chunks start at one item and adapt to the run time
 * workers report: about 10 ms of work each, up to 4096 items. An async
 * source is read beside the consumer: results already computed are yielded
 * while the source pauses, a signal interrupts the wait for it, and without
 * a fixed `chunkSize` each item it gives goes at once.
 */
export async function* clusterImap(
  caller: Caller,
  task: string,
  source: Iterator<unknown> | AsyncIterator<unknown>,
  config: IMapConfig,
): AsyncGenerator<unknown, void, undefined> {
  const { signal, maxInFlight, ordered } = config;
  const isAsync = typeof (source as AsyncIterableIterator<unknown>)[
    Symbol.asyncIterator
  ] === "function";
  let chunk = config.chunkSize ?? 1;
  const order = new RingBuffer<Slot>();
  const ready = new RingBuffer<Slot>();
  const open = new Set<Slot>();
  let exhausted = false;
  let partial: unknown[] = [];
  /** A read of an async source under way. */
  let pulling = false;
  let sourceFailed: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort, { once: true });
  const room = () =>
    (ordered ? order.length : open.size + ready.length) < maxInFlight;
  const send = (items: unknown[]) => {
    const slot: Slot = {
      call: undefined,
      done: false,
      ok: true,
      value: undefined,
      size: items.length,
    };
    slot.call = caller.call(
      task,
      "map",
      [packItems(items)],
      (ok, value, runMs) => {
        open.delete(slot);
        slot.done = true;
        slot.ok = ok;
        slot.value = value;
        if (ok && config.chunkSize === undefined && runMs !== undefined) {
          chunk = adaptChunk(chunk, slot.size, runMs);
        }
        if (!ordered) ready.push(slot);
        wake?.();
      },
      undefined,
    );
    if (!slot.done) open.add(slot);
    if (ordered) order.push(slot);
  };
  const pull = () => {
    pulling = true;
    Promise.resolve((source as AsyncIterator<unknown>).next()).then(
      (step) => {
        pulling = false;
        if (step.done) exhausted = true;
        else partial.push(step.value);
        wake?.();
      },
      (error) => {
        pulling = false;
        sourceFailed = { error };
        wake?.();
      },
    );
  };
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (sourceFailed !== undefined) throw sourceFailed.error;
      const accepting = caller.state === "open" ||
        caller.state === "connecting";
      if (isAsync) {
        const full = partial.length >= chunk || config.chunkSize === undefined;
        if (partial.length > 0 && (full || exhausted) && accepting) {
          send(partial);
          partial = [];
        }
        if (!exhausted && !pulling && room() && accepting) pull();
      } else {
        while (!exhausted && room() && accepting) {
          const items: unknown[] = [];
          while (items.length < chunk) {
            const step = (source as Iterator<unknown>).next();
            if (step.done) {
              exhausted = true;
              break;
            }
            items.push(step.value);
          }
          if (items.length > 0) send(items);
        }
      }
      const next = ordered
        ? (order.peek()?.done ? order.shift() : undefined)
        : ready.shift();
      if (next !== undefined) {
        if (!next.ok) throw next.value;
        yield* unpacked(next.value, next.size);
        continue;
      }
      if (open.size === 0 && !pulling) {
        if (exhausted && partial.length === 0) return;
        if (!accepting) {
          throw new PoolClosedError(
            "Cannot read more items as the pool is closing",
          );
        }
      }
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    const reason = signal?.aborted
      ? signal.reason
      : new DOMException("The iteration ended early", "AbortError");
    for (const slot of open) {
      if (slot.call !== undefined) caller.cancel(slot.call, reason);
    }
    if (!exhausted) {
      // Not awaited: an async source may be inside a next() that never ends.
      try {
        Promise.resolve(source.return?.()).catch(() => {});
      } catch {
        // The source's own problem.
      }
    }
  }
}
