// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

import { describe } from "../errors/_describe.ts";
import { addReceiver, addSender } from "./_channel_internals.ts";
import { Channel } from "./channel.ts";
import { ReceiveWaiter, sendClosedError, SendWaiter } from "./_waiters.ts";

/**
 * A receive case of {@linkcode select}: `{ receive: channel }`. It is ready
 * when the channel has a value for it, or is closed and drained.
 *
 * @typeParam T The channel's value type.
 */
export interface SelectReceiveCase<T> {
  /** The channel to receive from. */
  readonly receive: Channel<T>;
}

/**
 * A send case of {@linkcode select}: `{ send: channel, value }`. It is ready
 * when the channel can take `value` without waiting, or is closed (which
 * makes `select` reject).
 *
 * @typeParam T The channel's value type.
 */
export interface SelectSendCase<T> {
  /** The channel to send to. */
  readonly send: Channel<T>;
  /** The value to send. */
  readonly value: T;
}

/**
 * One case of {@linkcode select}: a receive or a send.
 *
 * @typeParam T The channel's value type.
 */
export type SelectCase<T> = SelectReceiveCase<T> | SelectSendCase<T>;

/**
 * The cases of {@linkcode select}: an object whose keys name the cases. The
 * key `"default"` is reserved for the result of the default case.
 */
export type SelectCases = {
  // `any`: a `Channel<T>` is invariant in `T`, so no other type admits every
  // channel; `SelectCasesOf` then checks each case against its own channel.
  // deno-lint-ignore no-explicit-any
  readonly [key: string]: SelectCase<any>;
};

/**
 * Maps each case of `C` to the exact case type it must have, so that a send
 * case whose `value` does not fit its channel, or a case that is neither a
 * receive nor a send, fails to type-check.
 *
 * @typeParam C The cases passed to {@linkcode select}.
 */
export type SelectCasesOf<C> = {
  readonly [K in keyof C]: SelectCaseOf<C[K]>;
};

/**
 * The exact case type a case `X` must have: {@linkcode SelectSendCase} for
 * `{ send, value }`, {@linkcode SelectReceiveCase} for `{ receive }`, `never`
 * otherwise. Distributes over a union, for cases built at run time.
 *
 * @typeParam X The type of one case.
 */
export type SelectCaseOf<X> = X extends { readonly send: Channel<infer T> }
  ? X extends { readonly receive: unknown } ? never : SelectSendCase<T>
  : X extends { readonly receive: Channel<infer T> } ? SelectReceiveCase<T>
  : never;

/**
 * The result of a receive case that won: `ok: true` with the `value`
 * received, or `ok: false` when the channel is closed and drained (it then
 * has no `value`, like Go's `v, ok := <-ch`).
 *
 * @typeParam K The case's key.
 * @typeParam T The channel's value type.
 */
export type SelectReceived<K extends string, T> =
  | { readonly case: K; readonly ok: true; readonly value: T }
  | { readonly case: K; readonly ok: false };

/**
 * The result of a send case that won: its value was taken by the channel.
 *
 * @typeParam K The case's key.
 */
export type SelectSent<K extends string> = { readonly case: K };

/**
 * The result of {@linkcode select} when one of the cases `C` won,
 * discriminated on `case` (and, for a receive case, on `ok`).
 *
 * @typeParam C The cases passed to {@linkcode select}.
 */
export type SelectResult<C> = {
  [K in keyof C & string]: SelectResultOf<K, C[K]>;
}[keyof C & string];

/**
 * The result of case `K` of type `X` when it won: {@linkcode SelectReceived}
 * for a receive case, {@linkcode SelectSent} for a send case. Distributes
 * over a union, for cases built at run time.
 *
 * @typeParam K The case's key.
 * @typeParam X The type of the case.
 */
export type SelectResultOf<K extends string, X> = X extends
  { readonly receive: Channel<infer T> } ? SelectReceived<K, T>
  : SelectSent<K>;

/**
 * The result of {@linkcode select} when no case was ready and the `default`
 * option was set.
 */
export type SelectDefaultResult = { readonly case: "default" };

/**
 * Options for {@linkcode select}.
 */
export interface SelectOptions {
  /**
   * Abandons the select if it aborts before a case completes. An already
   * aborted signal makes `select` reject at once without completing a case.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
  /**
   * Adds a default case, like Go's `default:`: when no case is ready at
   * once, `select` completes no case and resolves to `{ case: "default" }`
   * instead of waiting.
   *
   * @default {false}
   */
  default?: boolean | undefined;
}

const DEFAULT_RESULT: SelectDefaultResult = Object.freeze({ case: "default" });

