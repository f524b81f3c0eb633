// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Condition } from "./condition.ts";
import { Lock } from "./lock.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";

/** Starts a task that takes the lock, waits once, records and releases. */
function waiter(
  condition: Condition,
  log: string[],
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  return condition.lock.run(async () => {
    try {
      await condition.wait(signal === undefined ? {} : { signal });
      log.push(`${name} woken`);
    } catch (error) {
      log.push(`${name} aborted`);
      throw error;
    } finally {
      assert.equal(
        condition.lock.locked,
        true,
        "wait settles holding the lock",
      );
    }
  });
}

Deno.test("new Condition() rejects a lock that is not a Lock", () => {
  assert.throws(() => new Condition({} as Lock), {
    name: "TypeError",
    message:
      "Cannot create Condition as 'lock' must be a Lock: received an object",
  });
  const lock = new Lock();
  assert.equal(new Condition(lock).lock, lock);
  assert.ok(new Condition().lock instanceof Lock);
});

Deno.test("Condition.wait() releases the lock while waiting and holds it again when it resolves", async () => {
  const condition = new Condition();
  const guard = await condition.lock.acquire();
  const waiting = probe(condition.wait());
  assert.equal(condition.lock.locked, false, "released while waiting");
  const notifier = await condition.lock.acquire();
  condition.notify();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "pending", "waits for the lock");
  notifier.release();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
  assert.equal(condition.lock.locked, true);
  guard.release(); // the caller's guard releases the re-acquired lock
  assert.equal(condition.lock.locked, false);
});

Deno.test("Condition.wait() and Condition.notify() throw when the lock is not held", async () => {
  const condition = new Condition();
  await assert.rejects(condition.wait(), {
    name: "TypeError",
    message: "Cannot wait on Condition as its lock is not held",
  });
  await assert.rejects(condition.waitFor(() => true), TypeError);
  assert.throws(() => condition.notify(), {
    name: "TypeError",
    message: "Cannot notify Condition as its lock is not held",
  });
  assert.throws(() => condition.notifyAll(), TypeError);
});

Deno.test("Condition.notify() rejects a count that is not a non-negative integer", async () => {
  const condition = new Condition();
  using _guard = await condition.lock.acquire();
  for (const bad of [-1, 0.5, NaN]) {
    assert.throws(() => condition.notify(bad), {
      name: "RangeError",
      message:
        `Cannot notify Condition as 'n' must be a non-negative integer: received ${bad}`,
    });
  }
  condition.notify(0);
});

Deno.test("Condition.notify() wakes the longest waiting tasks first", async () => {
  const condition = new Condition();
  const log: string[] = [];
  const tasks = ["a", "b", "c"].map((name) => waiter(condition, log, name));
  await flushMicrotasks();
  assert.equal(condition.waiting, 3);
  await condition.lock.run(() => condition.notify(2));
  await flushMicrotasks();
  assert.deepEqual(log, ["a woken", "b woken"]);
  await condition.lock.run(() => condition.notifyAll());
  await Promise.all(tasks);
  assert.deepEqual(log, ["a woken", "b woken", "c woken"]);
});

Deno.test("Condition.notify() without waiters is not remembered", async () => {
  const condition = new Condition();
  await condition.lock.run(() => condition.notify());
  const log: string[] = [];
  const task = waiter(condition, log, "late");
  await flushMicrotasks();
  assert.deepEqual(log, []);
  await condition.lock.run(() => condition.notify());
  await task;
  assert.deepEqual(log, ["late woken"]);
});

Deno.test("Condition.wait() with an aborted signal rejects at once and keeps the lock", async () => {
  const condition = new Condition();
  using _guard = await condition.lock.acquire();
  const reason = new Error("already aborted");
  await assert.rejects(
    condition.wait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(condition.lock.locked, true);
  assert.equal(condition.waiting, 0);
});

Deno.test("Condition.wait() aborted while waiting re-acquires the lock before rejecting", async () => {
  const condition = new Condition();
  const guard = await condition.lock.acquire();
  const controller = new AbortController();
  const waiting = probe(condition.wait({ signal: controller.signal }));
  const other = await condition.lock.acquire(); // someone else holds it now
  controller.abort("stop");
  await flushMicrotasks();
  assert.equal(condition.waiting, 0, "left the queue");
  assert.equal(waiting.current.state, "pending", "still waits for the lock");
  other.release();
  await flushMicrotasks();
  assert.deepEqual(waiting.current, { state: "rejected", reason: "stop" });
  assert.equal(condition.lock.locked, true, "the caller holds the lock");
  guard.release();
  assert.equal(condition.lock.locked, false);
});

Deno.test("Condition.wait() aborted while its notification is dispatched passes it to the next waiter", async () => {
  const condition = new Condition();
  const log: string[] = [];
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal]);
  // Runs while `signal` is aborted but before the condition's listener.
  controller.signal.addEventListener("abort", () => condition.notify(), {
    once: true,
  });
  const first = waiter(condition, log, "first", signal);
  const second = waiter(condition, log, "second");
  await flushMicrotasks();
  const notifier = await condition.lock.acquire();
  controller.abort("stop"); // notifies mid-abort, under the lock
  notifier.release();
  await assert.rejects(first, (error) => error === "stop");
  await second;
  assert.deepEqual(log, ["first aborted", "second woken"]);
});

