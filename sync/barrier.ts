// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import { BrokenBarrierError } from "../errors/broken_barrier_error.ts";
import { Waiter, WaitQueue } from "./_wait_queue.ts";

/** Options for {@linkcode Barrier.wait}. */
export interface BarrierWaitOptions {
  /**
   * Aborts the wait. An aborted wait rejects with `signal.reason` and breaks
   * the barrier for the other parties.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** The barrier's queue: an abort breaks the barrier for every other waiter. */
class BarrierQueue extends WaitQueue<number> {
  readonly #breakBarrier: (cause: unknown) => void;

  constructor(breakBarrier: (cause: unknown) => void) {
    super();
    this.#breakBarrier = breakBarrier;
  }

  override abortWaiter(waiter: Waiter<number>): void {
    if (!this.remove(waiter)) return;
    const reason = waiter.signal?.reason;
    waiter.reject(reason);
    this.#breakBarrier(reason);
  }
}

/**
 * A meeting point for a fixed number of parties: each
 * {@linkcode Barrier.wait} blocks until `parties` waits have arrived, then
 * all of them resolve together and the barrier starts a new generation.
 * Like Python's `asyncio.Barrier`.
 *
 * - **Fairness:** every waiter of a generation is released at once; each
 *   gets its arrival index (0 for the first, `parties - 1` for the last).
 * - **Cancellation:** aborting abandons the wait and breaks the barrier.
 *   An aborted wait rejects with `signal.reason`; the other waiters reject
 *   with a {@linkcode BrokenBarrierError} whose `cause` is that reason, and
 *   so does every later wait until {@linkcode Barrier.reset}. This also
 *   holds for a waiter whose abort is under way when the last party
 *   arrives; a waiter released before the abort resolves.
 * - **Reuse:** after a generation passes, the barrier is ready for the next
 *   one; a broken barrier is reused after {@linkcode Barrier.reset}.
 * - **Misuse:** resetting a barrier with no waiters, or resetting twice, is
 *   harmless.
 *
 * @example Usage
 * ```ts
 * import { Barrier } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const barrier = new Barrier(3);
 * const log: string[] = [];
 * async function party(name: string): Promise<number> {
 *   log.push(`${name} arrives`);
 *   const index = await barrier.wait();
 *   log.push(`${name} passes`);
 *   return index;
 * }
 * const indexes = await Promise.all([party("a"), party("b"), party("c")]);
 * assert.deepEqual(indexes, [0, 1, 2]);
 * assert.deepEqual(log.slice(0, 3), ["a arrives", "b arrives", "c arrives"]);
 * ```
 */
export class Barrier {
  readonly #parties: number;
  #state: "filling" | "broken" = "filling";
  #cause: unknown = undefined;
  readonly #queue: BarrierQueue = new BarrierQueue((cause) =>
    this.#breakWith(cause)
  );

  /**
   * Creates a barrier for `parties` parties.
   *
   * @param parties The number of waits that pass together.
   * @throws {RangeError} If `parties` is not a positive integer.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Barrier(2).parties, 2);
   * assert.throws(() => new Barrier(0), RangeError);
   * ```
   */
  constructor(parties: number) {
    if (!Number.isSafeInteger(parties) || parties < 1) {
      throw new RangeError(
        `Cannot create Barrier as 'parties' must be a positive integer: received ${
          describe(parties)
        }`,
      );
    }
    this.#parties = parties;
  }

  /**
   * The number of parties that pass together.
   *
   * @returns The `parties` given to the constructor.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Barrier(4).parties, 4);
   * ```
   */
  get parties(): number {
    return this.#parties;
  }

  /**
   * The number of parties waiting in the current generation.
   *
   * @returns A number from 0 to `parties - 1`.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * const first = barrier.wait();
   * assert.equal(barrier.waiting, 1);
   * await Promise.all([first, barrier.wait()]);
   * assert.equal(barrier.waiting, 0);
   * ```
   */
  get waiting(): number {
    return this.#queue.size;
  }

