// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the doorbell, a way to hand one task to an idle worker thread
 * and to hear its result without a message either way. A message costs each
 * side a trip through Deno's event loop (about 15 µs of CPU per message
 * here); a parked thread woken by `Atomics.notify`, and a main thread woken
 * by `Atomics.waitAsync`, cost a fraction of that. One call at a time (a
 * caller that awaits each `run` before the next) is where this counts.
 *
 * **Parking.** A worker whose last task came alone (by the fast path, see
 * `_protocol.ts`, or alone in a message) does not return to its event loop
 * at once when it runs out of tasks: it parks, blocking in
 * `Atomics.wait` on `PARK` for at most {@linkcode PARK_MS}. It writes its
 * mark there first, `(messages received) + 1`, so the main thread knows it
 * has read every message posted to it. While parked its event loop does not
 * turn: messages wake it, timers and I/O of task code wait. So a worker lets
 * its microtasks run before it parks, and goes back to its event loop at
 * least every {@linkcode BURST_MS} however fast tasks are rung.
 *
 * **Listening.** A worker that goes back to its event loop out of tasks
 * (its park ended, or it did not park) writes its mark again and waits on it
 * with `Atomics.waitAsync`, which does not block: timers and I/O run, and a
 * bell wakes it through its event loop, which costs less than a message
 * (about 30 µs less per call after a pause, here). So a call after any pause
 * is rung, not posted. `settle` ends the listen before the worker reads
 * anything else (a message, a park, the next listen), taking a bell rung
 * meanwhile first: the pool rang it before it posted anything after it.
 *
 * **The cells.** `PARK` is `AWAKE` (0), a worker's mark (> 0), or `BELL`
 * (-1); `POSTED` is how many messages (and bells) the main thread has sent.
 *
 * ```text
 *   worker: park or listen     main: ring (mark = posted + 1)
 *   AWAKE -------> mark ----------------------------------> BELL
 *     ^             |  main: post (wake), or worker: timeout  |
 *     '-------------'  or settle                              |
 *     '---------------------- worker: takes the task ---------'
 * ```
 *
 * Invariants, each kept by a compare-and-swap from the value expected:
 * - **No message waits behind a park.** The main thread counts `POSTED`
 *   before it posts, then wakes a parked worker; the worker writes its mark
 *   before it reads `POSTED`, and does not wait if a message is in flight.
 *   Both are sequentially consistent, so one of them sees the other.
 * - **Tasks keep their order.** A bell is rung only on the mark of a worker
 *   that has received everything posted (`mark === posted + 1`), so the
 *   task it carries is the next seq on both sides.
 * - **A bell is taken once.** Only the main thread moves a mark to `BELL`,
 *   only the worker moves `BELL` back to `AWAKE`, and the worker takes the
 *   task only when its own swap from its mark finds `BELL`. A listen's
 *   wake-up that comes after `settle` ended it does nothing.
 * - **A bell goes before the messages posted after it.** The worker settles
 *   a listen before it counts any message, so a bell rung while it listened
 *   is taken (and its task queued) first.
 * - **A result is never left unannounced.** The worker bumps `ANNOUNCED`
 *   and notifies; only if no main thread was waiting there does it post the
 *   bare number instead. The main thread starts waiting before it rings (a
 *   woken thread may run at once, on one core before the ringer goes on), so
 *   the result of a rung task is announced there, not by a message.
 *
 * The task itself is claimed in the control block as any other (see
 * `_control.ts`), so a bell changes how a task travels, never whether it
 * runs: a worker stopped while parked is woken (Deno's `terminate()` does
 * not interrupt `Atomics.wait`), and whatever it had not started is revoked
 * as usual.
 *
 * @module
 */

import {
  ANNOUNCED,
  BELL_KIND,
  type ControlBlock,
  PARK,
  POSTED,
} from "./_control.ts";

const { compareExchange, load, notify, store, wait, waitAsync } = Atomics;

/** The longest a worker parks, in ms. */
export const PARK_MS = 1;
/**
 * The longest a worker goes from park to park (tasks rung one after another)
 * without turning its event loop, in ms.
 */
export const BURST_MS = 4;
const AWAKE = 0;
const BELL = -1;
/** Message counts wrap here, so that a mark stays a positive int32. */
const COUNT_MASK = 0x3fff_ffff;
const K_NUMBER = 1;
const K_TRUE = 2;
const K_FALSE = 3;

/** No task came while parked. */
export const NO_TASK: unique symbol = Symbol("no task");

/** The main thread's half, one per worker thread. */
export class Doorbell {
  readonly #cells: Int32Array;
  readonly #bell: Float64Array;
  readonly #onAnnounce: () => void;
  #posted = 0;
  #listening = false;

  /**
   * @param onAnnounce Called when the worker announces results on the
   *   doorbell (read them as a bare number would say).
   */
  constructor(control: ControlBlock, onAnnounce: () => void) {
    this.#cells = control.cells;
    this.#bell = control.bell;
    this.#onAnnounce = onAnnounce;
  }

