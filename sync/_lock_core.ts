// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: lets Condition reach the FIFO core of a Lock without widening
 * Lock's public API. `Lock` registers it from its static block; see
 * `../_internals.ts` for the pattern.
 *
 * @module
 */

import { Internals } from "../_internals.ts";
import type { FairSemaphore } from "./_fair_semaphore.ts";
import type { Lock } from "./lock.ts";

/** What `Lock` registers. */
export interface LockInternals {
  /** See {@linkcode lockCore}. */
  core(lock: Lock): FairSemaphore;
}

const internals = new Internals<LockInternals>("Lock");

/** Called once, by `Lock`'s static block. */
export function registerLockInternals(impl: LockInternals): void {
  internals.register(impl);
}

/** The FIFO core (one permit) of `lock`. */
export function lockCore(lock: Lock): FairSemaphore {
  return internals.get().core(lock);
}
