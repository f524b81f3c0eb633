// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the capacity argument of the channel constructors, a number like
 * Go's `make(chan T, n)` or an options object as @std/async takes it.
 *
 * @module
 */

import { describe } from "../errors/_describe.ts";

/**
 * Validates a capacity argument.
 *
 * @param kind The class being created, for the error message.
 * @param capacity A number or `{ capacity?: number }`.
 * @returns The capacity, a non-negative safe integer.
 * @throws {TypeError} If it is neither a number nor an options object, or its
 *   `capacity` field is not a number.
 * @throws {RangeError} If it is not a non-negative safe integer.
 */
export function parseCapacity(kind: string, capacity: unknown): number {
  let size: unknown;
  if (typeof capacity === "number") {
    size = capacity;
  } else if (typeof capacity === "object" && capacity !== null) {
    size = (capacity as { capacity?: unknown }).capacity ?? 0;
  } else {
    throw new TypeError(
      `Cannot create ${kind} as the argument must be a number or an options object: received ${
        describe(capacity)
      }`,
    );
  }
  if (typeof size !== "number") {
    throw new TypeError(
      `Cannot create ${kind} as 'capacity' must be a number: received ${
        describe(size)
      }`,
    );
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(
      `Cannot create ${kind} as 'capacity' must be a non-negative integer: received ${
        describe(size)
      }`,
    );
  }
  return size;
}
