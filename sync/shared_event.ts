// Copyright the @seed/concurrency authors. MIT license.

import {
  refuseStructuredClone,
  registerWireClass,
  sharedCellsCodec,
} from "../_wire.ts";
import {
  assertMayBlock,
  type Attempt,
  checkTimeoutMs,
  waitAsyncUntil,
  waitSyncUntil,
} from "./_atomics.ts";

// Two cells: the flag (0 clear, 1 set) and a generation counter, bumped by
// every set() that changes the flag. Waiters sleep on the generation, so a
// set() followed at once by clear() still wakes everyone who was waiting.
const FLAG = 0;
const GENERATION = 1;

const DONE: Attempt<void> = Object.freeze({ done: true, value: undefined });

/** Options for {@linkcode SharedEvent.wait}. */
export interface SharedEventWaitOptions {
  /**
   * Aborts the wait. An aborted wait rejects with `signal.reason` and leaves
   * nothing behind.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode SharedEvent.waitSync}. */
export interface SharedEventWaitSyncOptions {
  /**
   * The longest time to block, in milliseconds, before throwing a
   * `"TimeoutError"` `DOMException` (the error `AbortSignal.timeout()` gives
   * {@linkcode SharedEvent.wait}). `0` only checks the flag.
   *
   * @default {Infinity}
   */
  timeoutMs?: number;
}

// Memory for the next constructor call, set only by the reviver.
let adopting: Int32Array | undefined;

/**
 * A flag over shared memory that the main thread and workers can wait for:
 * {@linkcode SharedEvent.set} wakes every waiter in every thread and lets
 * later waits through at once, until {@linkcode SharedEvent.clear}. Python's
 * `multiprocessing.Event`. For tasks of one event loop, the in-loop
 * {@linkcode Event} is simpler and faster.
 *
 * - **Fairness:** {@linkcode SharedEvent.set} wakes every waiter at once; the
 *   order in which threads then run is up to the system. A waiter woken by a
 *   set returns even if the event is cleared again before it runs.
 * - **Cancellation:** aborting abandons the wait. An aborted
 *   {@linkcode SharedEvent.wait} rejects with `signal.reason` and leaves
 *   nothing behind (the other waiters are woken to check again, and go back
 *   to waiting). A wait that saw the set before the abort resolves. A
 *   timed-out {@linkcode SharedEvent.waitSync} leaves nothing either.
 * - **Reuse:** the event can be set and cleared any number of times; it
 *   needs no closing.
 * - **Misuse:** setting a set event or clearing a clear one is a no-op.
 *   {@linkcode SharedEvent.waitSync} on the main thread throws, since it
 *   would block the event loop.
 * - **Across workers:** pass the event in a pool task's arguments or result,
 *   at the top level or nested in arrays, plain objects, Map values or Set
 *   members (`pool.run(fn, [{ event }])`): the other side gets a
 *   `SharedEvent` over the same memory. Cloning it any other way (inside a
 *   class instance, as a Map key, in a message) throws `TypeError`. Use {@linkcode SharedEvent.wait} on the
 *   main thread; in a worker, {@linkcode SharedEvent.waitSync} blocks
 *   synchronous code.
 *
 * @example A worker waits for the main thread
 * ```ts
 * import { SharedEvent } from "@seed/concurrency/sync";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * const started = new SharedEvent();
 * const go = new SharedEvent();
 * await using pool = new WorkerPool({ size: 1 });
 * const task = pool.run((started: SharedEvent, go: SharedEvent) => {
 *   started.set();
 *   go.waitSync(); // blocks this worker only
 *   return "went";
 * }, [started, go]);
 * await started.wait(); // never blocks the main thread's event loop
 * go.set();
 * assert.equal(await task, "went");
 * ```
 */
export class SharedEvent {
  readonly #cells: Int32Array;

  static {
    registerWireClass(
      SharedEvent,
      "SharedEvent",
      sharedCellsCodec(2, (event) => event.#cells, (cells) => {
        adopting = cells;
        return new SharedEvent();
      }),
    );
  }

  /**
   * Creates a clear (unset) event in new shared memory.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedEvent().isSet, false);
   * ```
   */
  constructor() {
    this.#cells = adopting ?? new Int32Array(new SharedArrayBuffer(8));
    adopting = undefined;
    refuseStructuredClone(this);
  }

