// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { WorkerCrashedError } from "./worker_crashed_error.ts";

Deno.test("WorkerCrashedError is an Error named WorkerCrashedError", () => {
  const error = new WorkerCrashedError();
  assert.ok(error instanceof Error);
  assert.ok(error instanceof WorkerCrashedError);
  assert.equal(error.name, "WorkerCrashedError");
  assert.equal(
    String(error),
    "WorkerCrashedError: The worker running this task died",
  );
  assert.match(String(error.stack), /^WorkerCrashedError: /);
});

Deno.test("WorkerCrashedError takes a message, defaulting to 'The worker running this task died'", () => {
  assert.equal(
    new WorkerCrashedError().message,
    "The worker running this task died",
  );
  assert.equal(
    new WorkerCrashedError(undefined, { workerId: 1 }).message,
    "The worker running this task died",
  );
  assert.equal(
    new WorkerCrashedError("Worker 3 died").message,
    "Worker 3 died",
  );
});

Deno.test("WorkerCrashedError carries the workerId, or -1 when not given", () => {
  assert.equal(new WorkerCrashedError("x", { workerId: 3 }).workerId, 3);
  assert.equal(new WorkerCrashedError("x", { workerId: 0 }).workerId, 0);
  assert.equal(new WorkerCrashedError("x").workerId, -1);
  assert.equal(new WorkerCrashedError("x", {}).workerId, -1);
});

Deno.test("WorkerCrashedError keeps a cause only when given one", async (t) => {
  await t.step("no cause option: no cause", () => {
    assert.equal(Object.hasOwn(new WorkerCrashedError(), "cause"), false);
    assert.equal(
      Object.hasOwn(new WorkerCrashedError("x", { workerId: 1 }), "cause"),
      false,
    );
  });
  await t.step("a cause is kept as is, along with the workerId", () => {
    const cause = new RangeError("out of memory");
    const error = new WorkerCrashedError("Worker 2 died", {
      workerId: 2,
      cause,
    });
    assert.equal(error.cause, cause);
    assert.equal(error.workerId, 2);
  });
  await t.step("an undefined cause is still a cause", () => {
    const error = new WorkerCrashedError("x", { cause: undefined });
    assert.equal(Object.hasOwn(error, "cause"), true);
    assert.equal(error.cause, undefined);
  });
  await t.step("a non-error cause is kept", () => {
    assert.equal(
      new WorkerCrashedError("x", { cause: "exit 1" }).cause,
      "exit 1",
    );
  });
});