Deno.test("Condition.wait() aborted after its notification in the same tick resolves", async () => {
  const condition = new Condition();
  const log: string[] = [];
  const controller = new AbortController();
  const task = waiter(condition, log, "only", controller.signal);
  await flushMicrotasks();
  const notifier = await condition.lock.acquire();
  condition.notify();
  controller.abort();
  notifier.release();
  await task;
  assert.deepEqual(log, ["only woken"]);
});

Deno.test("Condition.waitFor() returns once the predicate holds, checking it under the lock", async () => {
  const condition = new Condition();
  let value = 0;
  const checks: boolean[] = [];
  const waiting = condition.lock.run(() =>
    condition.waitFor(() => {
      checks.push(condition.lock.locked);
      return value === 2;
    })
  );
  for (let i = 0; i < 2; i++) {
    await flushMicrotasks();
    await condition.lock.run(() => {
      value++;
      condition.notifyAll();
    });
  }
  await waiting;
  assert.ok(checks.length >= 2 && checks.every(Boolean));
});

Deno.test("Condition.waitFor() with an aborted signal rejects without calling the predicate", async () => {
  const condition = new Condition();
  using _guard = await condition.lock.acquire();
  let called = false;
  await assert.rejects(
    condition.waitFor(() => called = true, { signal: AbortSignal.abort("x") }),
    (error) => error === "x",
  );
  assert.equal(called, false);
});

Deno.test("Condition loses no wake-up under random waits, aborts and notifies", async () => {
  type Op =
    | { op: "wait"; abortable: boolean }
    | { op: "abort"; pick: number }
    | { op: "notify"; n: number }
    | { op: "notifyAll" };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("wait" as const), abortable: fc.boolean() }),
    fc.record({ op: fc.constant("abort" as const), pick: fc.nat(9) }),
    fc.record({ op: fc.constant("notify" as const), n: fc.nat(3) }),
    fc.constant({ op: "notifyAll" as const }),
  );
  interface Task {
    name: string;
    controller: AbortController | undefined;
    done: Promise<void>;
  }
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
      const condition = new Condition();
      const log: string[] = [];
      const expected: string[] = [];
      const queue: Task[] = []; // the model: FIFO of waiting tasks
      const abortable: Task[] = [];
      for (const [i, step] of ops.entries()) {
        switch (step.op) {
          case "wait": {
            const name = `w${i}`;
            const controller = step.abortable
              ? new AbortController()
              : undefined;
            const done = waiter(condition, log, name, controller?.signal)
              .catch(() => {});
            const task = { name, controller, done };
            queue.push(task);
            if (controller !== undefined) abortable.push(task);
            // The lock is free between steps: the task enters wait() within
            // a few microtasks.
            await flushMicrotasks();
            assert.equal(condition.waiting, queue.length);
            break;
          }
          case "abort": {
            const task = abortable[step.pick % Math.max(1, abortable.length)];
            if (task === undefined || task.controller!.signal.aborted) break;
            const index = queue.indexOf(task);
            if (index === -1) break; // already woken: nothing to abort
            queue.splice(index, 1);
            expected.push(`${task.name} aborted`);
            task.controller!.abort();
            await task.done;
            break;
          }
          case "notify":
          case "notifyAll": {
            const n = step.op === "notify" ? step.n : Infinity;
            await condition.lock.run(() => {
              if (n === Infinity) condition.notifyAll();
              else condition.notify(n);
            });
            const woken = queue.splice(0, n);
            for (const task of woken) expected.push(`${task.name} woken`);
            await Promise.all(woken.map((task) => task.done));
            break;
          }
        }
        assert.deepEqual(log, expected);
        assert.equal(condition.waiting, queue.length);
        assert.equal(condition.lock.locked, false);
      }
      await condition.lock.run(() => condition.notifyAll());
      await Promise.all(queue.map((task) => task.done));
      assert.equal(condition.waiting, 0);
    }),
    { numRuns: 200 },
  );
});
