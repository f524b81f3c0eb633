// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the run loop inside a pool worker. It takes the tasks it is sent
 * in order, claims each in the control block before it starts (a task the
 * pool took back is skipped), runs it, and sends results back in batches.
 *
 * **When results go.** A finished task's result must never wait behind a
 * long task, yet tiny tasks are cheap only if their results travel together.
 * - A number, boolean, `undefined` or `null` result goes into the control
 *   block's result ring (see `_control.ts`), which the pool reads on any
 *   message from this worker and on its heartbeat, even while this worker is
 *   busy: it is never held back. The worker announces new records with a
 *   bare number when it runs out of tasks, when they are a millisecond old,
 *   and before a task of a function not known to be quick (each function's
 *   recent longest run is kept), so they usually arrive at once.
 * - Any other result goes in a message, and waits as ring results do: for a
 *   task not known to be quick, the millisecond rule, or the end of the
 *   tasks. A task that awaits sends what waits before it awaits, unless its
 *   function is known to be quick: then it goes at the next turn of this
 *   thread's event loop (the thread is free meanwhile). So tiny tasks, sync
 *   or async, that return strings or objects cost one message per batch,
 *   not one each (about 6x the throughput). The price: the pool cannot read
 *   a message while this worker is busy, so a function known to be quick
 *   that runs long on one item holds back the results before it (about a
 *   millisecond of them); that run makes it not quick for the next ones.
 * - A process worker has no ring: every result goes in a message, and also
 *   waits for the next claim (a window of about a millisecond of quick
 *   tasks, see `#claimWindow`).
 *
 * **What results carry.** Each result keeps its own transfer list, so one
 * result that cannot be sent (a bad `transfer()` list, a value that cannot be
 * cloned) fails its own call with a clear error and nothing else.
 *
 * @module
 */

import { type ControlBlock, ringKind } from "./_control.ts";
import { BURST_MS, NO_TASK } from "./_doorbell.ts";
import {
  ERROR,
  MODE_CALL,
  MODE_CHUNK,
  MODE_WIRE,
  NUM_FIELDS,
  OK,
  OK_WIRE,
  TASK_FIELDS,
  TASKS,
} from "./_protocol.ts";
import { RingBuffer } from "./_ring_buffer.ts";
import { encodeValues, type WirePath } from "./_wire.ts";
import { reviveValues } from "./_wire_revive.ts";
import type { FnRegistry } from "./_worker_fns.ts";
import { Outbox } from "./_worker_outbox.ts";
import { describe } from "./errors/_describe.ts";
import { serializeError } from "./errors/serialize_error.ts";
import type { TaskContext } from "./task.ts";
import { runChunk } from "./_worker_chunks.ts";

/** Sends a message to the pool on the private port. */
export type Send = (message: unknown, transfer?: Transferable[]) => void;

/**
 * Tells the pool that the tasks through seq `through` may start, and
 * resolves once it is sure to learn it even if this worker dies at once (a
 * process worker: the claim is in the kernel's socket buffer).
 */
export type Claim = (through: number) => Promise<void>;

/** How a worker thread parks and announces results (see `_doorbell.ts`). */
export interface Door {
  /** Parks a moment: a task's argument rung in meanwhile, or `NO_TASK`. */
  park(): unknown;
  /** Announces ring results to a waiting pool: `false` if none waited. */
  announce(): boolean;
  /** Waits for a bell without blocking (out of tasks, in the event loop). */
  listen(onRung: (value: unknown) => void): void;
}

/** How a runner's tasks start and end, beyond the control block. */
export interface RunnerHooks {
  /**
   * For a process worker: how tasks are claimed before they start (see
   * `docs/process_mode.md`). A thread's claim is the control block's
   * compare-and-swap alone.
   */
  claim?: Claim;
  /** For a worker thread: its doorbell. */
  door?: Door;
}

