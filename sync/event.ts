// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { Waiter, WaitQueue } from "./_wait_queue.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** Options for {@linkcode Event.wait}. */
export interface EventWaitOptions {
  /**
   * Aborts the wait. An aborted wait leaves the queue and rejects with
   * `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A flag that tasks can wait for: {@linkcode Event.set} wakes every waiter
 * and lets later waits through at once, until {@linkcode Event.clear}.
 * Like Python's `asyncio.Event`. (This class shadows the global DOM `Event`
 * in modules that import it; import it under another name if you need both.)
 *
 * - **Fairness:** {@linkcode Event.set} wakes every waiter at once, in the
 *   order they started waiting.
 * - **Cancellation:** aborting abandons the wait. An aborted wait leaves
 *   the queue and leaves nothing behind: there is no wake-up to lose, since
 *   a set wakes everyone. A waiter whose abort is under way when the event
 *   is set rejects; one woken before the abort resolves.
 * - **Reuse:** the event can be set and cleared any number of times; it
 *   needs no closing.
 * - **Misuse:** setting a set event or clearing a clear one is a no-op.
 *
 * @example Usage
 * ```ts
 * import { Event } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const ready = new Event();
 * const log: string[] = [];
 * const worker = (async () => {
 *   await ready.wait();
 *   log.push("worker saw ready");
 * })();
 * log.push("setting");
 * ready.set();
 * await worker;
 * assert.deepEqual(log, ["setting", "worker saw ready"]);
 * ```
 */
export class Event {
  #set = false;
  readonly #queue: WaitQueue<void> = new WaitQueue();

  /**
   * Creates a clear (unset) event.
   *
   * @example Usage
   * ```ts
   * import { Event } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Event().isSet, false);
   * ```
   */
  constructor() {}

  /**
   * Whether the event is set.
   *
   * @returns `true` between a {@linkcode Event.set} and the next
   * {@linkcode Event.clear}.
   *
   * @example Usage
   * ```ts
   * import { Event } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * event.set();
   * assert.equal(event.isSet, true);
   * ```
   */
  get isSet(): boolean {
    return this.#set;
  }

  /**
   * Sets the event and wakes every waiter. Waits started while it stays set
   * resolve at once.
   *
   * @example Usage
   * ```ts
   * import { Event } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * const waiting = event.wait();
   * event.set();
   * await waiting;
   * assert.equal(event.isSet, true);
   * ```
   */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    const queue = this.#queue;
    let waiter: Waiter<void> | undefined;
    while ((waiter = queue.shift()) !== undefined) waiter.settle(undefined);
  }

  /**
   * Clears the event: later waits block until the next {@linkcode Event.set}.
   *
   * @example Usage
   * ```ts
   * import { Event } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * event.set();
   * event.clear();
   * assert.equal(event.isSet, false);
   * ```
   */
  clear(): void {
    this.#set = false;
  }

  /**
   * Waits until the event is set; resolves at once if it is set now.
   *
   * **Cancel safety:** if `options.signal` aborts before the event is set,
   * this call leaves the queue and rejects with `signal.reason`: nothing is
   * left behind. A signal that aborts after the event was set is ignored:
   * the call resolves.
   *
   * @param options Options, such as a signal to stop waiting.
   * @returns A promise that resolves once the event is set.
   * @throws {DOMException} If `options.signal` aborts before the event is
   * set: rejects with `signal.reason`, an `"AbortError"` `DOMException`
   * unless the caller chose another reason.
   *
   * @example Usage
   * ```ts
   * import { Event } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const event = new Event();
   * const controller = new AbortController();
   * const waiting = event.wait({ signal: controller.signal });
   * controller.abort(new Error("not needed any more"));
   * await assert.rejects(waiting, { message: "not needed any more" });
   * ```
   */
  wait(options?: EventWaitOptions): Promise<void> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#set) return RESOLVED;
    const waiter = new Waiter<void>(this.#queue, signal, 0);
    this.#queue.push(waiter);
    return waiter.promise;
  }
}