/**
 * Waits on several channel operations at once and completes exactly one of
 * them, like Go's `select` statement. Each case is a receive
 * (`{ receive: channel }`) or a send (`{ send: channel, value }`), named by
 * its key; the result says which case won (`result.case`) and, for a
 * receive, what it got.
 *
 * - **Fairness:** when several cases are ready at once, one is picked
 *   uniformly at random (as Go does), so no case starves another. While
 *   waiting, each case holds a place in its channel's FIFO queue like a plain
 *   `send`/`receive`, and the first case a channel serves wins.
 * - **Exactly one:** the cases that lose take nothing from their channels
 *   and deliver nothing to them: they are removed from their queues in the
 *   same tick the winner completes.
 * - **Closed channels:** a receive case on a closed and drained channel is
 *   ready and resolves with `ok: false`; a send case on a closed channel is
 *   ready and makes `select` reject with `ChannelClosedError`
 *   carrying the unsent value.
 * - **Default:** with `{ default: true }`, `select` never waits: if no case
 *   is ready, it resolves to `{ case: "default" }`.
 *
 * **Cancel safety:** if `signal` aborts while this call waits, it rejects
 * with `signal.reason` and leaves the channel as if it had never been
 * called: it gives up its place in the queue, and no value is taken or
 * delivered. An abort after the operation completed is ignored.
 *
 * @example Receiving from whichever channel has a value
 * ```ts
 * import { Channel, select } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const numbers = new Channel<number>(1);
 * const words = new Channel<string>(1);
 * await words.send("hello");
 *
 * const result = await select({
 *   number: { receive: numbers },
 *   word: { receive: words },
 * });
 * assert.equal(result.case, "word");
 * if (result.case === "word" && result.ok) {
 *   assert.equal(result.value, "hello");
 * }
 * assert.equal(numbers.size, 0);
 * ```
 *
 * @example Sending or receiving, whichever can happen first
 * ```ts
 * import { Channel, select } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const jobs = new Channel<string>();
 * const results = new Channel<number>();
 * const worker = results.send(42); // waits for a receiver
 *
 * const result = await select({
 *   job: { send: jobs, value: "job-1" },
 *   result: { receive: results },
 * });
 * assert.deepEqual(result, { case: "result", ok: true, value: 42 });
 * await worker;
 * // The losing send delivered nothing.
 * assert.deepEqual(jobs.tryReceive(), { ok: false, closed: false });
 * ```
 *
 * @example A default case and a signal
 * ```ts
 * import { Channel, select } from "@seed/concurrency/channels";
 * import assert from "node:assert/strict";
 *
 * const channel = new Channel<number>();
 * const polled = await select({ value: { receive: channel } }, {
 *   default: true,
 * });
 * assert.equal(polled.case, "default");
 *
 * const controller = new AbortController();
 * const waiting = select({ value: { receive: channel } }, {
 *   signal: controller.signal,
 * });
 * controller.abort(new Error("Timed out"));
 * await assert.rejects(waiting, { message: "Timed out" });
 * ```
 *
 * @typeParam C The cases: an object mapping each case name to a
 *   {@linkcode SelectCase}.
 * @typeParam O The options, whose `default` field decides whether the result
 *   may be {@linkcode SelectDefaultResult}.
 * @param cases The cases, named by their keys.
 * @param options A `signal` to abandon the wait, and `default` to never wait.
 * @returns A promise that resolves with the case that completed.
 * @throws {TypeError} If `cases` is not an object, has no case and no
 *   default, uses the reserved key `"default"`, or holds a case that is not
 *   exactly one of `{ receive: channel }` and `{ send: channel, value }`.
 * @throws {ChannelClosedError} If the send case that was picked, or a send
 *   case waiting, finds its channel closed; its `value` is the unsent value.
 * @throws {unknown} `signal.reason`, if `signal` aborts before a case
 *   completes.
 */
export function select<
  C extends SelectCases,
  O extends SelectOptions = Record<never, never>,
>(
  cases: C & SelectCasesOf<C> & { readonly default?: never },
  options?: O,
): Promise<
  | SelectResult<C>
  | ("default" extends keyof O
    ? O["default"] extends false | undefined ? never : SelectDefaultResult
    : never)
> {
  // Results are built untyped here; the signature states their types.
  // deno-lint-ignore no-explicit-any
  type AnyResult = any;
  let keys: string[];
  try {
    keys = validate(cases, options?.default === true);
  } catch (error) {
    return Promise.reject(error);
  }
  const signal = options?.signal;
  if (signal !== undefined && signal.aborted) {
    return Promise.reject(signal.reason);
  }

  // Poll every case in a random order; the first ready one wins.
  shuffle(keys);
  for (const key of keys) {
    const item = cases[key] as SelectCase<unknown>;
    if ("receive" in item) {
      const received = item.receive.tryReceive();
      if (received.ok) {
        return Promise.resolve<AnyResult>({
          case: key,
          ok: true,
          value: received.value,
        });
      }
      if (received.closed) {
        return Promise.resolve<AnyResult>({ case: key, ok: false });
      }
    } else {
      let sent: boolean;
      try {
        sent = item.send.trySend(item.value);
      } catch (error) {
        return Promise.reject(error);
      }
      if (sent) return Promise.resolve<AnyResult>({ case: key });
    }
  }
  if (options?.default === true) {
    return Promise.resolve<AnyResult>(DEFAULT_RESULT);
  }

  // Nothing is ready: queue one waiter per case; the first served wins.
  return new Promise<AnyResult>((resolve, reject) => {
    const operation = new SelectOperation(resolve, reject, signal);
    for (const key of keys) {
      const item = cases[key] as SelectCase<unknown>;
      if ("receive" in item) {
        const waiter = new SelectReceive<unknown>(operation, key);
        operation.waiters.push(waiter);
        addReceiver(item.receive, waiter);
      } else {
        const waiter = new SelectSend<unknown>(operation, key, item.value);
        operation.waiters.push(waiter);
        addSender(item.send, waiter);
      }
    }
    if (signal !== undefined) {
      signal.addEventListener("abort", operation, { once: true });
    }
  });
}

