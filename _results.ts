// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: reading what a worker says on its port. A worker is untrusted
 * input, so every message is checked before anyone acts on it: its shape
 * (`checkMessage`), that it fits the worker's state (READY once, while
 * starting; results only once ready), and each result against the task it
 * names: the seq must name a task the worker holds, whose slot says DONE (the
 * worker ended it), with a known status and a run time; a chunk's results
 * must match its items. Anything else breaks the protocol, and the scheduler
 * retires the worker.
 *
 * @module
 */

import { DONE } from "./_control.ts";
import {
  checkMessage,
  ERROR,
  FATAL,
  LIVE,
  LOAD_ERROR,
  MODE_CHUNK,
  MODE_WIRE,
  OK,
  OK_WIRE,
  READY,
  RESULT_FIELDS,
  RESULTS,
} from "./_protocol.ts";
import type { Task } from "./_task.ts";
import type { WirePath } from "./_wire.ts";
import { reviveValues } from "./_wire_revive.ts";
import type { WorkerHandle } from "./_worker_handle.ts";
import {
  deserializeError,
  type SerializedError,
} from "./errors/serialize_error.ts";

/** Receives one checked answer; the task is no longer held by its worker. */
export type Answer = (
  task: Task,
  ok: boolean,
  value: unknown,
  runTimeMs: number,
) => void;

/** What the scheduler does with a worker's messages, once checked. */
export interface MessageEvents {
  /** The worker loaded its task module. */
  ready(worker: WorkerHandle): void;
  /** The worker reported its death (or a load failure) with `cause`. */
  died(worker: WorkerHandle, cause: unknown): void;
  /** The worker broke the protocol: `what` says how. */
  broke(worker: WorkerHandle, what: string): void;
  /** One result, checked; the worker has released its task. */
  answer: Answer;
  /** A batch of results was taken. */
  answered(worker: WorkerHandle): void;
}

/** Checks and dispatches one message from `worker`'s port. */
export function readMessage(
  worker: WorkerHandle,
  data: unknown,
  events: MessageEvents,
): void {
  const state = worker.state;
  if (
    state !== "starting" && state !== "ready" && state !== "retiring" &&
    state !== "dying"
  ) {
    return; // out of service: whatever it still says is moot
  }
  const problem = checkMessage(data);
  if (problem !== undefined) return events.broke(worker, problem);
  if (typeof data !== "object") {
    // Results announced in the ring (see _control.ts).
    if (state === "starting" || typeof data !== "number") {
      return events.broke(worker, `a bare ${typeof data}`);
    }
    return readResults(worker, undefined, events);
  }
  const message = data as unknown[];
  switch (message[0]) {
    case RESULTS:
      if (state === "starting") {
        return events.broke(worker, "results before READY");
      }
      return readResults(worker, message, events);
    case LIVE:
      if (state !== "starting") return events.broke(worker, "a second LIVE");
      return worker.watch();
    case READY:
      if (state !== "starting") return events.broke(worker, "a second READY");
      return events.ready(worker);
    case LOAD_ERROR:
      if (state !== "starting") {
        return events.broke(worker, "a late LOAD_ERROR");
      }
      return events.died(worker, readError(message[1]));
    case FATAL:
      return events.died(worker, readError(message[1]));
  }
}

/** Rebuilds an error a worker sent (or whatever it threw), never throwing. */
function readError(data: unknown): unknown {
  try {
    return deserializeError(data as SerializedError);
  } catch {
    return new Error("The worker reported an error that could not be read");
  }
}

/**
 * Takes the results in `worker`'s ring, then those of a RESULTS message, if
 * any (its shape already checked); or reports what broke the protocol.
 */
export function readResults(
  worker: WorkerHandle,
  message: unknown[] | undefined,
  events: MessageEvents,
): void {
  let broken: string | undefined;
  const taken = worker.control.takeResults((seq, value, runTimeMs) => {
    broken ??= takeOne(worker, seq, OK, value, runTimeMs, events.answer);
  });
  if (message === undefined && taken === 0) return;
  if (message !== undefined) {
    for (
      let i = 1;
      i < message.length && broken === undefined;
      i += RESULT_FIELDS
    ) {
      broken = takeOne(
        worker,
        message[i] as number,
        message[i + 1],
        message[i + 2],
        message[i + 3] as number,
        events.answer,
      );
    }
  }
  const now = performance.now();
  worker.lastProgressAt = now;
  if (worker.heldCount === 0) worker.idleSince = now;
  if (broken !== undefined) return events.broke(worker, broken);
  events.answered(worker);
}

/**
 * Takes one result.
 *
 * @returns What is wrong with it, or `undefined`.
 */
function takeOne(
  worker: WorkerHandle,
  seq: number,
  status: unknown,
  value: unknown,
  runTimeMs: number,
  answer: Answer,
): string | undefined {
  const task = worker.at(seq);
  if (task === undefined) {
    return `a result for task ${String(seq)}, which it does not hold`;
  }
  if (worker.control.state(seq) !== DONE) {
    return `a result for task ${seq}, which it did not finish`;
  }
  if (typeof runTimeMs !== "number" || !(runTimeMs >= 0)) {
    return "a result without a run time";
  }
  if (status !== OK && status !== ERROR && status !== OK_WIRE) {
    return "a result of unknown status";
  }
  if (
    status === OK && (task.mode & MODE_CHUNK) !== 0 && !fitsChunk(task, value)
  ) {
    return "a chunk of results that does not match its items";
  }
  worker.release(task);
  worker.finished++;
  if (status === OK) answer(task, true, value, runTimeMs);
  else if (status === ERROR) answer(task, false, readError(value), runTimeMs);
  else reviveResult(task, value, runTimeMs, answer);
  return undefined;
}

function fitsChunk(task: Task, value: unknown): boolean {
  const items =
    ((task.mode & MODE_WIRE) !== 0
      ? (task.payload as unknown[])[0]
      : task.payload) as ArrayLike<unknown>;
  return (Array.isArray(value) || value instanceof Float64Array) &&
    value.length === items.length;
}

/** A result that carries library objects: `[value, paths]`. */
function reviveResult(
  task: Task,
  value: unknown,
  runTimeMs: number,
  answer: Answer,
): void {
  if (!Array.isArray(value) || value.length !== 2) {
    answer(
      task,
      false,
      new Error("The worker sent a malformed result"),
      runTimeMs,
    );
    return;
  }
  const values = [value[0]];
  reviveValues(values, value[1] as WirePath[]).then(
    () => answer(task, true, values[0], runTimeMs),
    (error) => answer(task, false, error, runTimeMs),
  );
}
