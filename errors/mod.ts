/**
 * Error classes of `@seed/concurrency`, and the format that carries any error
 * across a worker boundary.
 *
 * A task's error reaches the caller with its class (built-in or
 * {@linkcode registerErrorClass registered}; for a class that sets its own
 * `name`, registering it in the caller's thread is enough), name, message,
 * stack, `cause` chain and own fields. What cannot cross is said, never
 * dropped in silence:
 *
 * - An own field whose value cannot be cloned (a function, a symbol, an
 *   object holding one, a class instance whose state is all private) or
 *   whose getter throws arrives as a string that describes it, such as
 *   `[not cloneable: a function named "onClose"]`. The error's non-enumerable
 *   `uncloneableFields` lists the names of those fields; it is absent when
 *   every field arrived as it was.
 * - A thrown value that is not an error arrives as it was when it can be
 *   cloned; one that cannot be cloned or even read (a function, a revoked
 *   Proxy) arrives as a `TypeError` that describes it.
 *
 * @example Finding the fields that did not cross
 * ```ts
 * import { deserializeError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * // What a worker sends and the pool rebuilds:
 * const error = Object.assign(new Error("Socket closed"), {
 *   port: 8080,
 *   onClose: () => {},
 * });
 * const copy = deserializeError(structuredClone(serializeError(error)));
 * assert.equal(copy.port, 8080);
 * assert.deepEqual(copy.uncloneableFields, ["onClose"]);
 * assert.equal(copy.onClose, '[not cloneable: a function named "onClose"]');
 * ```
 *
 * @module
 */
export * from "./pool_closed_error.ts";
export * from "./worker_crashed_error.ts";
export * from "./serialize_error.ts";
export * from "./broken_barrier_error.ts";
export * from "./channel_closed_error.ts";
