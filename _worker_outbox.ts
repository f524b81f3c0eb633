// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the results a pool worker has not sent yet, and how they go (see
 * "When results go" in `_worker_run.ts`, which decides when to flush).
 * - Results in a message wait here, each with its own transfer list, so one
 *   result that cannot be sent fails its own call with a clear error and
 *   nothing else.
 * - Results in the control block's ring (see `_control.ts`) are counted
 *   here until announced: by the doorbell to a pool waiting for them (see
 *   `_doorbell.ts`), or by a bare number; any message announces them too.
 *
 * @module
 */

import { type ControlBlock, RING } from "./_control.ts";
import { ERROR, RESULT_FIELDS, RESULTS } from "./_protocol.ts";
import type { FnRegistry } from "./_worker_fns.ts";
import type { Door, Send } from "./_worker_run.ts";
import { describe } from "./errors/_describe.ts";
import { serializeError } from "./errors/serialize_error.ts";

/** The most results one message carries. */
const MAX_RESULTS = 4096;

export class Outbox {
  readonly #control: ControlBlock;
  readonly #send: Send;
  readonly #fns: FnRegistry;
  readonly #door: Door | undefined;
  #results: unknown[] = [RESULTS];
  #transfers: (Transferable[] | undefined)[] = [];
  /** The function of each result, negated for a chunk (for errors). */
  #origins: number[] = [];
  /** Results written to the ring that nothing has announced yet. */
  unannounced = 0;
  /** When the oldest result not sent yet (here or in the ring) began. */
  since = 0;

  constructor(
    control: ControlBlock,
    send: Send,
    fns: FnRegistry,
    door: Door | undefined,
  ) {
    this.#control = control;
    this.#send = send;
    this.#fns = fns;
    this.#door = door;
  }

  /** How many results wait for a message. */
  get messages(): number {
    return (this.#results.length - 1) / RESULT_FIELDS;
  }

  /** Whether no result waits, in a message or in the ring. */
  get empty(): boolean {
    return this.#results.length === 1 && this.unannounced === 0;
  }

  /** Whether the results waiting make a message as large as allowed. */
  get full(): boolean {
    return this.messages >= MAX_RESULTS;
  }

  /** Adds a result to send in a message (`origin`: see `#origins`). */
  add(
    seq: number,
    status: number,
    value: unknown,
    runTimeMs: number,
    transfer: Transferable[] | undefined,
    origin: number,
  ): void {
    this.#results.push(seq, status, value, runTimeMs);
    this.#transfers.push(transfer);
    this.#origins.push(origin);
  }

  /** Counts a result written to the ring. */
  written(): void {
    // Announced once half the ring waits, so the ring never fills.
    if (++this.unannounced >= RING / 2) this.flush();
  }

  /**
   * Sends every result waiting now, or, if there is none, announces the
   * results in the ring (any message makes the pool read the ring).
   */
  flush(): void {
    const results = this.#results;
    if (results.length === 1) {
      if (this.unannounced > 0) {
        this.unannounced = 0;
        if (this.#door?.announce() !== true) {
          this.#send(this.#control.resultsWritten);
        }
      }
      return;
    }
    this.unannounced = 0;
    const transfers = this.#transfers;
    const origins = this.#origins;
    this.#results = [RESULTS];
    this.#transfers = [];
    this.#origins = [];
    let transfer: Transferable[] | undefined;
    for (const list of transfers) {
      if (list !== undefined) (transfer ??= []).push(...list);
    }
    try {
      this.#send(results, transfer);
    } catch {
      // Some result cannot be sent: send each alone, and fail those that
      // cannot go, with the reason.
      for (let i = 1, r = 0; i < results.length; i += RESULT_FIELDS, r++) {
        const one = results.slice(i, i + RESULT_FIELDS);
        try {
          this.#send([RESULTS, ...one], transfers[r]);
        } catch (error) {
          one[1] = ERROR;
          one[2] = serializeError(
            this.#unsendable(
              results[i + 2],
              origins[r] as number,
              transfers[r],
              error,
            ),
          );
          this.#send([RESULTS, ...one]);
        }
      }
    }
  }

  /** The error for a result that could not be sent, naming what. */
  #unsendable(
    value: unknown,
    origin: number,
    transfer: Transferable[] | undefined,
    cause: unknown,
  ): TypeError {
    const label = this.#fns.label(origin < 0 ? -origin - 1 : origin);
    let what = `the result of ${label} (${describe(value)})`;
    if (origin < 0 && Array.isArray(value)) {
      const index = value.findIndex(cannotClone);
      if (index !== -1) {
        what = `the result for item ${index} of a chunk of ${label} (${
          describe(value[index])
        })`;
      }
    }
    return new TypeError(
      `Cannot send ${what} back to the caller as it${
        transfer === undefined ? "" : " or its transfer list"
      } cannot be cloned: return only structured-cloneable values`,
      { cause },
    );
  }
}

function cannotClone(value: unknown): boolean {
  try {
    structuredClone(value);
    return false;
  } catch {
    return true;
  }
}
