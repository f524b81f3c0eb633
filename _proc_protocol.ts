// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the messages between the pool and a process worker (a child
 * `deno` process), carried as frames (`_proc_frame.ts`) over the child's
 * file descriptor 3, a Unix socket pair that `node:child_process` sets up.
 * The child's stdin is /dev/null and its stdout and stderr are the
 * parent's, so task code prints as it does in a thread and cannot read or
 * break the channel through its standard streams.
 *
 * Messages are arrays whose first element is the type; the types shared
 * with thread workers keep their numbers from `_protocol.ts`.
 *
 * ```text
 * parent -> child:
 *   [INIT, moduleUrl | null, staticEntry]   the first message, exactly once
 *   [TASKS, defs, ...(id, fnId, payload, mode)]   as for threads (_protocol.ts)
 *   [ABORT, seq, SerializedError]            cancel task seq
 *   [PORT, id, data]                         a message on a bridged port
 *   [PING, token]                            answered by PONG at once
 *   [CALL, id, exportName, args]             a bare call (transport tests)
 * child -> parent:
 *   [LIVE, pid]                 the bootstrap runs and the channel works
 *   [READY]                     its task module is loaded
 *   [LOAD_ERROR, SerializedError]
 *   [FATAL, SerializedError]    it is about to die (an uncaught error, an
 *                               unhandled rejection, self.close()), sent
 *                               before it exits
 *   [CLAIM, through]            tasks through seq `through` may start
 *   [STARTED, through]          last words, before FATAL: no task after
 *                               seq `through` started, nor will
 *   [PORT, id, data]            a message on a bridged port (_proc_ports.ts)
 *   [RESULTS, ...(seq, status, value, runTimeMs)]   as for threads
 *   [PONG, token]
 *   [RESULT, id, OK | ERROR, value | SerializedError]   answers CALL
 * ```
 *
 * Tasks carry no seq: both sides count TASKS records in order, as with
 * threads. **Claims** replace the control block's compare-and-swap: the
 * child writes a CLAIM and waits until it is written out before any task it
 * covers starts, so the parent's last claim bounds what may have started
 * (see `_process_worker.ts`). An ABORT for a task not started makes the
 * child skip it and answer it at once; for a running one, its signal aborts.
 *
 * **Trust.** As with threads, what a child sends is untrusted: the parent
 * checks each message's shape ({@linkcode checkChildMessage}); a message
 * that breaks the protocol, or a frame that breaks the format, is a crashed
 * worker. Task code runs in the child's process and can reach fd 3 itself,
 * so it could forge messages: the same trust as task code in a thread,
 * which shares its realm with the worker's bootstrap.
 *
 * @module
 */

import { PORT } from "./_proc_ports.ts";
import {
  FATAL,
  INIT,
  LIVE,
  LOAD_ERROR,
  READY,
  RESULT_FIELDS,
  RESULTS,
} from "./_protocol.ts";

export {
  ABORT,
  CURRENT_TASK,
  ERROR,
  FATAL,
  INIT,
  LIVE,
  LOAD_ERROR,
  MODE_WIRE,
  OK,
  READY,
  RESULTS,
  TASK_FIELDS,
  TASKS,
} from "./_protocol.ts";

export const PING = 20;
export const CALL = 21;
export const PONG = 30;
export const RESULT = 31;
/** [CLAIM, through]: the tasks through seq `through` may start. */
export const CLAIM = 32;
/**
 * [STARTED, through]: the child's last words before FATAL: no task after
 * seq `through` started, and none will.
 */
export const STARTED = 34;

/** The file descriptor of the channel in the child. */
export const CHANNEL_FD = 3;

/**
 * Checks the shape of a message from a child.
 *
 * @returns A description of what is wrong, or `undefined` if it is right.
 */
export function checkChildMessage(data: unknown): string | undefined {
  if (!Array.isArray(data) || data.length === 0) return "a malformed message";
  switch (data[0]) {
    case LIVE:
      return data.length === 2 && Number.isInteger(data[1])
        ? undefined
        : "a malformed LIVE";
    case READY:
      return data.length === 1 ? undefined : "a malformed READY";
    case LOAD_ERROR:
    case FATAL:
      return data.length === 2 ? undefined : "a malformed error report";
    case PONG:
      return data.length === 2 ? undefined : "a malformed PONG";
    case CLAIM:
    case STARTED:
      return data.length === 2 && Number.isInteger(data[1])
        ? undefined
        : "a malformed CLAIM";
    case RESULTS:
      return data.length > 1 && (data.length - 1) % RESULT_FIELDS === 0
        ? undefined
        : "a malformed batch of results";
    case PORT:
      return data.length === 3 && Number.isInteger(data[1])
        ? undefined
        : "a malformed PORT";
    case RESULT:
      return data.length === 4 && Number.isInteger(data[1])
        ? undefined
        : "a malformed RESULT";
    default:
      return "a message of unknown type";
  }
}

/** The INIT message. */
export function initMessage(
  moduleUrl: string | null,
  staticEntry: boolean,
): unknown[] {
  return [INIT, moduleUrl, staticEntry];
}