  /**
   * Whether the barrier is broken.
   *
   * @returns `true` from an aborted wait until {@linkcode Barrier.reset}.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * const controller = new AbortController();
   * const waiting = barrier.wait({ signal: controller.signal });
   * controller.abort();
   * await assert.rejects(waiting, { name: "AbortError" });
   * assert.equal(barrier.broken, true);
   * ```
   */
  get broken(): boolean {
    return this.#state === "broken";
  }

  /**
   * Arrives at the barrier and waits until `parties` waits have arrived. The
   * last arrival resolves at once and releases the others.
   *
   * **Cancel safety:** if `options.signal` aborts before the barrier
   * passes, this call leaves the queue, rejects with `signal.reason` and
   * breaks the barrier (see {@linkcode Barrier}): the other waiters reject
   * with a {@linkcode BrokenBarrierError}. A signal that aborts after the
   * barrier passed is ignored: the call resolves. A signal already aborted
   * when this method is called rejects at once without arriving, and does
   * not break the barrier.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise of the arrival index: 0 for the first party of the
   * generation, `parties - 1` for the last.
   * @throws {BrokenBarrierError} If the barrier is broken, or breaks while
   * waiting.
   * @throws {DOMException} If `options.signal` aborts before the barrier
   * passes: rejects with `signal.reason`, an `"AbortError"` `DOMException`
   * unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * const first = barrier.wait();
   * const last = barrier.wait();
   * assert.deepEqual(await Promise.all([first, last]), [0, 1]);
   * // The barrier is ready for the next generation.
   * assert.deepEqual(await Promise.all([barrier.wait(), barrier.wait()]), [
   *   0,
   *   1,
   * ]);
   * ```
   */
  wait(options?: BarrierWaitOptions): Promise<number> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#state === "broken") return Promise.reject(this.#brokenError());
    const queue = this.#queue;
    const index = queue.size;
    if (index < this.#parties - 1) {
      const waiter = new Waiter<number>(queue, signal, index);
      queue.push(waiter);
      return waiter.promise;
    }
    // The last party: a waiter whose signal aborted in this same tick,
    // before its listener ran, breaks the barrier instead of passing it.
    for (
      let waiter = queue.head;
      waiter !== undefined;
      waiter = waiter.next as Waiter<number> | undefined
    ) {
      if (waiter.aborting) {
        const reason = waiter.signal?.reason;
        queue.remove(waiter);
        waiter.cancel();
        this.#breakWith(reason);
        return Promise.reject(this.#brokenError());
      }
    }
    let waiter: Waiter<number> | undefined;
    while ((waiter = queue.shift()) !== undefined) {
      waiter.detach();
      waiter.resolve(waiter.weight);
    }
    return Promise.resolve(index);
  }

  /**
   * Returns the barrier to its empty, unbroken state. Parties waiting now
   * reject with a {@linkcode BrokenBarrierError}.
   *
   * @example Usage
   * ```ts
   * import { Barrier } from "@seed/concurrency/sync";
   * import { BrokenBarrierError } from "@seed/concurrency/errors";
   * import assert from "node:assert/strict";
   *
   * const barrier = new Barrier(2);
   * const stranded = barrier.wait();
   * barrier.reset();
   * await assert.rejects(stranded, BrokenBarrierError);
   * assert.equal(barrier.broken, false);
   * assert.equal(barrier.waiting, 0);
   * ```
   */
  reset(): void {
    if (this.#queue.size > 0) {
      this.#rejectAll(
        new BrokenBarrierError("Cannot pass Barrier as it was reset"),
      );
    }
    this.#state = "filling";
    this.#cause = undefined;
  }

  #breakWith(cause: unknown): void {
    this.#state = "broken";
    this.#cause = cause;
    if (this.#queue.size > 0) this.#rejectAll(this.#brokenError());
  }

  #rejectAll(error: BrokenBarrierError): void {
    const queue = this.#queue;
    let waiter: Waiter<number> | undefined;
    while ((waiter = queue.shift()) !== undefined) {
      // A waiter that is itself aborting keeps its own reason.
      if (waiter.aborting) waiter.cancel();
      else {
        waiter.detach();
        waiter.reject(error);
      }
    }
  }

  #brokenError(): BrokenBarrierError {
    return new BrokenBarrierError(
      "Cannot pass Barrier as it is broken by an aborted wait",
      { cause: this.#cause },
    );
  }
}
