// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: what the pool does to a {@linkcode Future} that a caller cannot:
 * settle it with a task's outcome, and set the canceller that stops the task.
 * `Future` registers these from its static block; see `_internals.ts` for the
 * pattern.
 *
 * @module
 */

import type { Canceller, Future } from "./future.ts";
import { Internals } from "./_internals.ts";

/** What `Future` registers. */
export interface FutureInternals {
  /** See {@linkcode settleFuture}. */
  settle(future: Future<unknown>, ok: boolean, value: unknown): boolean;
  /** See {@linkcode onFutureCancel}. */
  onCancel(future: Future<unknown>, canceller: Canceller): void;
}

const internals = new Internals<FutureInternals>("Future");

/** Called once, by `Future`'s static block. */
export function registerFutureInternals(impl: FutureInternals): void {
  internals.register(impl);
}

/**
 * Fulfils `future` with `value` (`ok`) or rejects it with `value` as the
 * error (`!ok`).
 *
 * @returns `false` if the future had settled already (it is left as it was).
 */
export function settleFuture<T>(
  future: Future<T>,
  ok: boolean,
  value: unknown,
): boolean {
  return internals.get().settle(future as Future<unknown>, ok, value);
}

/**
 * Sets what {@linkcode Future.cancel} calls to stop the work behind
 * `future`, replacing any canceller set before. Cleared once the future
 * settles.
 */
export function onFutureCancel<T>(
  future: Future<T>,
  canceller: Canceller,
): void {
  internals.get().onCancel(future as Future<unknown>, canceller);
}
