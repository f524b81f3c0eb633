// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the messages between the pool (main thread) and its workers.
 *
 * The main thread posts one message on the `Worker` itself, INIT, which
 * hands the worker a private `MessagePort`; everything after goes over that
 * port. Task code can reach `self.postMessage` but never the port, so it
 * cannot forge the pool's messages, and anything that arrives on the `Worker`
 * after INIT breaks the protocol: the worker is retired as crashed.
 *
 * Messages are arrays whose first element is the type. Tasks and results
 * follow as fixed-size records in the same flat array, so that a batch of
 * many tasks is one message and one structured clone.
 *
 * ```text
 * main -> worker, on the Worker:
 *   [INIT, moduleUrl | null, control: SharedArrayBuffer, lifeline, port,
 *    staticEntry: whether the entry imports the task module itself]
 * main -> worker, on the port:
 *   [TASKS, defs: (fnId, kind, text)[] flat | null, ...(id, fnId, payload, mode)]
 *   [TASKS_NUM, defs | null, Float64Array of ...(id, fnId, argument)]
 *                             calls with one number argument each (threads)
 *   [ABORT, seq, reason: SerializedError]
 *   a bare primitive: the fast path, below
 * worker -> main, on the port:
 *   [LIVE]                    it holds its lifeline
 *   [READY]                   its task module is loaded
 *   [LOAD_ERROR, SerializedError]
 *   [FATAL, SerializedError]  it is about to die (reported by its bootstrap)
 *   [RESULTS, ...(seq, status, value, runTimeMs)]
 *   a bare number: results in the ring, below
 * ```
 *
 * Tasks carry no seq: both sides count records in posting order (see
 * `_control.ts`). Results name their seq, so they may come in any order.
 *
 * TASKS may be posted before READY (to a thread starting while no worker is
 * ready): the worker reads its port only once its task module is loaded,
 * and posts READY before it reads anything, so READY still comes before any
 * result.
 *
 * **The fast path.** A lone call with one primitive argument, sent to an idle
 * worker, travels as the bare primitive, which Deno posts without the V8
 * serializer (a few microseconds less per round trip than an array); its id
 * and function go in the control block. The worker never receives a second
 * one before it has read the first: the main thread sends a fast task only
 * to a worker that holds nothing. A number or boolean argument for a worker
 * parked after its last task goes without any message (see `_doorbell.ts`),
 * and so does the announcement of its result.
 *
 * **Results in the ring.** A result that is a number, a boolean, `undefined`
 * or `null` goes into the result ring of the control block (see
 * `_control.ts`), not into a message; a bare number from the worker (the
 * count of records it has written) says there are new ones. The main thread
 * reads the ring on every message from the worker, and on its heartbeat.
 *
 * **Trust.** The worker is untrusted input. The main thread checks every
 * message (`checkMessage` here, and each result against the task it names);
 * a message that breaks the protocol retires the worker as crashed, never
 * throws in the main thread, and never settles another worker's task.
 *
 * @module
 */

export const INIT = 0;
export const TASKS = 1;
export const ABORT = 2;
/**
 * Tasks that are calls (`MODE_CALL`) with one number argument each, as
 * records of `NUM_FIELDS` numbers in one Float64Array: the same tasks as a
 * TASKS message, in the same order, but a memcpy to clone. Thread workers
 * only.
 */
export const TASKS_NUM = 3;

export const LIVE = 10;
export const READY = 11;
export const LOAD_ERROR = 12;
export const FATAL = 13;
export const RESULTS = 14;

/** Function kinds in a TASKS message. */
export const FN_NAME = 0;
export const FN_SOURCE = 1;

/** Task record modes: flags. */
export const MODE_CALL = 0;
/** The payload is a chunk of items; the function runs on each. */
export const MODE_CHUNK = 1;
/**
 * The payload is `[values, paths]`: values with library objects encoded at
 * `paths` (see `_wire.ts`).
 */
export const MODE_WIRE = 2;
/**
 * A chunk of numbers sent as a Float64Array (a memcpy to clone, where an
 * array of numbers costs a value at a time). The worker answers with a
 * Float64Array too, moved rather than copied, while every result is a number.
 */
export const MODE_F64 = 4;
/** A chunk of argument lists (`starmap`): the function runs on each, spread. */
export const MODE_STAR = 8;

/** Result statuses. */
export const OK = 0;
export const ERROR = 1;
/** A result with library objects encoded: `[value, paths]`. */
export const OK_WIRE = 2;

export const TASK_FIELDS = 4;
/** Numbers per task in a TASKS_NUM message: id, fnId, argument. */
export const NUM_FIELDS = 3;
export const RESULT_FIELDS = 4;

/** The global slot through which `currentTask()` finds the running task. */
export const CURRENT_TASK: unique symbol = Symbol.for(
  "@seed/concurrency/currentTask",
);

/**
 * Checks the shape of a message a worker posted on its port.
 *
 * @returns A description of what is wrong, or `undefined` if the shape is
 *   right (results are checked one by one against their tasks).
 */
export function checkMessage(data: unknown): string | undefined {
  if (typeof data !== "object") {
    // Results announced in the ring; each is checked against its task.
    return typeof data === "number" ? undefined : `a bare ${typeof data}`;
  }
  if (!Array.isArray(data) || data.length === 0) return "a malformed message";
  switch (data[0]) {
    case LIVE:
    case READY:
      return data.length === 1 ? undefined : "a malformed status message";
    case LOAD_ERROR:
    case FATAL:
      return data.length === 2 ? undefined : "a malformed error report";
    case RESULTS:
      return data.length > 1 && (data.length - 1) % RESULT_FIELDS === 0
        ? undefined
        : "a malformed batch of results";
    default:
      return "a message of unknown type";
  }
}
