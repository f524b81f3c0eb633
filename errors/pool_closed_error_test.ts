// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { PoolClosedError } from "./pool_closed_error.ts";

Deno.test("PoolClosedError is an Error named PoolClosedError", () => {
  const error = new PoolClosedError();
  assert.ok(error instanceof Error);
  assert.ok(error instanceof PoolClosedError);
  assert.equal(error.name, "PoolClosedError");
  assert.equal(String(error), "PoolClosedError: The pool is closed");
  assert.match(String(error.stack), /^PoolClosedError: The pool is closed/);
});

Deno.test("PoolClosedError takes a message, defaulting to 'The pool is closed'", () => {
  assert.equal(new PoolClosedError().message, "The pool is closed");
  assert.equal(new PoolClosedError(undefined).message, "The pool is closed");
  assert.equal(
    new PoolClosedError("Cannot run task as the pool is closed").message,
    "Cannot run task as the pool is closed",
  );
});

Deno.test("PoolClosedError keeps a cause only when given one", async (t) => {
  await t.step("no options: no cause", () => {
    assert.equal(Object.hasOwn(new PoolClosedError(), "cause"), false);
    assert.equal(Object.hasOwn(new PoolClosedError("x", {}), "cause"), false);
  });
  await t.step("a cause is kept as is", () => {
    const cause = new TypeError("terminated");
    const error = new PoolClosedError("Closed", { cause });
    assert.equal(error.cause, cause);
  });
  await t.step("an undefined cause is still a cause", () => {
    const error = new PoolClosedError("Closed", { cause: undefined });
    assert.equal(Object.hasOwn(error, "cause"), true);
    assert.equal(error.cause, undefined);
  });
});
