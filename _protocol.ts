// Copyright the @seed/concurrency authors. MIT license.
// Internal: the wire protocol between the pool (main thread) and its workers.
//
// Messages are arrays whose first element is the message type. Tasks and
// results follow as fixed-size records in the same flat array, so that a batch
// of many tasks is one message and one structured clone.
//
// main -> worker
//   [INIT, moduleUrl | null, ctrl: SharedArrayBuffer, lifeline: string]
//   [TASKS, fns: (fnId, kind, text)[] flat | null, ...(id, fnId, payload, mode)]
//   [ABORT, id, reason: SerializedError]
// worker -> main
//   [READY]
//   [LOAD_ERROR, SerializedError]
//   [FATAL, SerializedError]
//   [RESULTS, ...(id, status, value, runTimeMs)]
//
// The fast path. A lone call with one primitive argument, sent to an idle
// worker, travels as the bare primitive, which Deno posts without the V8
// serializer (about 3 µs less per round trip than a one-element array); its
// id and function go in ctrl[FAST_ID] and ctrl[FAST_FN]. A fast task whose
// result is a primitive answers with the bare result, its id and run time in
// ctrl[ANSWER_ID] and ctrl[ANSWER_RUN_US]. Neither side can overwrite these
// slots before the other has read them: the main thread sends a fast task only
// to a worker with nothing in flight, so the previous answer has been read.
//
// The control block (`ctrl`, an Int32Array over a SharedArrayBuffer) lets the
// main thread cancel tasks that a worker holds, and take back tasks it has not
// started (work stealing), without waiting for the worker's event loop, which
// a synchronous task keeps busy:
//   ctrl[RUNNING]  the id of the task the worker is running, 0 between tasks
//   ctrl[TAKEN]    how many tasks the worker has taken from its queue
//   ctrl[EPOCH]    how many marks the main thread has written
//   ctrl[SEEN]     how many marks the worker has read (the ring must not
//                  overwrite a mark the worker has not read)
//   ctrl[RING + (n % RING_SIZE)]  the n-th mark: a task id to cancel, or
//                  -(seq + 1) for the seq-th record of the worker's queue,
//                  taken back to run elsewhere (skip it, do not abort it). A
//                  task can be in one queue twice (taken back, then given
//                  back), so a taken-back record is named by its place.
// The main thread writes the mark, then bumps EPOCH, then reads TAKEN (or
// RUNNING); the worker bumps TAKEN and writes RUNNING, then reads EPOCH. With
// sequentially consistent atomics at least one side sees the other: either
// the main thread knows the task was taken, or the worker sees the mark
// before it starts the task.

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
/**
 * A chunk of numbers sent as a Float64Array (a memcpy to clone, where an array
 * of numbers costs a value at a time). The worker answers with a Float64Array
 * too, moved rather than copied, while every result is a number.
 */
export const MODE_F64 = 4;
/** A task that came by the fast path (see above), set by the worker. */
export const MODE_FAST = 8;

/** Result statuses. */
export const OK = 0;
export const ERROR = 1;
export const SKIPPED = 2;

export const TASK_FIELDS = 4;
export const RESULT_FIELDS = 4;

export const CTRL_RUNNING = 0;
export const CTRL_TAKEN = 1;
export const CTRL_EPOCH = 2;
export const CTRL_SEEN = 3;
export const CTRL_FAST_ID = 4;
export const CTRL_FAST_FN = 5;
export const CTRL_ANSWER_ID = 6;
export const CTRL_ANSWER_RUN_US = 7;
export const CTRL_RING = 8;
export const CTRL_RING_SIZE = 256;
export const CTRL_LENGTH = CTRL_RING + CTRL_RING_SIZE;

/** The global slot through which `currentTask()` finds the running task. */
export const CURRENT_TASK: unique symbol = Symbol.for(
  "@seed/concurrency/currentTask",
);