const kTransfer = Symbol.for("@seed/concurrency/transfer");
const now = performance.now.bind(performance);
// Captured before task code runs, which may replace them. (Not setTimeout:
// its first use in a worker costs about 9 ms, as Deno loads its Node-style
// timers then, and every worker would pay it at start.)
const Channel = MessageChannel;
const portPost = MessagePort.prototype.postMessage;
/** The oldest a result may get in the outbox, in ms. */
const MAX_BATCH_MS = 1;
/** A function whose every run took less than this is quick, in ms. */
const QUICK_MS = 0.5;
/** The most tasks of quick functions one claim covers (and ~1 ms of them). */
const CLAIM_WINDOW = 1024;

export class Runner {
  readonly #control: ControlBlock;
  readonly #fns: FnRegistry;
  readonly #claim: Claim | undefined;
  readonly #door: Door | undefined;
  /** Whether the last task came alone (park after it). */
  #sequential = false;
  /** The last seq claimed (process workers). */
  #claimed = -1;
  /** The last seq started. */
  #started = -1;
  /** Whether it takes no more tasks (a dying process worker). */
  #halted = false;
  /** TASKS messages, each with the seq of its first record in slot 1. */
  readonly #inbox = new RingBuffer<unknown[]>();
  #cursor = 2;
  #received = 0;
  #running = false;
  /** Whether a flush is due at the next turn (see `#flushSoon`). */
  #flushDue = false;
  /** Posts to this thread's next turn (made at first need). */
  #turn: MessagePort | undefined = undefined;
  /**
   * When the last task ended while the loop runs tasks back to back without
   * yielding or posting, else -1: the next task's start, so a task costs one
   * clock read, not two (a read is an op, about 0.4 µs: a fifth of a tiny
   * task's time in the worker). A run time then includes the loop's step
   * between two tasks, well under a microsecond.
   */
  #clock = -1;
  /** The running task's seq and id; -1 and 0 between tasks. */
  #seq = -1;
  #id = 0;
  #controller: AbortController | undefined = undefined;
  #reason: unknown = undefined;
  /**
   * Each function's recent longest run, in ms: the longest run so far,
   * halved at each run that is shorter, so one slow run (a GC pause, the
   * first run before the JIT) is forgotten after a few quick ones.
   */
  readonly #longest = new Map<number, number>();
  readonly #outbox: Outbox;
  readonly context: TaskContext;

  constructor(
    control: ControlBlock,
    send: Send,
    fns: FnRegistry,
    hooks: RunnerHooks = {},
  ) {
    this.#control = control;
    this.#fns = fns;
    this.#claim = hooks.claim;
    this.#door = hooks.door;
    this.#outbox = new Outbox(control, send, fns, hooks.door);
    this.context = {
      get id() {
        return id();
      },
      get signal() {
        return signal();
      },
      get aborted() {
        return aborted();
      },
      throwIfAborted() {
        if (aborted()) throw reason();
      },
    };
    const id = () => this.#id;
    const signal = () => this.#signal();
    const aborted = () => this.#aborted();
    const reason = () => this.#abortReason();
  }

  /** Whether a task runs now (for `currentTask()`). */
  get active(): boolean {
    return this.#seq >= 0;
  }

  // ---- receiving ----------------------------------------------------------

  /** Takes a TASKS message: [TASKS, defs, ...(id, fnId, payload, mode)]. */
  receive(message: unknown[]): void {
    const first = this.#received;
    if (this.#halted) return;
    const count = (message.length - 2) / TASK_FIELDS;
    for (let k = 0; k < count; k++) this.#control.arrive(first + k);
    this.#received += count;
    // A lone task, too, is likely from a caller awaiting each call.
    this.#sequential = count === 1;
    if (count === 0) return;
    message[1] = first;
    this.#inbox.push(message);
    if (!this.#running) void this.#loop();
  }

  /**
   * Takes the tasks of a TASKS_NUM message (`_protocol.ts`), as the records
   * of a TASKS message: one layout for the loop to read.
   */
  receiveNumbers(records: Float64Array): void {
    const message: unknown[] = [TASKS, null];
    for (let at = 0; at < records.length; at += NUM_FIELDS) {
      message.push(
        records[at],
        records[at + 1],
        [records[at + 2]],
        MODE_CALL,
      );
    }
    this.receive(message);
  }

  /** Takes a task that came as a bare value (see `_protocol.ts`). */
  receiveFast(value: unknown): void {
    this.#takeFast(value);
    if (!this.#running) void this.#loop();
  }

  #takeFast(value: unknown): void {
    this.#sequential = true;
    const seq = this.#received++;
    this.#control.arrive(seq);
    this.#inbox.push([
      0,
      seq,
      this.#control.fastId,
      this.#control.fastFn,
      [value],
      MODE_CALL,
    ]);
  }