  /** Counts a message about to be posted, and wakes the worker to read it. */
  willPost(): void {
    this.#posted = (this.#posted + 1) & COUNT_MASK;
    store(this.#cells, POSTED, this.#posted);
    this.wake();
  }

  /**
   * Hands the fast task set in the control block, with argument `value`, to
   * the worker if it is parked having read everything.
   *
   * @returns `false` if it was not: post `value`.
   */
  ring(value: unknown): boolean {
    const cells = this.#cells;
    const mark = this.#posted + 1;
    const kind = typeof value === "number"
      ? K_NUMBER
      : value === true
      ? K_TRUE
      : value === false
      ? K_FALSE
      : 0;
    if (kind === 0 || load(cells, PARK) !== mark) return false;
    // Listening before ringing: a woken thread may run at once, even here.
    this.listen();
    if (kind === K_NUMBER) this.#bell[0] = value as number;
    cells[BELL_KIND] = kind;
    this.#posted = (this.#posted + 1) & COUNT_MASK;
    store(cells, POSTED, this.#posted);
    if (compareExchange(cells, PARK, mark, BELL) !== mark) {
      this.unpost(); // it stopped parking meanwhile: post instead
      return false;
    }
    notify(cells, PARK, 1);
    return true;
  }

  /** Waits (once at a time) for the worker's next announcement. */
  listen(): void {
    if (this.#listening) return;
    const cells = this.#cells;
    const waiting = waitAsync(cells, ANNOUNCED, load(cells, ANNOUNCED));
    if (!waiting.async) return; // changed meanwhile: never, on this thread
    this.#listening = true;
    void waiting.value.then(this.#announced);
  }

  readonly #announced = (): void => {
    this.#listening = false;
    this.#onAnnounce();
  };

  /** Takes back the count of a message that could not be posted. */
  unpost(): void {
    this.#posted = (this.#posted - 1) & COUNT_MASK;
    store(this.#cells, POSTED, this.#posted);
  }

  /** Wakes the worker if it is parked (it then turns its event loop). */
  wake(): void {
    const mark = load(this.#cells, PARK);
    if (mark > 0 && compareExchange(this.#cells, PARK, mark, AWAKE) === mark) {
      notify(this.#cells, PARK, 1);
    }
  }

  /** The worker is stopped: wakes it, and ends this side's wait. */
  close(): void {
    this.wake();
    notify(this.#cells, ANNOUNCED);
  }
}

/** The worker's half. */
export class DoorbellWorker {
  readonly #cells: Int32Array;
  readonly #bell: Float64Array;
  #received = 0;
  /** The mark of a `listen` in progress, or 0. */
  #listening = 0;
  #onRung: (value: unknown) => void = () => {};

  constructor(control: ControlBlock) {
    this.#cells = control.cells;
    this.#bell = control.bell;
  }

  /** Counts a message received on the port. */
  received(): void {
    this.settle();
    this.#received = (this.#received + 1) & COUNT_MASK;
  }

  /**
   * Parks for at most {@linkcode PARK_MS}, unless a message is in flight.
   *
   * @returns The argument of a task rung in meanwhile, or `NO_TASK`.
   */
  park(): unknown {
    this.settle();
    const cells = this.#cells;
    const mark = this.#received + 1;
    store(cells, PARK, mark);
    if (load(cells, POSTED) === this.#received) {
      wait(cells, PARK, mark, PARK_MS);
    }
    return this.#take(mark);
  }

  /**
   * Goes on waiting for a bell without blocking: the worker is out of tasks
   * and back to its event loop. A task rung meanwhile goes to `onRung`,
   * never from within this call: from a task or a microtask of the event
   * loop, or from {@linkcode settle} if a message comes first (the bell was
   * rung before it was posted, so it goes first).
   */
  listen(onRung: (value: unknown) => void): void {
    this.settle();
    const cells = this.#cells;
    const mark = this.#received + 1;
    store(cells, PARK, mark);
    this.#listening = mark;
    this.#onRung = onRung;
    const waiting = load(cells, POSTED) === this.#received
      ? waitAsync(cells, PARK, mark)
      : undefined;
    const wake = () => {
      if (this.#listening === mark) this.settle();
    };
    if (waiting?.async === true) void waiting.value.then(wake);
    // A message or a bell is on its way already. Taken from a microtask all
    // the same, never from here: the microtasks the last task queued run
    // before the next task starts.
    else queueMicrotask(wake);
  }

  /**
   * Ends a {@linkcode listen}: takes a task rung meanwhile (to `onRung`).
   * Called before anything else the worker reads: a park, a listen, and
   * every message.
   */
  settle(): void {
    const mark = this.#listening;
    if (mark === 0) return;
    this.#listening = 0;
    const value = this.#take(mark);
    if (value !== NO_TASK) this.#onRung(value);
  }

  /** Stops waiting on `mark`: the task rung meanwhile, or `NO_TASK`. */
  #take(mark: number): unknown {
    const cells = this.#cells;
    if (compareExchange(cells, PARK, mark, AWAKE) !== BELL) return NO_TASK;
    // Rung: the task is the next message.
    store(cells, PARK, AWAKE);
    this.#received = (this.#received + 1) & COUNT_MASK;
    const kind = cells[BELL_KIND];
    return kind === K_NUMBER ? this.#bell[0] : kind === K_TRUE;
  }

  /**
   * Announces results in the ring to a main thread waiting for them.
   *
   * @returns `false` if none was waiting: post the announcement.
   */
  announce(): boolean {
    store(this.#cells, ANNOUNCED, (load(this.#cells, ANNOUNCED) + 1) | 0);
    return notify(this.#cells, ANNOUNCED, 1) > 0;
  }
}
