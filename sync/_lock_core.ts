// Copyright the @seed/concurrency authors. MIT license.
// Internal: lets Condition reach the FIFO core of a Lock without widening
// Lock's public API. `Lock` registers the accessor from a static block (where
// its private field is in scope) when lock.ts is evaluated.

import type { FairSemaphore } from "./_fair_semaphore.ts";
import type { Lock } from "./lock.ts";

let accessor: ((lock: Lock) => FairSemaphore) | undefined;

/** Called once, by the static block of `Lock`. */
export function registerLockCore(get: (lock: Lock) => FairSemaphore): void {
  accessor = get;
}

/** The FIFO core (one permit) of `lock`. */
export function lockCore(lock: Lock): FairSemaphore {
  return accessor!(lock);
}
