// Copyright the @seed/concurrency authors. MIT license.

/**
 * The pool API across machines, on NATS JetStream: a
 * {@linkcode ClusterPool} on the caller's side, and worker processes
 * ({@linkcode serveQueue}, or `cluster/worker.ts` from the command line)
 * that each run tasks in a local `WorkerPool`.
 *
 * This entry point depends on the NATS client (`@nats-io/transport-node`,
 * `@nats-io/jetstream`, `@nats-io/kv` from npm); the rest of the package
 * has no dependencies and does not import it.
 *
 * **Semantics**
 *
 * - **At least once.** A worker acknowledges a task only once its result is
 *   stored on the server. While it runs a task it heartbeats (JetStream's
 *   `working()`, three times per `ackWaitMs`); a worker process that dies
 *   stops heartbeating, and `ackWaitMs` later the server hands its tasks to
 *   another worker. So a task can run more than once (also when a worker
 *   dies after the result was stored but before its acknowledgement), and
 *   **tasks should be idempotent**: running one twice must do no harm, as
 *   with Celery's late acks. A task handed out more than `maxDeliveries`
 *   times fails at the caller with `WorkerCrashedError`.
 * - **Exactly one result per call.** The caller settles each call once, with
 *   the first result; a duplicate from a redelivery is dropped by task id
 *   (counted in `stats.duplicates`).
 * - **Errors** are as lossless as in the local pool: class, name, message,
 *   the remote stack, `cause` chain and own fields cross through
 *   `serializeError`/`deserializeError` (register your own classes with
 *   `registerErrorClass` on the caller's side). A crash inside a task (its
 *   thread dies) rejects that call with `WorkerCrashedError`, and the worker
 *   process goes on serving with a new thread.
 * - **Cancellation** removes a queued task from the server and aborts a
 *   running one on whichever machine holds it (the task sees
 *   `currentTask().signal`; a busy loop should poll `currentTask().aborted`).
 *   Cancellations are kept in a key-value bucket for an hour, so a worker
 *   that was disconnected when one was made still sees it.
 * - **Backpressure.** A caller has at most `maxInFlight` calls sent and
 *   unsettled; `map` and `imap` send chunks of items, not one message per
 *   item, and lists of numbers travel as `Float64Array`.
 * - **Restarts.** Tasks, results and consumers live in the server's file
 *   store: a server restart loses no task and no result, and callers and
 *   workers reconnect by themselves; what they publish meanwhile is retried
 *   under the same message id, which the server stores once.
 *
 * @example A caller and a worker on one machine
 * ```ts
 * import { ClusterPool, serveQueue, startNatsServer } from "@seed/concurrency/cluster";
 * import assert from "node:assert/strict";
 *
 * await using server = await startNatsServer();
 * const module = "data:text/javascript,export const square = (x) => x * x;";
 * await using _worker = await serveQueue({ servers: server.url, queue: "doc-mod", module, size: 2 });
 * await using pool = new ClusterPool<{ square(x: number): number }>({
 *   servers: server.url,
 *   queue: "doc-mod",
 * });
 * assert.deepEqual(await pool.map("square", [0, 1, 2, 3]), [0, 1, 4, 9]);
 * ```
 *
 * @module
 */
export * from "./cluster_pool.ts";
export * from "./worker.ts";
export * from "./nats_server.ts";
