// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: `imap` and `imapUnordered`, which run a task on every item of a
 * (possibly endless, possibly async) iterable and yield results in input
 * order or as they complete.
 *
 * - **Bounded**: at most `maxInFlight` chunks read and not yet yielded.
 * - **Never held back**: the source is read beside the consumer, not before
 *   it, so a result already computed is yielded while the source pauses, and
 *   the `signal` interrupts a wait for the source.
 * - **Close**: when the pool starts closing, no more input is read; the
 *   chunks already sent finish and are yielded, then the iteration throws
 *   `PoolClosedError` (the input had not ended).
 * - **Early exit**: `break` (or `return()`) cancels the chunks in flight and
 *   closes the source.
 *
 * @module
 */

import { type ChunkHow, chunkInit, type MapProgress } from "./_map.ts";
import { RingBuffer } from "./_ring_buffer.ts";
import type { Scheduler } from "./_scheduler.ts";
import type { Task, TaskInit, TaskSink } from "./_task.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";

/** The options `imap` takes, checked. */
export interface IMapConfig extends ChunkHow {
  fixedChunk: number | undefined;
  maxInFlight: number;
  signal: AbortSignal | undefined;
  ordered: boolean;
  onProgress: MapProgress | undefined;
  /** The number of items, when the input says (an array). */
  total: number | undefined;
}

/** One chunk read from the source. */
class Slot {
  task: Task | undefined = undefined;
  done = false;
  ok = true;
  value: unknown = undefined;
  runTimeMs = -1;
  readonly items: number;
  constructor(items: number) {
    this.items = items;
  }
}

type Phase = "running" | "closing" | "done";

function adaptChunk(current: number, items: number, runTimeMs: number): number {
  // Aim for about a millisecond of work per chunk.
  const perItem = runTimeMs / Math.max(1, items);
  const target = perItem <= 0 ? 4096 : Math.floor(1 / perItem);
  return Math.max(1, Math.min(1024, target, current * 4));
}

/** The iterator `imap` returns; it is also the sink of its chunks. */
export class IMapRun implements AsyncIterableIterator<unknown>, TaskSink {
  readonly #scheduler: Scheduler;
  readonly #fnId: number;
  readonly #config: IMapConfig;
  readonly #source: Iterator<unknown> | AsyncIterator<unknown>;
  readonly #isAsync: boolean;
  #phase: Phase = "running";
  #exhausted = false;
  #pulling = false;
  #read = 0;
  #chunkSize: number;
  #partial: unknown[] = [];
  /** Chunks sent and not yet taken, in input order (imap). */
  readonly #slots = new RingBuffer<Slot>();
  /** Chunks sent and not yet done. */
  readonly #inFlight = new Set<Slot>();
  /** Chunks done, in completion order (imapUnordered). */
  readonly #ready = new RingBuffer<Slot>();
  #open = 0;
  /** Items completed, for `onProgress`. */
  #done = 0;
  #current: ArrayLike<unknown> = [];
  #index = 0;
  #error: { reason: unknown } | undefined = undefined;
  #wake: (() => void) | undefined = undefined;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #stopListening: () => void;

