// Copyright the @seed/concurrency authors. MIT license.
// Internal: one unit of work as the scheduler tracks it.

import type { WorkerHandle } from "./_worker_handle.ts";

export const QUEUED = 0;
export const DISPATCHED = 1;
export const DONE = 2;

/** Receives a task's outcome, once. */
export interface TaskSink {
  settle(task: Task, ok: boolean, value: unknown): void;
}

export class Task {
  /** The id in the wire protocol (a positive int32). */
  readonly id: number;
  readonly fnId: number;
  payload: unknown[];
  readonly mode: number;
  readonly transfer: Transferable[] | undefined;
  readonly signal: AbortSignal | undefined;
  readonly sink: TaskSink;
  /** Whatever the sink needs to route the outcome (a resolver, an index). */
  readonly tag: unknown;
  state: number = QUEUED;
  worker: WorkerHandle | undefined = undefined;
  enqueuedAt = 0;
  /** Its place in its worker's queue (the worker's n-th task). */
  seq = 0;
  /** How long it ran in its worker, once it has; -1 before. */
  runTimeMs = -1;
  #cancel: ((task: Task, reason: unknown) => void) | undefined;

  constructor(
    id: number,
    fnId: number,
    payload: unknown[],
    mode: number,
    transfer: Transferable[] | undefined,
    signal: AbortSignal | undefined,
    sink: TaskSink,
    tag: unknown,
    cancel: (task: Task, reason: unknown) => void,
  ) {
    this.id = id;
    this.fnId = fnId;
    this.payload = payload;
    this.mode = mode;
    this.transfer = transfer;
    this.signal = signal;
    this.sink = sink;
    this.tag = tag;
    this.#cancel = cancel;
    if (signal !== undefined) {
      signal.addEventListener("abort", this, { once: true });
    }
  }

  /** The abort listener (an object listener: no closure per task). */
  handleEvent(): void {
    this.#cancel?.(this, this.signal?.reason);
  }

  /** Settles once; returns false if the task had settled already. */
  settle(ok: boolean, value: unknown): boolean {
    if (this.state === DONE) return false;
    this.state = DONE;
    this.#cancel = undefined;
    this.signal?.removeEventListener("abort", this);
    this.sink.settle(this, ok, value);
    return true;
  }
}
