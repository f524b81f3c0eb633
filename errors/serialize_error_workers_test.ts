// Copyright the @seed/concurrency authors. MIT license.
// registerErrorClass() across a real worker boundary: which thread must
// register a class for a task's error to come back as an instance of it.

import assert from "node:assert/strict";
import { WorkerChannel } from "../channels/worker_channel.ts";
import { WorkerPool } from "../pool.ts";
import { registerErrorClass } from "./serialize_error.ts";
import {
  NamedQuotaError,
  UnnamedRetryError,
} from "../testdata/error_classes.ts";

// Registered in this (the parent) thread only; the task module
// error_tasks.ts registers nothing in its workers.
registerErrorClass(NamedQuotaError);
registerErrorClass(UnnamedRetryError);

type Tasks = typeof import("../testdata/error_tasks.ts");
const UNREGISTERED = new URL("../testdata/error_tasks.ts", import.meta.url);
const REGISTERED = new URL(
  "../testdata/error_tasks_registered.ts",
  import.meta.url,
);

/** What the task's call rejected with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => assert.fail("the task was expected to throw"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Error);
  return error;
}

Deno.test("registerErrorClass() in the parent alone rebuilds a worker's error whose name matches", async () => {
  await using pool = new WorkerPool<Tasks>(UNREGISTERED, { size: 1 });
  const error = await rejection(pool.run("throwQuota", [5]));
  // The worker's NamedQuotaError is another class object (its own module
  // instance): it is matched by name.
  assert.ok(error instanceof NamedQuotaError);
  assert.equal(error.name, "NamedQuotaError");
  assert.equal(error.message, "Over the quota of 5");
  assert.equal(error.limit, 5);
});

Deno.test("registerErrorClass() in the parent alone gives a plain Error for a class that does not set its name", async () => {
  await using pool = new WorkerPool<Tasks>(UNREGISTERED, { size: 1 });
  const error = await rejection(pool.run("throwRetry", []));
  assert.ok(!(error instanceof UnnamedRetryError));
  assert.equal(Object.getPrototypeOf(error), Error.prototype);
  assert.equal(error.name, "Error");
  assert.equal(error.message, "Try later");
  assert.equal((error as Error & { retryAfterMs: number }).retryAfterMs, 500);
});

Deno.test("registerErrorClass() in the worker too rebuilds a class that does not set its name", async () => {
  await using pool = new WorkerPool<Tasks>(REGISTERED, { size: 1 });
  const retry = await rejection(pool.run("throwRetry", []));
  assert.ok(retry instanceof UnnamedRetryError);
  assert.equal(retry.name, "Error");
  assert.equal(retry.retryAfterMs, 500);
  assert.ok(
    await rejection(pool.run("throwQuota", [1])) instanceof NamedQuotaError,
  );
});

Deno.test("registerErrorClass() matches an inline task's own class by name", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const error = await rejection(pool.run(() => {
    // A class of the same name, defined in the worker.
    class NamedQuotaError extends Error {
      override name = "NamedQuotaError";
      limit = 7;
    }
    throw new NamedQuotaError("Over the quota of 7");
  }, []));
  assert.ok(error instanceof NamedQuotaError);
  assert.equal(error.limit, 7);
});

Deno.test("registerErrorClass() is needed in the worker for an error sent to it", async (t) => {
  for (
    const [label, url, expected] of [
      ["not registered in the worker: a plain Error", UNREGISTERED, false],
      ["registered in the worker: the class", REGISTERED, true],
    ] as const
  ) {
    await t.step(label, async () => {
      await using pool = new WorkerPool<Tasks>(url, { size: 1 });
      const channel = new WorkerChannel<number>();
      const task = pool.run("closeReason", [channel]);
      channel.close(new NamedQuotaError(3));
      assert.deepEqual(await task, [expected, "NamedQuotaError", 3]);
    });
  }
});
