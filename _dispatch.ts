// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: how tasks travel to a worker. Many small tasks go in one message
 * (one structured clone), with the definitions of functions the worker has
 * not seen; a large payload, or one that transfers, goes alone, so the
 * worker starts on it while the next message is copied. A lone primitive call
 * to an idle worker takes the fast path (see `_protocol.ts`). A batch of calls
 * that each take one number goes to a thread as one Float64Array
 * (`TASKS_NUM`): a memcpy to clone, where the same tasks as values cost the
 * V8 serializer about 0.4 µs each, a sixth of a tiny call's main-thread
 * time.
 *
 * A message that cannot be cloned never reaches the worker: its tasks are
 * taken back, the ones at fault fail with an error that names the argument
 * or item, and the rest are sent again.
 *
 * @module
 */

import type { FnTable } from "./_fn_table.ts";
import {
  MODE_CALL,
  MODE_CHUNK,
  MODE_WIRE,
  NUM_FIELDS,
  TASKS,
  TASKS_NUM,
} from "./_protocol.ts";
import type { Task } from "./_task.ts";
import type { WorkerHandle } from "./_worker_handle.ts";
import { describe } from "./errors/_describe.ts";

/** The most tasks in one message. */
export const MAX_BATCH = 1024;
/** A message is cut once its tasks carry this many arguments or items. */
export const MAX_BATCH_ITEMS = 4096;
/** A message is cut once its payloads weigh about this many bytes. */
const MAX_BATCH_BYTES = 256 * 1024;

/** A task that could not be sent, and why. */
export interface SendFailure {
  task: Task;
  error: Error;
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === "number" || type === "string" || type === "boolean";
}

/** Whether every task of `batch` (two or more) is a call with one number. */
function numberCalls(batch: readonly Task[]): boolean {
  if (batch.length < 2) return false;
  for (const task of batch) {
    if (task.mode !== MODE_CALL || task.transfer !== undefined) return false;
    const payload = task.payload as unknown[];
    if (payload.length !== 1 || typeof payload[0] !== "number") return false;
  }
  return true;
}

/** How many arguments or items a task carries. */
export function weightOf(task: Task): number {
  const payload = task.payload as ArrayLike<unknown>;
  return (task.mode & MODE_WIRE) !== 0
    ? (payload[0] as unknown[]).length
    : payload.length;
}

/**
 * Sends `tasks` to `worker`, which must be ready, in order.
 *
 * @returns The tasks that could not be sent, with their errors (they are no
 *   longer held by `worker`).
 */
export function sendTasks(
  worker: WorkerHandle,
  tasks: readonly Task[],
  fns: FnTable,
): SendFailure[] {
  const failures: SendFailure[] = [];
  let start = 0;
  while (start < tasks.length) {
    let end = start + 1;
    let weight = weightOf(tasks[start] as Task);
    let bytes = (tasks[start] as Task).bytes;
    if ((tasks[start] as Task).transfer === undefined) {
      while (end < tasks.length && end - start < MAX_BATCH) {
        const next = tasks[end] as Task;
        if (next.transfer !== undefined) break;
        weight += weightOf(next);
        bytes += next.bytes;
        if (weight > MAX_BATCH_ITEMS || bytes > MAX_BATCH_BYTES) break;
        end++;
      }
    }
    const batch = start === 0 && end === tasks.length
      ? tasks
      : tasks.slice(start, end);
    sendBatch(worker, batch, fns, failures);
    start = end;
  }
  return failures;
}

function sendBatch(
  worker: WorkerHandle,
  batch: readonly Task[],
  fns: FnTable,
  failures: SendFailure[],
): void {
  const first = batch[0] as Task;
  const firstSeq = worker.nextSeq;
  if (
    batch.length === 1 && worker.fastPath && worker.heldCount === 0 &&
    first.mode === MODE_CALL &&
    first.transfer === undefined && worker.known.has(first.fnId) &&
    (first.payload as unknown[]).length === 1 &&
    isPrimitive((first.payload as unknown[])[0])
  ) {
    worker.hold(first);
    try {
      worker.sendFast(first.id, first.fnId, (first.payload as unknown[])[0]);
    } catch (error) {
      worker.unhold(firstSeq);
      failures.push({ task: first, error: sendError(first, fns, error) });
    }
    return;
  }
  let defs: unknown[] | null = null;
  for (const task of batch) {
    if (!worker.known.has(task.fnId)) {
      worker.known.add(task.fnId);
      fns.appendDefinition(defs ??= [], task.fnId);
    }
    worker.hold(task);
  }
  let message: unknown[];
  let transfer: Transferable[] | undefined;
  if (worker.fastPath && numberCalls(batch)) {
    const records = new Float64Array(batch.length * NUM_FIELDS);
    let at = 0;
    for (const task of batch) {
      records[at++] = task.id;
      records[at++] = task.fnId;
      records[at++] = (task.payload as number[])[0] as number;
    }
    message = [TASKS_NUM, defs, records];
  } else {
    message = [TASKS, defs];
    for (const task of batch) {
      message.push(task.id, task.fnId, task.payload, task.mode);
      if (task.transfer !== undefined) transfer = task.transfer;
    }
  }
  try {
    worker.post(message, transfer);
    return;
  } catch (error) {
    // Nothing reached the worker: not the tasks, nor the definitions.
    worker.unhold(firstSeq);
    if (defs !== null) {
      for (let i = 0; i < defs.length; i += 3) {
        worker.known.delete(defs[i] as number);
      }
    }
    isolate(worker, batch, fns, error, failures);
  }
}

/** A batch failed to clone: fail the tasks at fault, send the rest. */
function isolate(
  worker: WorkerHandle,
  batch: readonly Task[],
  fns: FnTable,
  batchError: unknown,
  failures: SendFailure[],
): void {
  if (batch.length === 1) {
    const task = batch[0] as Task;
    failures.push({
      task,
      error: cloneProblem(task, fns, worker) ??
        sendError(task, fns, batchError),
    });
    return;
  }
  const ok: Task[] = [];
  for (const task of batch) {
    const problem = cloneProblem(task, fns, worker);
    if (problem === undefined) ok.push(task);
    else failures.push({ task, error: problem });
  }
  if (ok.length === batch.length) {
    // Nothing alone is at fault: fail them all.
    for (const task of batch) {
      failures.push({ task, error: sendError(task, fns, batchError) });
    }
    return;
  }
  if (ok.length > 0) sendBatch(worker, ok, fns, failures);
}

function sendError(task: Task, fns: FnTable, cause: unknown): TypeError {
  return new TypeError(`Cannot send ${fns.label(task.fnId)} to a worker`, {
    cause,
  });
}

/** Which argument or item of `task` cannot be cloned, as an error. */
function cloneProblem(
  task: Task,
  fns: FnTable,
  worker: WorkerHandle,
): TypeError | undefined {
  const items =
    ((task.mode & MODE_WIRE) !== 0
      ? (task.payload as unknown[])[0]
      : task.payload) as ArrayLike<unknown>;
  for (let i = 0; i < items.length; i++) {
    try {
      worker.checkClone(items[i]);
    } catch (error) {
      const what = (task.mode & MODE_CHUNK) !== 0
        ? `item ${task.offset + i} given to ${fns.label(task.fnId)}`
        : `argument ${i} of ${fns.label(task.fnId)}`;
      return new TypeError(
        `Cannot send ${what} to a worker as ${
          describe(items[i])
        } cannot be cloned: pass only structured-cloneable values (no functions, symbols or class instances with private state${worker.cloneRule})`,
        { cause: error },
      );
    }
  }
  return undefined;
}