  /**
   * Whether the event is set, as last seen in shared memory.
   *
   * @returns `true` between a {@linkcode SharedEvent.set} and the next
   * {@linkcode SharedEvent.clear}, in any thread.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new SharedEvent();
   * event.set();
   * assert.equal(event.isSet, true);
   * ```
   */
  get isSet(): boolean {
    return Atomics.load(this.#cells, FLAG) === 1;
  }

  /**
   * Sets the event and wakes every waiter in every thread. Waits started
   * while it stays set return at once.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new SharedEvent();
   * const waiting = event.wait();
   * event.set();
   * await waiting;
   * assert.equal(event.isSet, true);
   * ```
   */
  set(): void {
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, FLAG, 0, 1) !== 0) return;
    Atomics.add(cells, GENERATION, 1);
    Atomics.notify(cells, GENERATION);
  }

  /**
   * Clears the event: later waits block until the next
   * {@linkcode SharedEvent.set}. Waiters already woken by a set still
   * return.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new SharedEvent();
   * event.set();
   * event.clear();
   * assert.equal(event.isSet, false);
   * ```
   */
  clear(): void {
    Atomics.store(this.#cells, FLAG, 0);
  }

  /**
   * Waits until the event is set, without blocking the event loop; resolves
   * at once if it is set now. While waiting, keeps this thread's event loop
   * alive. Works on the main thread and in workers.
   *
   * **Cancel safety:** if `options.signal` aborts before the event is set,
   * this call rejects with `signal.reason` and leaves nothing behind. A
   * signal that aborts after the set was seen is ignored: the call resolves.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves once the event is set.
   * @throws {DOMException} If `options.signal` aborts before the event is
   * set: rejects with `signal.reason`, an `"AbortError"` `DOMException`
   * unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new SharedEvent();
   * const controller = new AbortController();
   * const waiting = event.wait({ signal: controller.signal });
   * controller.abort(new Error("not needed any more"));
   * await assert.rejects(waiting, { message: "not needed any more" });
   * ```
   */
  wait(options?: SharedEventWaitOptions): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const cells = this.#cells;
    const generation = Atomics.load(cells, GENERATION);
    if (Atomics.load(cells, FLAG) === 1) return Promise.resolve();
    return waitAsyncUntil(cells, GENERATION, this.#since(generation), signal);
  }

  /**
   * Waits until the event is set by blocking this thread with
   * `Atomics.wait`; returns at once if it is set now. For synchronous code in
   * workers only.
   *
   * **Cancel safety:** a timed-out call throws and leaves nothing behind.
   *
   * @param options Options, such as the longest time to block.
   * @throws {TypeError} If called on the main thread, where blocking would
   * freeze the event loop: use {@linkcode SharedEvent.wait} there.
   * @throws {TypeError} If `options.timeoutMs` is not a number.
   * @throws {RangeError} If `options.timeoutMs` is negative or NaN.
   * @throws {DOMException} A `"TimeoutError"` if the event stayed clear for
   * `options.timeoutMs` milliseconds.
   *
   * @example Usage
   * ```ts
   * import { SharedEvent } from "@seed/concurrency/sync";
   * import { WorkerPool } from "@seed/concurrency";
   * import assert from "node:assert/strict";
   *
   * const event = new SharedEvent();
   * assert.throws(() => event.waitSync(), TypeError); // main thread
   *
   * await using pool = new WorkerPool({ size: 1 });
   * const timedOut = await pool.run((event: SharedEvent) => {
   *   try {
   *     event.waitSync({ timeoutMs: 0 });
   *     return false;
   *   } catch (error) {
   *     return (error as DOMException).name === "TimeoutError";
   *   }
   * }, [event]);
   * assert.equal(timedOut, true);
   * ```
   */
  waitSync(options?: SharedEventWaitSyncOptions): void {
    const timeoutMs = checkTimeoutMs(
      options?.timeoutMs,
      "wait for SharedEvent",
    );
    assertMayBlock(
      "wait for SharedEvent synchronously",
      "'await event.wait()'",
    );
    const cells = this.#cells;
    const generation = Atomics.load(cells, GENERATION);
    if (Atomics.load(cells, FLAG) === 1) return;
    waitSyncUntil(
      cells,
      GENERATION,
      this.#since(generation),
      timeoutMs,
      "Waiting for SharedEvent",
    );
  }

  /** The attempt of a wait that started at `generation`. */
  #since(generation: number): () => Attempt<void> {
    const cells = this.#cells;
    return () => {
      const now = Atomics.load(cells, GENERATION);
      return now !== generation || Atomics.load(cells, FLAG) === 1
        ? DONE
        : { done: false, expected: now };
    };
  }
}
