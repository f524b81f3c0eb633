// Copyright the @seed/concurrency authors. MIT license.
// Internal: the wire protocol between the pool (main thread) and its workers.
//
// Messages are arrays whose first element is the message type. Task and result
// lists are flat arrays of fixed-size records, so that a batch of many tasks is
// one message and one structured clone.
//
// main -> worker
//   [INIT, moduleUrl | null, ctrl: SharedArrayBuffer, lifeline: string]
//   [TASKS, fns: (fnId, kind, text)[] flat | null, tasks: (id, fnId, payload, mode)[] flat]
//   [ABORT, id, reason: SerializedError]
// worker -> main
//   [READY]
//   [LOAD_ERROR, SerializedError]
//   [FATAL, SerializedError]
//   [RESULTS, (id, status, value, runTimeMs)[] flat]
//
// The control block (`ctrl`, an Int32Array over a SharedArrayBuffer) lets the
// main thread cancel tasks that a worker holds without waiting for the
// worker's event loop, which a synchronous task keeps busy:
//   ctrl[RUNNING]  the id of the task the worker is running, 0 between tasks
//   ctrl[EPOCH]    how many cancellations the main thread has written
//   ctrl[RING + (n % RING_SIZE)]  the id of the n-th cancelled task
// The main thread writes the id, then bumps EPOCH, then reads RUNNING; the
// worker writes RUNNING, then reads EPOCH. With sequentially consistent
// atomics at least one side sees the other: either the main thread knows the
// task is running, or the worker sees the cancellation before it starts.

export const INIT = 0;
export const TASKS = 1;
export const ABORT = 2;

export const READY = 10;
export const LOAD_ERROR = 11;
export const FATAL = 12;
export const RESULTS = 13;

/** Function kinds in a TASKS message. */
export const FN_NAME = 0;
export const FN_SOURCE = 1;

/** Task record modes: flags. */
export const MODE_CALL = 0;
export const MODE_CHUNK = 1;
export const MODE_WIRE = 2;

/** Result statuses. */
export const OK = 0;
export const ERROR = 1;
export const SKIPPED = 2;

export const TASK_FIELDS = 4;
export const RESULT_FIELDS = 4;

export const CTRL_RUNNING = 0;
export const CTRL_EPOCH = 1;
export const CTRL_RING = 2;
export const CTRL_RING_SIZE = 256;
export const CTRL_LENGTH = CTRL_RING + CTRL_RING_SIZE;

/** The global slot through which `currentTask()` finds the running task. */
export const CURRENT_TASK: unique symbol = Symbol.for(
  "@seed/concurrency/currentTask",
);
