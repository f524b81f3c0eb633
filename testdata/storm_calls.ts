// Copyright the @seed/concurrency authors. MIT license.
// The storm's record of each call, how it is tracked, and the rules its
// outcome must follow. Used by _test_storm.ts.
import type { Future } from "../future.ts";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import {
  BAD_RESULT_KINDS,
  expectedValue,
  HOSTILE_KINDS,
  type Kind,
  PROCESS_HOSTILE_KINDS,
  startsOf,
  type StormItem,
  VALUE_KINDS,
} from "./storm_tasks.ts";
import type { Random } from "./storm_harness.ts";

export type Method = "run" | "submit" | "map" | "imap" | "imapUnordered";

/** One call the storm made, and how it settled. */
export interface Call {
  id: number;
  method: Method;
  /** Its tasks: all of them for run, submit and map; imap's as its source yielded them. */
  items: StormItem[];
  /** Made after close() or terminate() was called. */
  afterEnd: boolean;
  signal: AbortSignal | undefined;
  /** Set when `future.cancel(reason)` cancelled it. */
  cancelReason?: unknown;
  future?: Future<unknown>;
  status: "pending" | "resolved" | "rejected";
  value?: unknown;
  error?: unknown;
  /** How many times it settled (a future counts its callbacks). */
  settles: number;
  /** What an imap iteration yielded. */
  yielded: unknown[];
  /** Where an imap consumer breaks out of its loop. */
  breakAt: number | undefined;
  done: Promise<void>;
}

const isValueKind = (kind: Kind) =>
  (VALUE_KINDS as readonly Kind[]).includes(kind);
const isHostileKind = (kind: Kind) =>
  (HOSTILE_KINDS as readonly Kind[]).includes(kind) ||
  (PROCESS_HOSTILE_KINDS as readonly Kind[]).includes(kind);
const isBadKind = (kind: Kind) =>
  (BAD_RESULT_KINDS as readonly Kind[]).includes(kind);
const ran = (it: StormItem) => startsOf(it.runs, it.index);

/** One line about a call, for reports and hang dumps. */
export function describeCall(call: Call): string {
  const items = call.items.slice(0, 6).map((it) =>
    `${it.index}:${it.kind} ran ${ran(it)}`
  );
  if (call.items.length > 6) items.push(`... ${call.items.length} items`);
  const flags = [
    call.afterEnd ? "made after the end" : "",
    call.signal?.aborted ? "signal aborted" : call.signal ? "signal" : "",
    call.cancelReason !== undefined ? "cancelled" : "",
    call.breakAt !== undefined ? `breaks at ${call.breakAt}` : "",
  ].filter(Boolean).join(", ");
  return `call #${call.id} ${call.method}(${items.join(", ")})${
    flags ? ` [${flags}]` : ""
  } ${call.status}`;
}

/** The kind of outcome, for the report's counts. */
export function outcomeOf(call: Call): string {
  if (call.status !== "rejected") return call.status;
  const error = call.error;
  if (error instanceof PoolClosedError) return "PoolClosedError";
  if (error instanceof WorkerCrashedError) {
    return call.items.some((it) => ran(it) >= 1)
      ? "WorkerCrashedError"
      : "WorkerCrashedError, no task started";
  }
  if (error instanceof Error && error.name === "StormError") {
    return "task error";
  }
  if (error === call.cancelReason || error === call.signal?.reason) {
    return "aborted";
  }
  return "other error";
}

/** What a call's outcome may be, beside what every storm allows. */
export interface CallRules {
  /**
   * The pool was terminated (or its close() signal aborted), so any call
   * may have rejected with PoolClosedError.
   */
  closedAllowed: boolean;
  /**
   * The workers are processes, whose claim windows let a call fail with
   * WorkerCrashedError though none of its tasks started: a child claims the
   * quick tasks that follow in the same message at once, and at its death
   * the pool cannot tell the claimed ones that had not started from started
   * ones, so they fail with the running one (docs/process_mode.md, "Claim
   * windows"; they never run twice, which is checked apart).
   */
  claimWindows: boolean;
}

