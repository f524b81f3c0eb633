// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { BrokenBarrierError } from "./broken_barrier_error.ts";

Deno.test("BrokenBarrierError is an Error named BrokenBarrierError", () => {
  const error = new BrokenBarrierError("Cannot pass Barrier as it is broken");
  assert.ok(error instanceof Error);
  assert.ok(error instanceof BrokenBarrierError);
  assert.equal(error.name, "BrokenBarrierError");
  assert.equal(error.message, "Cannot pass Barrier as it is broken");
  assert.match(String(error), /^BrokenBarrierError: /);
  assert.equal(typeof error.stack, "string");
});

Deno.test("BrokenBarrierError keeps its cause", () => {
  const cause = new Error("party left");
  const error = new BrokenBarrierError("broken", { cause });
  assert.equal(error.cause, cause);
  assert.equal(Object.hasOwn(new BrokenBarrierError(), "cause"), false);
});
