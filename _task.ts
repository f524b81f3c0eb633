// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one unit of work as the scheduler tracks it: a `run`/`submit`
 * call, or a chunk of a `map`/`imap`.
 *
 * ```text
 *   waiting --admit--> queued --dispatch--> held --settle--> settled
 *      |                 ^                   |
 *      |                 `-----requeue-------'   (taken back unstarted)
 *      `----------------------settle-------------------------^
 * ```
 *
 * - `waiting`: accepted, waiting for room in a full queue (`maxQueue`); it
 *   is a node of the backpressure list.
 * - `queued`: in the scheduler's queue.
 * - `held`: sent to exactly one worker (`worker`), at place `seq` of that
 *   worker's control block.
 * - `settled`: its outcome went to its sink, once. A settled task may still
 *   be held (a cancelled task that runs on until it sees the abort): the
 *   worker handle forgets it when the worker answers or dies.
 *
 * Only the scheduler changes `state`, through its transition functions.
 *
 * @module
 */

import { ListNode } from "./_list.ts";
import type { WorkerHandle } from "./_worker_handle.ts";

/** A task's lifecycle state. */
export type TaskState = "waiting" | "queued" | "held" | "settled";

/** How a settled task ended, for the stats. */
export type Outcome = "completed" | "failed" | "cancelled";

/** Receives a task's outcome, once. */
export interface TaskSink {
  settle(task: Task, ok: boolean, value: unknown): void;
}

/** What a task carries to its worker. */
export interface TaskInit {
  readonly fnId: number;
  readonly payload: unknown;
  readonly mode: number;
  readonly transfer: Transferable[] | undefined;
  readonly signal: AbortSignal | undefined;
  /** For a chunk, the input index of its first item. */
  readonly offset: number;
  /** A rough size of the payload in bytes (see `estimateBytes`). */
  readonly bytes: number;
}

/**
 * What few tasks carry: kept apart so that the many tiny calls in flight at
 * once weigh less (see `Task`).
 */
interface TaskExtra {
  readonly transfer: Transferable[] | undefined;
  readonly signal: AbortSignal | undefined;
  readonly offset: number;
  onAbort: ((task: Task) => void) | undefined;
}

/**
 * A task. Every field costs 8 bytes in every task in flight (a burst of tiny
 * calls holds 100,000 at once), and the garbage collector pays for what they
 * retain (a third of the main thread's time under 100k tiny calls). So what
 * few tasks carry (`transfer`, `signal`, a chunk's `offset`) sits in one
 * `extra` object, and `queuedAt` is a tagged field: the one clock reading a
 * burst shares is not boxed anew in each task.
 */
export class Task extends ListNode {
  state: TaskState = "queued";
  /** The id in the wire protocol (a positive int32), for `currentTask().id`. */
  readonly id: number;
  readonly fnId: number;
  readonly payload: unknown;
  readonly mode: number;
  /** A rough size of the payload in bytes (see `estimateBytes`). */
  readonly bytes: number;
  readonly sink: TaskSink;
  /** Whatever the sink needs to route the outcome (a resolver, a slot). */
  readonly tag: unknown;
  /** The worker holding it, while `held`. */
  worker: WorkerHandle | undefined = undefined;
  /** Its place in its worker's control block, while `held`. */
  seq = -1;
  /** How many times it was sent to a worker. */
  sends = 0;
  /** When it entered the queue (performance.now()); set by the queue. */
  queuedAt: number | undefined = undefined;
  /** How long it ran in its worker, once it has; -1 before. */
  runTimeMs = -1;
  readonly #extra: TaskExtra | undefined;

  constructor(
    id: number,
    init: TaskInit,
    sink: TaskSink,
    tag: unknown,
    onAbort: (task: Task) => void,
  ) {
    super();
    this.id = id;
    this.fnId = init.fnId;
    this.payload = init.payload;
    this.mode = init.mode;
    this.bytes = init.bytes;
    this.sink = sink;
    this.tag = tag;
    const { transfer, signal, offset } = init;
    this.#extra = transfer === undefined && signal === undefined && offset === 0
      ? undefined
      : { transfer, signal, offset, onAbort };
    if (signal !== undefined) {
      signal.addEventListener("abort", this, { once: true });
    }
  }

  /** Transferables that go with the payload (moved, not copied). */
  get transfer(): Transferable[] | undefined {
    return this.#extra?.transfer;
  }

  /** The call's signal, if it has one. */
  get signal(): AbortSignal | undefined {
    return this.#extra?.signal;
  }

  /** For a chunk, the input index of its first item. */
  get offset(): number {
    return this.#extra?.offset ?? 0;
  }

  /** The abort listener (an object listener: no closure per task). */
  handleEvent(): void {
    this.#extra?.onAbort?.(this);
  }

  /**
   * Delivers the outcome, once; the scheduler calls this from its settle
   * transition only.
   *
   * @returns `false` if the task had settled already.
   */
  deliver(ok: boolean, value: unknown): boolean {
    if (this.state === "settled") return false;
    this.state = "settled";
    const extra = this.#extra;
    if (extra !== undefined) {
      extra.onAbort = undefined;
      extra.signal?.removeEventListener("abort", this);
    }
    this.sink.settle(this, ok, value);
    return true;
  }
}

/**
 * A rough, cheap size of a payload in bytes: what copying it costs, for
 * deciding whether moving it to another worker pays. Looks one level deep.
 */
export function estimateBytes(payload: unknown): number {
  if (ArrayBuffer.isView(payload)) return payload.byteLength;
  if (!Array.isArray(payload)) return 16;
  let bytes = 0;
  for (let i = 0; i < payload.length; i++) {
    const value: unknown = payload[i];
    if (typeof value === "string") bytes += 16 + value.length * 2;
    else if (typeof value !== "object" || value === null) bytes += 16;
    else if (ArrayBuffer.isView(value)) bytes += value.byteLength;
    else if (value instanceof ArrayBuffer) bytes += value.byteLength;
    else if (Array.isArray(value)) bytes += 16 + value.length * 16;
    else bytes += 64;
  }
  return bytes;
}