/** Checks `cases` and returns their keys. */
function validate(cases: unknown, hasDefault: boolean): string[] {
  if (typeof cases !== "object" || cases === null) {
    throw new TypeError(
      `Cannot select as 'cases' must be an object: received ${describe(cases)}`,
    );
  }
  const keys = Object.keys(cases);
  if (keys.length === 0 && !hasDefault) {
    throw new TypeError(
      "Cannot select as 'cases' is empty and there is no default case",
    );
  }
  for (const key of keys) {
    const item: unknown = (cases as Record<string, unknown>)[key];
    if (key === "default") {
      throw new TypeError(
        "Cannot select as the case key 'default' is reserved for the default case",
      );
    }
    if (typeof item !== "object" || item === null) {
      throw new TypeError(
        `Cannot select as case '${key}' must be an object: received ${
          describe(item)
        }`,
      );
    }
    const isReceive = "receive" in item;
    const isSend = "send" in item;
    if (isReceive === isSend) {
      throw new TypeError(
        `Cannot select as case '${key}' must have exactly one of 'receive' and 'send'`,
      );
    }
    const channel = isReceive ? item.receive : (item as { send: unknown }).send;
    if (!(channel instanceof Channel)) {
      throw new TypeError(
        `Cannot select as '${key}.${
          isReceive ? "receive" : "send"
        }' must be a Channel`,
      );
    }
    if (isSend && !("value" in item)) {
      throw new TypeError(
        `Cannot select as send case '${key}' must have a 'value'`,
      );
    }
  }
  return keys;
}

/** Shuffles `items` in place (Fisher–Yates). */
function shuffle(items: string[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const item = items[i] as string;
    items[i] = items[j] as string;
    items[j] = item;
  }
}

/** One waiting `select`: its waiters, one per case, and how it settles. */
class SelectOperation {
  readonly waiters: (SelectReceive<unknown> | SelectSend<unknown>)[] = [];
  readonly #resolve: (result: unknown) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  #state: "waiting" | "settled" = "waiting";

  constructor(
    resolve: (result: unknown) => void,
    reject: (reason: unknown) => void,
    signal: AbortSignal | undefined,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  /** A case completed: withdraw the others and resolve with `result`. */
  win(result: unknown): void {
    if (this.#finish()) this.#resolve(result);
  }

  /** A case failed: withdraw the others and reject with `error`. */
  fail(error: unknown): void {
    if (this.#finish()) this.#reject(error);
  }

  /** The abort listener (`{ once: true }`, so it removes itself). */
  handleEvent(): void {
    if (this.#state === "settled") return;
    this.#state = "settled";
    for (const waiter of this.waiters) waiter.unlink();
    this.#reject(this.#signal?.reason);
  }

  /** Settles once; returns whether this call did. */
  #finish(): boolean {
    if (this.#state === "settled") return false;
    this.#state = "settled";
    for (const waiter of this.waiters) waiter.unlink();
    this.#signal?.removeEventListener("abort", this);
    return true;
  }
}

/** A receive case of a waiting `select`. */
class SelectReceive<T> extends ReceiveWaiter<T> {
  readonly #operation: SelectOperation;
  readonly #key: string;

  constructor(operation: SelectOperation, key: string) {
    super();
    this.#operation = operation;
    this.#key = key;
  }

  deliver(value: T): void {
    this.#operation.win({ case: this.#key, ok: true, value });
  }

  end(): void {
    this.#operation.win({ case: this.#key, ok: false });
  }
}

/** A send case of a waiting `select`. */
class SelectSend<T> extends SendWaiter<T> {
  readonly #operation: SelectOperation;
  readonly #key: string;

  constructor(operation: SelectOperation, key: string, value: T) {
    super(value);
    this.#operation = operation;
    this.#key = key;
  }

  accept(): void {
    this.#operation.win({ case: this.#key });
  }

  fail(reason: unknown): void {
    this.#operation.fail(sendClosedError(this.value, reason));
  }
}