  constructor(
    scheduler: Scheduler,
    fnId: number,
    source: Iterator<unknown> | AsyncIterator<unknown>,
    isAsync: boolean,
    config: IMapConfig,
  ) {
    this.#scheduler = scheduler;
    this.#fnId = fnId;
    this.#source = source;
    this.#isAsync = isAsync;
    this.#config = config;
    this.#chunkSize = config.fixedChunk ?? 1;
    const onAbort = () => this.#fail(config.signal?.reason);
    config.signal?.addEventListener("abort", onAbort, { once: true });
    const stopClosing = scheduler.onClosing(() => {
      if (this.#phase === "running") this.#phase = "closing";
      this.#notify();
    });
    this.#stopListening = () => {
      config.signal?.removeEventListener("abort", onAbort);
      stopClosing();
    };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    // One step at a time, whoever calls.
    const step = this.#turn.then(() => this.#step());
    this.#turn = step.catch(() => {});
    return step;
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    this.#finish(new DOMException("The iteration ended", "AbortError"));
    return Promise.resolve({ value, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<unknown>> {
    this.#finish(error);
    return Promise.reject(error);
  }

  settle(task: Task, ok: boolean, value: unknown): void {
    const slot = task.tag as Slot;
    slot.done = true;
    slot.ok = ok;
    slot.value = value;
    slot.runTimeMs = task.runTimeMs;
    this.#inFlight.delete(slot);
    if (!this.#config.ordered) this.#ready.push(slot);
    const onProgress = this.#config.onProgress;
    if (ok && onProgress !== undefined) {
      this.#done += slot.items;
      try {
        onProgress(this.#done, this.#config.total);
      } catch (error) {
        this.#fail(error);
      }
    }
    this.#notify();
  }

  async #step(): Promise<IteratorResult<unknown>> {
    while (true) {
      if (this.#phase === "done") return { value: undefined, done: true };
      if (this.#error !== undefined) {
        const { reason } = this.#error;
        this.#finish(reason);
        throw reason;
      }
      if (this.#index < this.#current.length) {
        return { value: this.#current[this.#index++], done: false };
      }
      this.#fill();
      const slot = this.#takeReady();
      if (slot !== undefined) {
        if (!slot.ok) {
          this.#finish(slot.value);
          throw slot.value;
        }
        if (this.#config.fixedChunk === undefined && slot.runTimeMs >= 0) {
          this.#chunkSize = adaptChunk(
            this.#chunkSize,
            slot.items,
            slot.runTimeMs,
          );
        }
        this.#current = slot.value as ArrayLike<unknown>;
        this.#index = 0;
        continue;
      }
      if (this.#open === 0 && !this.#pulling) {
        if (this.#exhausted && this.#partial.length === 0) {
          this.#finish(undefined);
          return { value: undefined, done: true };
        }
        if (this.#phase === "closing") {
          const error = new PoolClosedError(
            `Cannot go on with ${this.#config.label} as the pool is closing: the input had not ended`,
          );
          this.#finish(error);
          throw error;
        }
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #takeReady(): Slot | undefined {
    let slot: Slot | undefined;
    if (this.#config.ordered) {
      if (this.#slots.peek()?.done) slot = this.#slots.shift();
    } else {
      slot = this.#ready.shift();
    }
    if (slot !== undefined) this.#open--;
    return slot;
  }

  /** Reads from the source while there is room, without waiting for it. */
  #fill(): void {
    while (
      this.#phase === "running" && this.#error === undefined &&
      !this.#exhausted && !this.#pulling &&
      this.#open < this.#config.maxInFlight
    ) {
      if (this.#isAsync) {
        this.#pullAsync();
        return;
      }
      let step: IteratorResult<unknown>;
      try {
        step = (this.#source as Iterator<unknown>).next();
      } catch (error) {
        this.#error = { reason: error };
        return;
      }
      this.#take(step);
    }
  }

  #pullAsync(): void {
    this.#pulling = true;
    let step: Promise<IteratorResult<unknown>>;
    try {
      step = Promise.resolve((this.#source as AsyncIterator<unknown>).next());
    } catch (error) {
      step = Promise.reject(error);
    }
    step.then((result) => {
      this.#pulling = false;
      if (this.#phase !== "done") this.#take(result);
      this.#notify();
    }, (error) => {
      this.#pulling = false;
      this.#error ??= { reason: error };
      this.#notify();
    });
  }

  /** Adds an item from the source; sends the chunk once it is full. */
  #take(step: IteratorResult<unknown>): void {
    if (step.done) this.#exhausted = true;
    else this.#partial.push(step.value);
    const full = this.#partial.length >= this.#chunkSize ||
      (this.#isAsync && this.#config.fixedChunk === undefined);
    if (this.#partial.length > 0 && (full || this.#exhausted)) this.#send();
  }

  #send(): void {
    const items = this.#partial;
    this.#partial = [];
    if (this.#phase !== "running" || this.#scheduler.state !== "open") {
      this.#phase = this.#phase === "done" ? "done" : "closing";
      return;
    }
    let init: TaskInit;
    try {
      init = chunkInit(
        this.#fnId,
        items,
        this.#read,
        this.#config.signal,
        this.#config,
      );
    } catch (error) {
      return this.#fail(error);
    }
    const slot = new Slot(items.length);
    this.#read += items.length;
    const task = this.#scheduler.task(init, this, slot);
    slot.task = task;
    if (this.#config.ordered) this.#slots.push(slot);
    this.#inFlight.add(slot);
    this.#open++;
    this.#scheduler.submit(task, false);
  }

  #fail(reason: unknown): void {
    this.#error ??= { reason };
    this.#notify();
  }

  /** Ends the iteration: cancels what is in flight, closes the source. */
  #finish(reason: unknown): void {
    if (this.#phase === "done") return;
    this.#phase = "done";
    this.#stopListening();
    const cancel = reason ??
      new DOMException("The iteration ended", "AbortError");
    for (const slot of [...this.#inFlight]) {
      if (slot.task !== undefined) this.#scheduler.cancel(slot.task, cancel);
    }
    this.#slots.drain();
    this.#ready.drain();
    this.#current = [];
    if (!this.#exhausted) {
      // Not awaited: an async source may be inside a next() that never ends.
      try {
        Promise.resolve(this.#source.return?.()).catch(() => {});
      } catch {
        // The source's own problem.
      }
    }
    this.#notify();
  }
}
