// Copyright the @seed/concurrency authors. MIT license.
// Test helpers for the error wire format.

import assert from "node:assert/strict";
import { deserializeError, serializeError } from "./serialize_error.ts";

/**
 * Asserts `value` is an instance of `expected`. Unlike `assert.ok(x instanceof
 * C)` it does not narrow the loosely typed copies, so their fields stay
 * readable.
 */
export function assertInstanceOf(
  value: unknown,
  expected: abstract new (...args: never[]) => unknown,
): void {
  assert.ok(
    value instanceof expected,
    `Expected an instance of ${expected.name}: received ${typeof value}`,
  );
}

/** Sends `value` through the wire format and structured clone, as a worker does. */
// deno-lint-ignore no-explicit-any
export function roundTrip(value: unknown): any {
  return deserializeError(structuredClone(serializeError(value)));
}
