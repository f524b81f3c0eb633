// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the `this` of an overloaded method's implementation, which no
 * caller has. A call that matches no overload is then reported against the
 * overloads alone (naming the task and the argument), not also as "the
 * implementation would have accepted it" (TS2793), which points into the
 * library and reads as if the call were fine. The implementation casts
 * `this` back to its class.
 *
 * @module
 */

/** A type no object has. */
export interface Unreachable {
  readonly "@seed/concurrency: an overload's implementation": never;
}
