// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the control block a pool worker shares with the main thread, the
 * one place where the two sides agree on the state of each task the worker
 * holds. Both sides use this type; each side's half of the protocol is named
 * after the side that calls it.
 *
 * The main thread numbers the tasks it sends to a worker 0, 1, 2, ... (their
 * `seq`), in the order it posts them; the worker counts records in the order
 * they arrive, so both sides agree on every seq without sending it. Each held
 * task has a slot, `slots[seq % SLOTS]`, holding one word: the task's seq and
 * its state. A worker holds fewer than SLOTS tasks at once, so a slot is only
 * reused once the main thread has forgotten the task that had it.
 *
 * ```text
 *   main: send          worker: arrive         worker: start
 *        SENT ---------------> ARRIVED ---------------> STARTED
 *          \                   /                          |   \ main: cancel
 *           \  main: revoke   /              worker: finish|    CANCELLED
 *            `--> REVOKED <--'                             v   / worker: finish
 *                                                          DONE
 * ```
 *
 * Every change is one compare-and-swap from the state its caller expects, so
 * when both sides race for a task exactly one wins:
 * - **Nothing runs twice.** The main thread takes a task back (to run it
 *   elsewhere, or because it was cancelled, or its worker died) only by
 *   revoking it from SENT or ARRIVED; the worker starts a task only by moving
 *   it from ARRIVED to STARTED. A task that started is never taken back, so a
 *   task is re-run only when it provably never started, even on a worker
 *   that keeps running after `terminate()`.
 * - **Nothing is moved while it is being decoded.** A task is stolen only
 *   once ARRIVED: the worker has received it, so it cannot be moved again
 *   while a large argument is still in transit (no ping-pong).
 * - **Cancelling a running task** is STARTED -> CANCELLED, which is what a
 *   busy synchronous loop reads as `aborted`; the worker ends it as DONE.
 *
 * **Results in shared memory.** A task whose result is a number, a boolean,
 * `undefined` or `null` (what tiny tasks mostly return) answers through a
 * ring of result records in the block, not a message: the worker writes the
 * record, then bumps `TAIL`; the main thread reads records up to `TAIL`,
 * then bumps `HEAD`; the worker writes only while `TAIL - HEAD < RING`.
 * The main thread reads the ring whenever the worker posts anything, on its
 * heartbeat while the worker holds tasks, and before it takes a dead worker
 * out of service, so such a result is never held back behind a long task,
 * and never lost with its worker.
 *
 * The fast path (see `_protocol.ts`) uses two more cells: the id and
 * function of a task sent as a bare value; the doorbell (`_doorbell.ts`),
 * four more and a number, to hand such a task to a parked worker without a
 * message.
 *
 * Task code shares the worker's realm and could replace `Atomics`, so the
 * functions used here are captured when this module loads, before any task
 * code runs, and the block itself is never reachable from task code.
 *
 * @module
 */

const { add, load, store, compareExchange } = Atomics;

/** Slots per worker: the most tasks a worker holds at once, plus one. */
export const SLOTS = 4096;

export const SENT = 1;
export const ARRIVED = 2;
export const STARTED = 3;
export const CANCELLED = 4;
export const DONE = 5;
export const REVOKED = 6;

/** A slot's state. */
export type SlotState =
  | typeof SENT
  | typeof ARRIVED
  | typeof STARTED
  | typeof CANCELLED
  | typeof DONE
  | typeof REVOKED;

/**
 * Result records in the ring: as many as tasks a worker may hold, so the ring
 * is never full (a record stays only until the task it answers is released).
 */
export const RING = SLOTS;

/** What a result record holds: its value's kind. */
export const R_NUMBER = 1;
export const R_TRUE = 2;
export const R_FALSE = 3;
export const R_UNDEFINED = 4;
export const R_NULL = 5;

const FAST_ID = 0;
const FAST_FN = 1;
const HEAD = 2;
const TAIL = 3;
/** Channel operations the worker's tasks are waiting in (`_task_waiting.ts`). */
const WAITING = 4;
/** The doorbell's cells (see `_doorbell.ts`). */
export const PARK = 5;
export const POSTED = 6;
export const ANNOUNCED = 7;
export const BELL_KIND = 8;
const HEADER = 10; // even: see INT32S
const RING_SEQ = HEADER + SLOTS;
const RING_KIND = RING_SEQ + RING;
const INT32S = RING_KIND + RING; // a multiple of 2: Float64 cells follow
export const SEQ_MASK = 0x0fff_ffff;

/** The kind of a result the ring can hold, or 0. */
export function ringKind(value: unknown): number {
  switch (typeof value) {
    case "number":
      return R_NUMBER;
    case "boolean":
      return value ? R_TRUE : R_FALSE;
    case "undefined":
      return R_UNDEFINED;
    case "object":
      return value === null ? R_NULL : 0;
    default:
      return 0;
  }
}

function ringValue(kind: number, number: number): unknown {
  switch (kind) {
    case R_NUMBER:
      return number;
    case R_TRUE:
      return true;
    case R_FALSE:
      return false;
    case R_NULL:
      return null;
    default:
      return undefined;
  }
}

export function word(seq: number, state: SlotState): number {
  return ((seq & SEQ_MASK) << 3) | state;
}

/** The shared control block of one worker. */
export class ControlBlock {
  readonly cells: Int32Array;
  /** Each ring record's value (a number) and run time, in ms. */
  readonly #numbers: Float64Array;
  /** The number a doorbell task carries (see `_doorbell.ts`). */
  readonly bell: Float64Array;

  /** Wraps `buffer`, or allocates a new shared block. */
  constructor(buffer?: SharedArrayBuffer) {
    const shared = buffer ??
      new SharedArrayBuffer(INT32S * 4 + (2 * RING + 1) * 8);
    this.cells = new Int32Array(shared, 0, INT32S);
    this.#numbers = new Float64Array(shared, INT32S * 4, 2 * RING);
    this.bell = new Float64Array(shared, INT32S * 4 + 2 * RING * 8, 1);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /** Worker: a channel operation of a task starts (+1) or ends (-1) waiting. */
  addWaiting(delta: number): void {
    add(this.cells, WAITING, delta);
  }

  /** Main: how many channel operations the worker's tasks wait in. */
  waiting(): number {
    return load(this.cells, WAITING);
  }

  /** The state of task `seq`, or `undefined` if its slot moved on. */
  state(seq: number): SlotState | undefined {
    const w = load(this.cells, HEADER + (seq % SLOTS));
    return (w >>> 3) === (seq & SEQ_MASK) ? (w & 7) as SlotState : undefined;
  }

  #swap(seq: number, from: SlotState, to: SlotState): boolean {
    return compareExchange(
      this.cells,
      HEADER + (seq % SLOTS),
      word(seq, from),
      word(seq, to),
    ) === word(seq, from);
  }

  // ---- the main thread's half ---------------------------------------------

  /** Marks task `seq` as sent; called before the message is posted. */
  send(seq: number): void {
    store(this.cells, HEADER + (seq % SLOTS), word(seq, SENT));
  }

  /**
   * Takes back task `seq` if it has not started.
   *
   * @returns Whether it was taken back: the worker will skip it.
   */
  revoke(seq: number): boolean {
    while (true) {
      const state = this.state(seq);
      if (state !== SENT && state !== ARRIVED) return false;
      if (this.#swap(seq, state, REVOKED)) return true;
      // The worker moved it meanwhile: look again.
    }
  }

  /**
   * Marks running task `seq` as cancelled.
   *
   * @returns Whether it was running (it may have finished since).
   */
  cancel(seq: number): boolean {
    return this.#swap(seq, STARTED, CANCELLED);
  }

  /** Sets the fast-path cells of a task sent as a bare value. */
  setFastTask(id: number, fnId: number): void {
    store(this.cells, FAST_ID, id);
    store(this.cells, FAST_FN, fnId);
  }

  /**
   * Reads the result records the worker has written since the last call,
   * in order, and frees their room.
   *
   * @returns How many it read.
   */
  takeResults(
    each: (seq: number, value: unknown, runTimeMs: number) => void,
  ): number {
    const tail = load(this.cells, TAIL);
    let head = load(this.cells, HEAD);
    if (head === tail) return 0;
    const taken = (tail - head) | 0;
    for (; head !== tail; head = (head + 1) | 0) {
      const at = head & (RING - 1);
      const value = ringValue(
        this.cells[RING_KIND + at] as number,
        this.#numbers[at] as number,
      );
      each(
        this.cells[RING_SEQ + at] as number,
        value,
        this.#numbers[RING + at] as number,
      );
    }
    store(this.cells, HEAD, head);
    return taken;
  }

  // ---- the worker's half --------------------------------------------------

  /**
   * Records that task `seq` has arrived.
   *
   * @returns `false` if it was taken back before it arrived.
   */
  arrive(seq: number): boolean {
    return this.#swap(seq, SENT, ARRIVED);
  }

  /**
   * Claims task `seq` to run it.
   *
   * @returns `false` if it was taken back: skip it.
   */
  start(seq: number): boolean {
    return this.#swap(seq, ARRIVED, STARTED);
  }

  /** Whether running task `seq` has been cancelled. */
  cancelled(seq: number): boolean {
    return load(this.cells, HEADER + (seq % SLOTS)) === word(seq, CANCELLED);
  }

  /** Records that task `seq` has ended, before its result is posted. */
  finish(seq: number): void {
    store(this.cells, HEADER + (seq % SLOTS), word(seq, DONE));
  }

  /** The id of a task that came as a bare value. */
  get fastId(): number {
    return load(this.cells, FAST_ID);
  }

  /** The function of a task that came as a bare value. */
  get fastFn(): number {
    return load(this.cells, FAST_FN);
  }

  /**
   * Writes a result record (`kind` from {@linkcode ringKind}).
   *
   * @returns `false` if the ring is full: send the result as a message.
   */
  pushResult(
    seq: number,
    kind: number,
    value: unknown,
    runTimeMs: number,
  ): boolean {
    const tail = load(this.cells, TAIL);
    if (((tail - load(this.cells, HEAD)) | 0) >= RING) return false;
    const at = tail & (RING - 1);
    this.cells[RING_SEQ + at] = seq;
    this.cells[RING_KIND + at] = kind;
    this.#numbers[at] = kind === R_NUMBER ? value as number : 0;
    this.#numbers[RING + at] = runTimeMs;
    store(this.cells, TAIL, (tail + 1) | 0);
    return true;
  }

  /** How many result records the worker has written in all. */
  get resultsWritten(): number {
    return load(this.cells, TAIL);
  }
}
