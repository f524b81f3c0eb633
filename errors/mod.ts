/**
 * Error classes of `@seed/concurrency`, and the format that carries any error
 * across a worker boundary.
 *
 * @module
 */
export * from "./pool_closed_error.ts";
export * from "./worker_crashed_error.ts";
export * from "./serialize_error.ts";
export * from "./broken_barrier_error.ts";
export * from "./channel_closed_error.ts";
