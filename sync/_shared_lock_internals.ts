// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: what `SharedValue` and `SharedArray` need of `SharedLock` that
 * its public API does not offer: a lock over memory they already own.
 * `SharedLock` registers it from its static block; see `../_internals.ts`
 * for the pattern.
 *
 * {@linkcode sharedLockAt} makes a lock rather than taking one, so its
 * importer must also import `./shared_lock.ts` (for its static block).
 *
 * @module
 */

import { Internals } from "../_internals.ts";
import type { SharedLock } from "./shared_lock.ts";

/** What `SharedLock` registers. */
export interface SharedLockInternals {
  /** See {@linkcode sharedLockAt}. */
  at(cells: Int32Array, index: number): SharedLock;
}

const internals = new Internals<SharedLockInternals>("SharedLock");

/** Called once, by `SharedLock`'s static block. */
export function registerSharedLockInternals(impl: SharedLockInternals): void {
  internals.register(impl);
}

/**
 * A `SharedLock` whose state is `cells[index]` (which must be 0 or hold a
 * lock state written by another `SharedLock`).
 */
export function sharedLockAt(cells: Int32Array, index: number): SharedLock {
  return internals.get().at(cells, index);
}
