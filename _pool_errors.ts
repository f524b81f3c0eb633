// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the errors the scheduler settles calls with, worded in one
 * place. Each says what happened and what the user can do.
 *
 * @module
 */

import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { WorkerCrashedError } from "./errors/worker_crashed_error.ts";

/** A pending call when the pool was terminated (or closed under it). */
export function closedError(): PoolClosedError {
  return new PoolClosedError(
    "The task was pending when the pool was terminated",
  );
}

/**
 * A task that had started on a worker that died: it had `finished` (its
 * result lost), was `running`, or was `claimed` by a process worker that
 * died without saying whether it had started it.
 */
export function diedError(
  workerId: number,
  label: string,
  phase: "finished" | "running" | "claimed",
  cause: unknown,
  how?: string,
): WorkerCrashedError {
  const what = phase === "finished"
    ? "died after finishing"
    : phase === "running"
    ? "died while running"
    : "died while running, or about to run,";
  return new WorkerCrashedError(
    `Worker ${workerId} ${what} ${label}${
      how === undefined ? "" : ` (${how})`
    }: the pool replaced it`,
    { cause, workerId },
  );
}

/** An unstarted task whose transferred arguments died with its worker. */
export function lostTransferError(
  workerId: number,
  label: string,
  cause: unknown,
): WorkerCrashedError {
  return new WorkerCrashedError(
    `Worker ${workerId} ended holding ${label}, whose transferred arguments were lost with it`,
    { cause, workerId },
  );
}

/** Why every call fails once the workers cannot start. */
export function loadError(url: string | null, cause: unknown): Error {
  return new Error(
    url === null
      ? "Cannot start a pool worker as it failed while starting"
      : `Cannot load the task module ${url}: fix the module or the URL and create a new pool`,
    { cause },
  );
}

/** Why a worker whose cancelled task would not stop was terminated. */
export function graceError(graceMs: number): Error {
  return new Error(
    `A cancelled task did not stop within abortGraceMs (${graceMs} ms), so its worker was terminated`,
  );
}

/** What the pool says, once, when it seems stuck on channel waits. */
export function stallWarning(
  name: string,
  size: number,
  queued: number,
): string {
  return `${name}: every worker (size ${size}) has waited over a second in a channel operation (WorkerChannel, pipe) while ${queued} task(s) wait for a worker. Tasks that talk over a channel must all be running at once: if they wait for the queued ones, the pool is stuck. Give the pool a size of at least the number of such tasks.`;
}

/** Why a worker that broke the protocol was retired. */
export function protocolError(what: string): Error {
  return new Error(
    `The worker broke the pool's protocol (${what}), so it was retired`,
  );
}

/** A task for a process worker carries shared-memory objects. */
export function sharedInProcessError(label: string, type: string): TypeError {
  return new TypeError(
    `Cannot send ${label} to a process worker as its arguments or items hold a ${type}, which lives in shared memory: processes share no memory. Use isolation: "thread" for tasks that share memory; between processes, pass a WorkerChannel or a pipe() end (they work across processes), or plain values`,
  );
}