  /**
   * Answers task `seq`, which the pool cancelled before it started, with
   * `reason` (a process worker: the pool cannot take it back itself).
   */
  skip(seq: number, reason: unknown): void {
    this.#outbox.add(seq, ERROR, serializeError(reason), 0, undefined, 0);
    this.flush();
  }

  /** The pool cancelled task `seq`; aborts its signal if it is running. */
  abort(seq: number, reason: unknown): void {
    if (seq !== this.#seq) return;
    this.#reason = reason;
    if (this.#controller !== undefined && !this.#controller.signal.aborted) {
      this.#controller.abort(reason);
    }
  }

  // ---- the task context ---------------------------------------------------

  #aborted(): boolean {
    return this.#seq >= 0 && this.#control.cancelled(this.#seq);
  }

  #abortReason(): unknown {
    return this.#reason ??
      new DOMException("The task was cancelled", "AbortError");
  }

  #signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted()) this.#controller.abort(this.#abortReason());
    }
    return this.#controller.signal;
  }

  // ---- the loop -----------------------------------------------------------

  /**
   * Takes no more tasks (the worker is dying).
   *
   * @returns The last seq started: no task after it started, nor will.
   */
  halt(): number {
    this.#halted = true;
    return this.#started;
  }

  /**
   * Whether to park, out of tasks: after a task that came alone, in case
   * the next comes as soon (a caller awaiting each call; see
   * `_doorbell.ts`), but not for more than `BURST_MS` since the event loop
   * last turned, so timers and I/O of task code wait at most about that.
   */
  #mayPark(since: number): boolean {
    return this.#door !== undefined && this.#sequential && !this.#halted &&
      now() - since < BURST_MS;
  }

  /** Parks: whether a task was rung meanwhile. */
  #park(): boolean {
    if (this.#halted) return false;
    const value = (this.#door as Door).park();
    if (value === NO_TASK) return false;
    this.#takeFast(value);
    return true;
  }

  async #loop(): Promise<void> {
    this.#running = true;
    // When this thread last turned its event loop.
    const since = now();
    this.#clock = since;
    do {
      while (this.#inbox.length > 0 && !this.#halted) {
        const batch = this.#inbox.peek() as unknown[];
        const at = this.#cursor;
        const seq = (batch[1] as number) + (at - 2) / TASK_FIELDS;
        this.#cursor += TASK_FIELDS;
        if (this.#cursor >= batch.length) {
          this.#inbox.shift();
          this.#cursor = 2;
        }
        const fnId = batch[at + 1] as number;
        if (this.#claim !== undefined && seq > this.#claimed) {
          // A process worker: the pool must know before the task starts.
          this.#claimed = this.#claimWindow(batch, at, seq, fnId);
          this.flush();
          await this.#claim(this.#claimed);
          this.#clock = -1;
          if (this.#halted) break;
        }
        if (!this.#control.start(seq)) continue; // taken back by the pool
        this.#started = seq;
        // Results wait only for tasks known to be quick (or 1 ms).
        if (!this.#outbox.empty && !this.#isQuick(fnId)) this.flush();
        const pending = this.#run(
          seq,
          batch[at] as number,
          fnId,
          batch[at + 2],
          batch[at + 3] as number,
        );
        // Only a task that awaits costs an await here.
        if (pending !== undefined) {
          await pending;
          this.#clock = -1;
        }
      }
      this.flush();
      if (!this.#mayPark(since)) break;
      // What the last task queued runs first: a park blocks this thread.
      await null;
      this.#clock = -1;
      // Deno dispatches port messages from microtasks: one may have come.
    } while (this.#inbox.length > 0 || this.#park());
    this.#running = false;
    // Back to the event loop, where a call can still ring.
    if (this.#door !== undefined && !this.#halted) {
      this.#door.listen(this.#rung);
    }
  }

  readonly #rung = (value: unknown): void => this.receiveFast(value);

  /**
   * The last seq one claim covers from `seq` (at `at` in `batch`): the
   * tasks of quick functions that follow in the same message, up to about a
   * millisecond of their recent longest runs, so tiny tasks cost one claim
   * per window. Results wait for the next claim (see `#loop`), so a result
   * waits for at most its window. At a death, tasks claimed but not started
   * fail with the running one.
   */
  #claimWindow(batch: unknown[], at: number, seq: number, fnId: number) {
    let through = seq;
    if (!this.#isQuick(fnId)) return through;
    let ms = this.#longest.get(fnId) as number;
    for (
      let i = at + TASK_FIELDS;
      i < batch.length && through - seq < CLAIM_WINDOW;
      i += TASK_FIELDS
    ) {
      const longest = this.#longest.get(batch[i + 1] as number);
      if (longest === undefined || longest >= QUICK_MS) break;
      ms += longest;
      if (ms > MAX_BATCH_MS) break;
      through++;
    }
    return through;
  }

  #isQuick(fnId: number): boolean {
    const longest = this.#longest.get(fnId);
    return longest !== undefined && longest < QUICK_MS;
  }

  /**
   * Runs one task: synchronously to the end if it can, or returns a promise
   * of its end if it awaits (or its arguments must be revived first).
   */
  #run(
    seq: number,
    id: number,
    fnId: number,
    payload: unknown,
    mode: number,
  ): Promise<void> | undefined {
    this.#seq = seq;
    this.#id = id;
    this.#controller = undefined;
    this.#reason = undefined;
    const start = this.#clock >= 0 ? this.#clock : now();
    if ((mode & MODE_WIRE) !== 0) {
      this.flush();
      const [values, paths] = payload as [unknown[], WirePath[]];
      return reviveValues(values, paths).then(
        () => this.#call(seq, fnId, values, mode, start),
        (error) => this.#end(seq, fnId, mode, start, error, true),
      );
    }
    return this.#call(seq, fnId, payload, mode, start);
  }

  #call(
    seq: number,
    fnId: number,
    payload: unknown,
    mode: number,
    start: number,
  ): Promise<void> | undefined {
    let value: unknown;
    try {
      const fn = this.#fns.get(fnId);
      value = (mode & MODE_CHUNK) === 0
        ? fn.apply(this.context, payload as unknown[])
        : runChunk(fn, this.context, payload, mode);
    } catch (error) {
      this.#end(seq, fnId, mode, start, error, true);
      return undefined;
    }
    if (!isThenable(value)) {
      this.#end(seq, fnId, mode, start, value, false);
      return undefined;
    }
    // While it awaits, results wait for the next turn of the event loop;
    // those of a task that may take long go now.
    if (this.#isQuick(fnId)) this.#flushSoon();
    else this.flush();
    return Promise.resolve(value).then(
      (result) => this.#end(seq, fnId, mode, start, result, false),
      (error) => this.#end(seq, fnId, mode, start, error, true),
    );
  }

  /** Ends task `seq` with its result (or error) and puts it in the outbox. */
  #end(
    seq: number,
    fnId: number,
    mode: number,
    start: number,
    outcome: unknown,
    threw: boolean,
  ): void {
    let status = OK;
    let value = outcome;
    let transfer: Transferable[] | undefined;
    if (!threw) {
      try {
        if ((mode & MODE_CHUNK) !== 0) {
          if (value instanceof Float64Array) {
            transfer = [value.buffer as ArrayBuffer];
          }
        } else ({ value, transfer, status } = this.#prepare(value, fnId));
      } catch (error) {
        outcome = error;
        threw = true;
      }
    }
    if (threw) {
      status = ERROR;
      value = serializeError(this.#fns.explain(outcome, fnId));
      transfer = undefined;
    }
    this.#control.finish(seq);
    this.#seq = -1;
    this.#id = 0;
    const end = now();
    this.#clock = end;
    const ran = end - start;
    this.#longest.set(
      fnId,
      Math.max(ran, (this.#longest.get(fnId) ?? 0) / 2),
    );
    const outbox = this.#outbox;
    if (outbox.empty) outbox.since = start;
    const kind = status === OK && transfer === undefined &&
        (mode & MODE_CHUNK) === 0
      ? ringKind(value)
      : 0;
    if (kind !== 0 && this.#control.pushResult(seq, kind, value, ran)) {
      outbox.written();
    } else {
      const origin = (mode & MODE_CHUNK) !== 0 ? -fnId - 1 : fnId;
      outbox.add(seq, status, value, ran, transfer, origin);
    }
    if (end - outbox.since >= MAX_BATCH_MS || outbox.full) this.flush();
  }

  /** Unwraps `transfer()` and encodes library objects in a call's result. */
  #prepare(
    value: unknown,
    fnId: number,
  ): { value: unknown; transfer: Transferable[] | undefined; status: number } {
    if (typeof value !== "object" || value === null) {
      return { value, transfer: undefined, status: OK };
    }
    let transfer: Transferable[] | undefined;
    if ((value as Record<symbol, unknown>)[kTransfer] === true) {
      const wrapped = value as { value: unknown; transfer: unknown };
      transfer = checkTransferList(wrapped.transfer, this.#fns.label(fnId));
      value = wrapped.value;
    }
    const encoded = encodeValues([value]);
    if (encoded === undefined) return { value, transfer, status: OK };
    if (encoded.transfer.length > 0) {
      transfer = [...(transfer ?? []), ...encoded.transfer];
    }
    return {
      value: [encoded.values[0], encoded.paths],
      transfer,
      status: OK_WIRE,
    };
  }

  /** Sends every result waiting now (see `_worker_outbox.ts`). */
  flush(): void {
    this.#clock = -1;
    this.#outbox.flush();
  }

  /**
   * Flushes at the next turn of this thread's event loop (a task awaits, so
   * the thread is free): at once if what it awaits is I/O or a timer, and
   * after the next tasks if it awaits only promises already settled.
   */
  #flushSoon(): void {
    if (this.#flushDue || this.#outbox.empty) return;
    this.#flushDue = true;
    if (this.#turn === undefined) {
      const { port1, port2 } = new Channel();
      port1.onmessage = this.#dueFlush;
      this.#turn = port2;
    }
    portPost.call(this.#turn, null);
  }

  readonly #dueFlush = (): void => {
    this.#flushDue = false;
    this.flush();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Checks a `transfer()` list: each entry must be transferable and listed
 * once.
 *
 * @throws {TypeError} Naming the entry that is not.
 */
function checkTransferList(list: unknown, label: string): Transferable[] {
  if (!Array.isArray(list)) {
    throw new TypeError(
      `Cannot return the result of ${label} as its transfer list is not an array: received ${
        describe(list)
      }`,
    );
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    const ok = (item instanceof ArrayBuffer && !item.detached) ||
      item instanceof MessagePort || item instanceof ReadableStream ||
      item instanceof WritableStream || item instanceof TransformStream;
    if (!ok || seen.has(item)) {
      throw new TypeError(
        `Cannot return the result of ${label} as entry ${i} of its transfer list ${
          seen.has(item)
            ? "is listed twice"
            : `(${describe(item)}) cannot be transferred`
        }: list only ArrayBuffers (not SharedArrayBuffers), MessagePorts and streams, once each`,
      );
    }
    seen.add(item);
  }
  return list as Transferable[];
}
