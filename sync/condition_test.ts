// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Condition } from "./condition.ts";
import { Lock } from "./lock.ts";
import { Semaphore } from "./semaphore.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";

/** Starts a task that takes the lock, waits once, records and releases. */
function waiter(
  condition: Condition,
  log: string[],
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  return condition.lock.run(async (guard) => {
    try {
      await condition.wait(guard, signal === undefined ? {} : { signal });
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
  const waiting = probe(condition.wait(guard));
  assert.equal(condition.lock.locked, false, "released while waiting");
  const notifier = await condition.lock.acquire();
  condition.notify(notifier);
  await flushMicrotasks();
  assert.equal(waiting.current.state, "pending", "waits for the lock");
  notifier.release();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
  assert.equal(condition.lock.locked, true);
  guard.release(); // the caller's guard releases the re-acquired lock
  assert.equal(condition.lock.locked, false);
});

Deno.test("Condition.wait() from a task that does not hold the lock throws, and no second task enters the critical section", async () => {
  const condition = new Condition();
  let inside = 0;
  let most = 0;
  const enter = () => most = Math.max(most, ++inside);
  const leave = () => inside--;
  // Task B held the lock once, and still has its guard.
  const stale = await condition.lock.acquire();
  stale.release();
  // Task A holds the lock and is in the critical section.
  const a = await condition.lock.acquire();
  enter();
  // B, not holding the lock, waits. The old wait() released A's lock here.
  const b = probe(condition.wait(stale));
  // Task C queues for the lock and enters the critical section with it.
  const c = condition.lock.run(() => {
    enter();
    leave();
  });
  await flushMicrotasks();
  assert.equal(most, 1, "one task at a time in the critical section");
  const outcome = b.current;
  assert.equal(outcome.state, "rejected", "B's wait() failed");
  assert.ok(outcome.reason instanceof TypeError);
  assert.equal(
    outcome.reason.message,
    "Cannot wait on Condition as 'guard' was released: the caller does not hold the lock",
  );
  leave();
  a.release();
  await c;
  assert.equal(most, 1);
});

Deno.test("Condition methods throw TypeError for anything but the current guard of its lock", async (t) => {
  const condition = new Condition();

  await t.step("no guard, or not a guard", async () => {
    using _held = await condition.lock.acquire();
    for (const bad of [undefined, null, {}, { release() {} }]) {
      await assert.rejects(condition.wait(bad as never), {
        name: "TypeError",
        message:
          /^Cannot wait on Condition as 'guard' must be the guard of its lock: received /,
      });
      await assert.rejects(
        condition.waitFor(bad as never, () => true),
        TypeError,
      );
      assert.throws(() => condition.notify(bad as never), {
        name: "TypeError",
        message: /^Cannot notify Condition as 'guard' must be the guard/,
      });
      assert.throws(() => condition.notifyAll(bad as never), TypeError);
    }
  });

  await t.step("a released guard, with the lock free", async () => {
    const guard = await condition.lock.acquire();
    guard.release();
    await assert.rejects(condition.wait(guard), {
      name: "TypeError",
      message:
        "Cannot wait on Condition as 'guard' was released: the caller does not hold the lock",
    });
    assert.throws(() => condition.notify(guard), {
      name: "TypeError",
      message:
        "Cannot notify Condition as 'guard' was released: the caller does not hold the lock",
    });
    assert.throws(() => condition.notifyAll(guard), TypeError);
    assert.equal(condition.lock.locked, false);
  });

  await t.step("the guard of another lock, or of a semaphore", async () => {
    using _held = await condition.lock.acquire();
    using other = await new Lock().acquire();
    using permit = await new Semaphore(2).acquire();
    for (const foreign of [other, permit]) {
      await assert.rejects(condition.wait(foreign), {
        name: "TypeError",
        message: "Cannot wait on Condition as 'guard' belongs to another lock",
      });
      assert.throws(() => condition.notify(foreign), TypeError);
    }
  });

  await t.step("a guard whose wait() is pending", async () => {
    const guard = await condition.lock.acquire();
    const waiting = condition.wait(guard);
    // The lock is free now; using the lent guard would let two tasks in.
    assert.throws(() => condition.notify(guard), {
      name: "TypeError",
      message:
        "Cannot notify Condition as 'guard' is lent to a pending wait(): the lock is not held until that wait settles",
    });
    await assert.rejects(condition.wait(guard), TypeError);
    assert.throws(() => guard.release(), {
      name: "TypeError",
      message:
        "Cannot release Lock as its guard is lent to a pending Condition.wait(): await the wait first",
    });
    assert.equal(condition.waiting, 1, "the misuses left nothing queued");
    await condition.lock.run((other) => condition.notify(other));
    await waiting;
    condition.notify(guard); // held again
    guard.release();
    assert.equal(condition.lock.locked, false);
  });

  await t.step("a guard of the lock shared by another condition", async () => {
    const other = new Condition(condition.lock);
    const guard = await condition.lock.acquire();
    const waiting = condition.wait(guard);
    assert.throws(() => other.notify(guard), TypeError);
    await condition.lock.run((g) => condition.notify(g));
    await waiting;
    other.notify(guard);
    guard.release();
  });
});

Deno.test("Condition.notify() rejects a count that is not a non-negative integer", async () => {
  const condition = new Condition();
  using guard = await condition.lock.acquire();
  for (const bad of [-1, 0.5, NaN]) {
    assert.throws(() => condition.notify(guard, bad), {
      name: "RangeError",
      message:
        `Cannot notify Condition as 'n' must be a non-negative integer: received ${bad}`,
    });
  }
  condition.notify(guard, 0);
});

Deno.test("Condition.notify() wakes the longest waiting tasks first", async () => {
  const condition = new Condition();
  const log: string[] = [];
  const tasks = ["a", "b", "c"].map((name) => waiter(condition, log, name));
  await flushMicrotasks();
  assert.equal(condition.waiting, 3);
  await condition.lock.run((guard) => condition.notify(guard, 2));
  await flushMicrotasks();
  assert.deepEqual(log, ["a woken", "b woken"]);
  await condition.lock.run((guard) => condition.notifyAll(guard));
  await Promise.all(tasks);
  assert.deepEqual(log, ["a woken", "b woken", "c woken"]);
});

Deno.test("Condition.notify() without waiters is not remembered", async () => {
  const condition = new Condition();
  await condition.lock.run((guard) => condition.notify(guard));
  const log: string[] = [];
  const task = waiter(condition, log, "late");
  await flushMicrotasks();
  assert.deepEqual(log, []);
  await condition.lock.run((guard) => condition.notify(guard));
  await task;
  assert.deepEqual(log, ["late woken"]);
});

Deno.test("Condition.wait() with an aborted signal rejects at once and keeps the lock", async () => {
  const condition = new Condition();
  using guard = await condition.lock.acquire();
  const reason = new Error("already aborted");
  await assert.rejects(
    condition.wait(guard, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(condition.lock.locked, true);
  assert.equal(condition.waiting, 0);
});

Deno.test("Condition.wait() aborted while waiting re-acquires the lock before rejecting", async () => {
  const condition = new Condition();
  const guard = await condition.lock.acquire();
  const controller = new AbortController();
  const waiting = probe(condition.wait(guard, { signal: controller.signal }));
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
  const first = waiter(condition, log, "first", signal);
  const second = waiter(condition, log, "second");
  await flushMicrotasks();
  const notifier = await condition.lock.acquire();
  // Runs while `signal` is aborted but before the condition's listener.
  controller.signal.addEventListener(
    "abort",
    () => condition.notify(notifier),
    { once: true },
  );
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
  condition.notify(notifier);
  controller.abort();
  notifier.release();
  await task;
  assert.deepEqual(log, ["only woken"]);
});

Deno.test("Condition.waitFor() returns once the predicate holds, checking it under the lock", async () => {
  const condition = new Condition();
  let value = 0;
  const checks: boolean[] = [];
  const waiting = condition.lock.run((guard) =>
    condition.waitFor(guard, () => {
      checks.push(condition.lock.locked);
      return value === 2;
    })
  );
  for (let i = 0; i < 2; i++) {
    await flushMicrotasks();
    await condition.lock.run((guard) => {
      value++;
      condition.notifyAll(guard);
    });
  }
  await waiting;
  assert.ok(checks.length >= 2 && checks.every(Boolean));
});

Deno.test("Condition.waitFor() with an aborted signal rejects without calling the predicate", async () => {
  const condition = new Condition();
  using guard = await condition.lock.acquire();
  let called = false;
  await assert.rejects(
    condition.waitFor(guard, () => called = true, {
      signal: AbortSignal.abort("x"),
    }),
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
            await condition.lock.run((guard) => {
              if (n === Infinity) condition.notifyAll(guard);
              else condition.notify(guard, n);
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
      await condition.lock.run((guard) => condition.notifyAll(guard));
      await Promise.all(queue.map((task) => task.done));
      assert.equal(condition.waiting, 0);
    }),
    { numRuns: 200 },
  );
});
