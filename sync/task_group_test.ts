// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { TaskGroup } from "./task_group.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";

/** A task that runs until the group's signal aborts, then rejects with its reason. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}

Deno.test("TaskGroup.spawn() starts the task at once with the group's signal", async () => {
  const group = new TaskGroup();
  let seen: AbortSignal | undefined;
  const result = group.spawn((signal) => {
    seen = signal;
    return 1;
  });
  assert.equal(seen, group.signal);
  assert.equal(await result, 1);
  await group.wait();
});

Deno.test("TaskGroup.wait() resolves once every task, including ones spawned meanwhile, settled", async () => {
  const group = new TaskGroup();
  const first = Promise.withResolvers<void>();
  const child = Promise.withResolvers<void>();
  group.spawn(async () => {
    await first.promise;
    group.spawn(() => child.promise);
  });
  const waiting = probe(group.wait());
  first.resolve();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "pending");
  assert.equal(group.pending, 1);
  child.resolve();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("TaskGroup aborts its signal with the first failure and rejects with it", async () => {
  const group = new TaskGroup();
  const failure = new Error("boom");
  const sibling = probe(group.spawn(untilAborted));
  group.spawn(() => Promise.reject(failure));
  await assert.rejects(group.wait(), (error) => error === failure);
  assert.equal(group.signal.aborted, true);
  assert.equal(group.signal.reason, failure);
  assert.deepEqual(sibling.current, { state: "rejected", reason: failure });
});

Deno.test("TaskGroup does not count AbortErrors caused by its own abort as failures", async () => {
  const group = new TaskGroup();
  group.spawn(async (signal) => {
    await untilAborted(signal).catch(() => {});
    throw new DOMException("Stopped", "AbortError");
  });
  group.spawn(async (signal) => {
    await untilAborted(signal).catch(() => {});
    signal.throwIfAborted();
  });
  group.spawn(() => {
    throw new Error("boom");
  });
  await assert.rejects(group.wait(), { message: "boom" });
});

Deno.test("TaskGroup counts an AbortError as a failure when the group was not aborted", async () => {
  const group = new TaskGroup();
  const own = new DOMException("Own timeout", "AbortError");
  group.spawn(() => Promise.reject(own));
  await assert.rejects(group.wait(), (error) => error === own);
});

Deno.test("TaskGroup.wait() rejects with an AggregateError when several tasks failed", async () => {
  const group = new TaskGroup();
  const a = new Error("a");
  const b = new TypeError("b");
  group.spawn(() => Promise.reject(a));
  group.spawn(async (signal) => {
    await untilAborted(signal).catch(() => {});
    throw b; // a failure of its own, not the abort
  });
  const error = await group.wait().catch((error: unknown) => error);
  assert.ok(error instanceof AggregateError);
  assert.deepEqual(error.errors, [a, b]);
  assert.equal(error.message, "TaskGroup failed as 2 tasks failed");
});

Deno.test("TaskGroup.spawn() counts a synchronous throw as a failure", async () => {
  const group = new TaskGroup();
  const result = group.spawn(() => {
    throw new Error("sync");
  });
  await assert.rejects(result, { message: "sync" });
  await assert.rejects(group.wait(), { message: "sync" });
});

Deno.test("TaskGroup.spawn() leaves no unhandled rejection when its promise is ignored", async () => {
  const group = new TaskGroup();
  group.spawn(() => Promise.reject(new Error("ignored")));
  await flushMicrotasks();
  await assert.rejects(group.wait(), { message: "ignored" });
});

Deno.test("TaskGroup.spawn() throws after the group finished", async () => {
  const group = new TaskGroup();
  await group.wait();
  assert.throws(() => group.spawn(() => 1), {
    name: "TypeError",
    message: "Cannot spawn a task as the TaskGroup has finished",
  });
  assert.throws(
    () => new TaskGroup().spawn(42 as unknown as () => void),
    {
      name: "TypeError",
      message: "Cannot spawn a task as 'task' must be a function: received 42",
    },
  );
});

Deno.test("TaskGroup.wait() called twice gives the same outcome", async () => {
  const group = new TaskGroup();
  group.spawn(() => Promise.reject(new Error("once")));
  const first = group.wait();
  assert.equal(group.wait(), first);
  await assert.rejects(first, { message: "once" });
  await assert.rejects(group.wait(), { message: "once" });
});

Deno.test("TaskGroup follows its parent signal and rejects with the parent's reason", async () => {
  const parent = new AbortController();
  const group = new TaskGroup({ signal: parent.signal });
  const task = probe(group.spawn(untilAborted));
  const reason = new Error("shutdown");
  parent.abort(reason);
  assert.equal(group.signal.reason, reason);
  await assert.rejects(group.wait(), (error) => error === reason);
  assert.deepEqual(task.current, { state: "rejected", reason });
});

Deno.test("TaskGroup with an already aborted parent starts aborted", async () => {
  const group = new TaskGroup({ signal: AbortSignal.abort("early") });
  assert.equal(group.signal.aborted, true);
  await assert.rejects(group.wait(), (error) => error === "early");
  assert.throws(
    () => new TaskGroup({ signal: {} as AbortSignal }),
    {
      name: "TypeError",
      message:
        "Cannot create TaskGroup as 'signal' must be an AbortSignal: received an object",
    },
  );
});

Deno.test("TaskGroup removes its parent listener when it finishes", async () => {
  const parent = new AbortController();
  let added = 0;
  let removed = 0;
  const signal = parent.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    added++;
    assert.deepEqual(args[2], { once: true });
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    removed++;
    remove(...args);
  };
  const group = new TaskGroup({ signal });
  group.spawn(() => 1);
  await group.wait();
  assert.equal(added, 1);
  assert.equal(removed, 1);
  parent.abort();
  assert.equal(group.signal.aborted, false, "a finished group stays as it was");
});

Deno.test("TaskGroup.abort() cancels the tasks and wait() rejects with the reason", async () => {
  const group = new TaskGroup();
  group.spawn(untilAborted);
  group.abort("stop");
  group.abort("ignored");
  await assert.rejects(group.wait(), (error) => error === "stop");
});

Deno.test("TaskGroup with await using waits for every task at block end", async () => {
  const gate = Promise.withResolvers<void>();
  let done = false;
  const block = (async () => {
    await using group = new TaskGroup();
    group.spawn(async () => {
      await gate.promise;
      done = true;
    });
  })();
  const ended = probe(block);
  await flushMicrotasks();
  assert.equal(ended.current.state, "pending", "the block waits for the task");
  gate.resolve();
  await block;
  assert.equal(done, true);
});

Deno.test("TaskGroup with await using rethrows the failure at block end", async () => {
  await assert.rejects(
    (async () => {
      await using group = new TaskGroup();
      group.spawn(() => Promise.reject(new Error("inside")));
    })(),
    { message: "inside" },
  );
});

Deno.test("TaskGroup reports exactly the real failures, first failure first, for any mix of tasks", async () => {
  // Each task succeeds or fails when its gate opens, or is cooperative: it
  // runs until the group aborts, then rejects with the signal's reason,
  // which must not count as a failure.
  const kind = fc.constantFrom("ok", "fail", "cooperative");
  const scenario = fc.array(kind, { maxLength: 8 }).chain((kinds) =>
    fc.tuple(
      fc.constant(kinds),
      fc.shuffledSubarray([...kinds.keys()], {
        minLength: kinds.length,
        maxLength: kinds.length,
      }),
    )
  );
  await fc.assert(
    fc.asyncProperty(scenario, async ([kinds, openOrder]) => {
      const group = new TaskGroup();
      const gates = kinds.map(() => Promise.withResolvers<void>());
      const errors = kinds.map((_, i) => new Error(`task ${i}`));
      kinds.forEach((k, i) => {
        group.spawn(async (signal) => {
          if (k === "cooperative") return await untilAborted(signal);
          await gates[i]!.promise;
          if (k === "fail") throw errors[i];
          return i;
        });
      });
      const outcome = group.wait().then(() => undefined, (e: unknown) => e);
      for (const i of openOrder) {
        gates[i]!.resolve();
        await flushMicrotasks();
      }
      const failed = openOrder.filter((i) => kinds[i] === "fail");
      // Without a failure, cooperative tasks run until the group aborts.
      if (failed.length === 0) group.abort("end");
      const error = await outcome;
      if (failed.length === 0) {
        assert.equal(error, kinds.includes("cooperative") ? "end" : undefined);
      } else if (failed.length === 1) {
        assert.equal(error, errors[failed[0]!]);
      } else {
        assert.ok(error instanceof AggregateError);
        assert.deepEqual(error.errors, failed.map((i) => errors[i]));
      }
      assert.equal(group.pending, 0);
    }),
    { numRuns: 200 },
  );
});