/** What is wrong with a settled call, or `undefined`. */
export function checkCall(call: Call, rules: CallRules): string | undefined {
  const { closedAllowed } = rules;
  if (call.settles !== 1) return `settled ${call.settles} times`;
  const streaming = call.method === "imap" || call.method === "imapUnordered";
  if (call.afterEnd) return checkAfterEnd(call, streaming);
  if (streaming) {
    const problem = checkYields(call);
    if (problem !== undefined) return problem;
  }
  if (call.status === "resolved") return checkResolved(call);
  const error = call.error;
  if (call.cancelReason !== undefined && error === call.cancelReason) return;
  if (call.signal?.aborted && error === call.signal.reason) return;
  if (error instanceof PoolClosedError) {
    // imap's iteration ends with PoolClosedError when close() is called.
    return closedAllowed || streaming ? undefined : "rejected with " +
      "PoolClosedError, though the pool was closed, not terminated";
  }
  if (error instanceof WorkerCrashedError) {
    // A crash fails the task that was running (or had finished, its result
    // not yet sent); tasks that had not started must run elsewhere.
    return rules.claimWindows || call.items.some((it) => ran(it) >= 1)
      ? undefined
      : `rejected with WorkerCrashedError, though none of its tasks had started (${error.message}; cause: ${
        String(error.cause)
      })`;
  }
  if (error instanceof Error && error.name === "StormError") {
    const index = (error as Error & { index?: unknown }).index;
    const owner = call.items.find((it) => it.index === index);
    return owner?.kind === "fail"
      ? undefined
      : `rejected with the StormError of task ${String(index)}`;
  }
  const first = call.items[0];
  if (
    call.method !== "map" && !streaming && first !== undefined &&
    isBadKind(first.kind) && error instanceof Error
  ) return;
  return `rejected with ${
    error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  }`;
}

function checkAfterEnd(call: Call, streaming: boolean): string | undefined {
  if (call.items.some((it) => ran(it) !== 0)) {
    return "made after the end, yet it ran";
  }
  if (call.status === "resolved") {
    // An imap consumer that broke out before its first item never saw it.
    return streaming && call.breakAt === 0
      ? undefined
      : "made after the end, yet it resolved";
  }
  return call.error instanceof PoolClosedError ? undefined : "made after " +
    `the end, it rejected with ${String(call.error)}, not PoolClosedError`;
}

function checkResolved(call: Call): string | undefined {
  if (call.method === "run" || call.method === "submit") {
    const it = call.items[0] as StormItem;
    if (ran(it) !== 1) return `resolved, but its task ran ${ran(it)} times`;
    if (isHostileKind(it.kind)) return;
    if (!isValueKind(it.kind)) {
      return `resolved with ${String(call.value)}, though it must fail`;
    }
    return call.value === expectedValue(it.index)
      ? undefined
      : `resolved with ${String(call.value)}, not ${expectedValue(it.index)}`;
  }
  if (call.method === "map") {
    if (call.items.some((it) => !isValueKind(it.kind))) {
      return "map resolved, though one of its items must fail";
    }
    const expected = call.items.map((it) => expectedValue(it.index));
    if (JSON.stringify(call.value) !== JSON.stringify(expected)) {
      return `map resolved with ${JSON.stringify(call.value)}`;
    }
    return call.items.every((it) => ran(it) === 1)
      ? undefined
      : "map resolved, but not every item ran once";
  }
  const complete = call.breakAt === undefined ||
    call.breakAt > call.items.length;
  if (complete && call.yielded.length !== call.items.length) {
    return `the iteration ended after ${call.yielded.length} of ${call.items.length} items`;
  }
}

/** imap yields its items' values in input order; imapUnordered a subset. */
function checkYields(call: Call): string | undefined {
  const expected = call.items.map((it) => expectedValue(it.index));
  if (call.method === "imap") {
    for (let j = 0; j < call.yielded.length; j++) {
      if (call.yielded[j] !== expected[j]) {
        return `yielded ${String(call.yielded[j])} at ${j}, not ${expected[j]}`;
      }
      const it = call.items[j] as StormItem;
      if (ran(it) !== 1) {
        return `yielded the value of task ${it.index}, which ran ${
          ran(it)
        } times`;
      }
    }
    return;
  }
  const left = new Set(expected);
  for (const value of call.yielded) {
    if (!left.delete(value as number)) {
      return `yielded ${String(value)}: twice, or not one of its items`;
    }
  }
}

// ---- making and tracking calls ----------------------------------------------

/** Removes and returns a random element of a non-empty list, in O(1). */
export function takeRandom<T>(rng: Random, list: T[]): T {
  const at = rng.int(list.length);
  const chosen = list[at] as T;
  list[at] = list[list.length - 1] as T;
  list.pop();
  return chosen;
}

export function track(call: Call, promise: Promise<unknown>): void {
  call.done = promise.then((value) => {
    call.settles++;
    call.status = "resolved";
    call.value = value;
  }, (error) => {
    call.settles++;
    call.status = "rejected";
    call.error = error;
  });
}

/** Yields `planned`, noting each item in `produced` as it goes. */
export function* produce(planned: StormItem[], produced: StormItem[]) {
  for (const item of planned) {
    produced.push(item);
    yield item;
  }
}

/** The same, as an async source that pauses now and then. */
export async function* produceAsync(
  planned: StormItem[],
  produced: StormItem[],
) {
  for (const item of planned) {
    if (item.index % 3 === 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    produced.push(item);
    yield item;
  }
}

/** Whether `done` settles within `ms` milliseconds (it is not cancelled). */
export function settlesWithin(
  done: Promise<void>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    done.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
