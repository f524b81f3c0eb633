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
 * The fast path (see `_protocol.ts`) uses four more cells: the id and
 * function of a task sent as a bare value, and the seq and run time of an
 * answer sent as a bare value.
 *
 * Task code shares the worker's realm and could replace `Atomics`, so the
 * functions used here are captured when this module loads, before any task
 * code runs, and the block itself is never reachable from task code.
 *
 * @module
 */

const { load, store, compareExchange } = Atomics;

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

const FAST_ID = 0;
const FAST_FN = 1;
const ANSWER_SEQ = 2;
const ANSWER_RUN_US = 3;
const HEADER = 4;
const SEQ_MASK = 0x0fff_ffff;

function word(seq: number, state: SlotState): number {
  return ((seq & SEQ_MASK) << 3) | state;
}

/** The shared control block of one worker. */
export class ControlBlock {
  readonly cells: Int32Array;

  /** Wraps `buffer`, or allocates a new shared block. */
  constructor(buffer?: SharedArrayBuffer) {
    this.cells = new Int32Array(
      buffer ??
        new SharedArrayBuffer((HEADER + SLOTS) * Int32Array.BYTES_PER_ELEMENT),
    );
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
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

  /** The seq of an answer that came as a bare value. */
  get answerSeq(): number {
    return load(this.cells, ANSWER_SEQ);
  }

  /** The run time of an answer that came as a bare value, in ms. */
  get answerRunTimeMs(): number {
    return load(this.cells, ANSWER_RUN_US) / 1000;
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

  /** Sets the cells of an answer sent as a bare value. */
  setAnswer(seq: number, runTimeMs: number): void {
    store(this.cells, ANSWER_SEQ, seq);
    store(
      this.cells,
      ANSWER_RUN_US,
      Math.min(0x7fff_ffff, Math.round(runTimeMs * 1000)),
    );
  }
}
