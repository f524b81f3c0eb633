// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { WorkerPool } from "../pool.ts";
import { pendingAsyncWaits } from "./_atomics.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";
import { SharedEvent } from "./shared_event.ts";
import { SharedValue } from "./shared_value.ts";

/**
 * Resolves once the `Atomics.waitAsync` wake-ups already queued in this
 * thread have been delivered: it queues one more and waits for it (Deno
 * delivers them in order).
 */
async function afterWakeUps(): Promise<void> {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const wait = Atomics.waitAsync(cell, 0, 0);
  assert.ok(wait.async);
  Atomics.notify(cell, 0);
  const keepAlive = setInterval(() => {}, 1_000_000);
  try {
    await wait.value;
  } finally {
    clearInterval(keepAlive);
  }
}

Deno.test("SharedEvent.set() and clear() change isSet, and repeating them is a no-op", () => {
  const event = new SharedEvent();
  assert.equal(event.isSet, false);
  event.set();
  event.set();
  assert.equal(event.isSet, true);
  event.clear();
  event.clear();
  assert.equal(event.isSet, false);
});

Deno.test("SharedEvent.wait() resolves at once when set, and after set() when clear", async () => {
  const event = new SharedEvent();
  event.set();
  const immediate = probe(event.wait());
  await flushMicrotasks();
  assert.equal(immediate.current.state, "fulfilled");
  assert.equal(pendingAsyncWaits(), 0, "no keep-alive when already set");

  event.clear();
  const waiting = event.wait();
  const state = probe(waiting);
  await flushMicrotasks();
  assert.equal(state.current.state, "pending");
  assert.equal(pendingAsyncWaits(), 1, "a keep-alive is held while waiting");
  event.set();
  await waiting;
  assert.equal(pendingAsyncWaits(), 0, "the keep-alive is gone");
});

Deno.test("SharedEvent.set() followed at once by clear() still wakes every waiter", async () => {
  const event = new SharedEvent();
  const waiters = [event.wait(), event.wait(), event.wait()];
  await flushMicrotasks();
  event.set();
  event.clear();
  await Promise.all(waiters);
  assert.equal(event.isSet, false);
  const later = probe(event.wait({ signal: AbortSignal.abort() }));
  await flushMicrotasks();
  assert.equal(later.current.state, "rejected");
});

Deno.test("SharedEvent.wait() with an aborted signal rejects with the reason even when set", async () => {
  const event = new SharedEvent();
  event.set();
  const reason = new Error("already aborted");
  await assert.rejects(
    event.wait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
});

Deno.test("SharedEvent.wait() aborted while waiting rejects with signal.reason and leaves the others waiting", async () => {
  const event = new SharedEvent();
  const controller = new AbortController();
  const reason = new Error("not needed");
  const aborted = probe(event.wait({ signal: controller.signal }));
  const other = event.wait();
  const otherState = probe(other);
  await flushMicrotasks();
  controller.abort(reason);
  await flushMicrotasks();
  assert.equal(aborted.current.state, "rejected");
  assert.equal((aborted.current as { reason: unknown }).reason, reason);
  // The abort woke `other` to check again; once that wake-up has been
  // delivered, `other` must be waiting again, not resolved.
  await afterWakeUps();
  await flushMicrotasks();
  assert.equal(otherState.current.state, "pending");
  assert.equal(pendingAsyncWaits(), 1, "only `other` still waits");
  event.set();
  await other;
  assert.equal(pendingAsyncWaits(), 0, "nothing leaked");
});

Deno.test("SharedEvent.waitSync() throws on the main thread and rejects a bad timeoutMs", () => {
  const event = new SharedEvent();
  event.set();
  assert.throws(() => event.waitSync(), {
    name: "TypeError",
    message:
      "Cannot wait for SharedEvent synchronously on the main thread as it would block the event loop: use 'await event.wait()', or call it in a worker",
  });
  assert.throws(() => event.waitSync({ timeoutMs: -5 }), {
    name: "RangeError",
    message:
      "Cannot wait for SharedEvent as 'timeoutMs' must be a non-negative number or Infinity: received -5",
  });
  assert.throws(
    () => event.waitSync({ timeoutMs: "5" as unknown as number }),
    {
      name: "TypeError",
      message:
        "Cannot wait for SharedEvent as 'timeoutMs' must be a number: received \"5\"",
    },
  );
});

Deno.test("SharedEvent works across workers", async (t) => {
  await using pool = new WorkerPool({ size: 2 });

  await t.step("a worker's set() wakes main's wait()", async () => {
    const event = new SharedEvent();
    const waiting = event.wait();
    const task = pool.run((event: SharedEvent) => event.set(), [event]);
    await waiting;
    assert.equal(event.isSet, true);
    await task;
  });

  await t.step("main's set() wakes a worker's waitSync()", async () => {
    const started = new SharedEvent();
    const go = new SharedEvent();
    const phase = new SharedValue("i32", 0);
    const task = pool.run(
      (started: SharedEvent, go: SharedEvent, phase: SharedValue<"i32">) => {
        started.set();
        go.waitSync();
        return phase.value;
      },
      [started, go, phase],
    );
    await started.wait();
    // An abandoned wait on main wakes the worker spuriously: it must block
    // again rather than return before the set.
    const controller = new AbortController();
    const abandoned = go.wait({ signal: controller.signal });
    controller.abort();
    await assert.rejects(abandoned, { name: "AbortError" });
    phase.value = 1;
    go.set();
    assert.equal(await task, 1, "the worker returned only after the set");
  });

  await t.step(
    "a worker's waitSync() times out with a TimeoutError",
    async () => {
      const event = new SharedEvent();
      const name = await pool.run((event: SharedEvent) => {
        try {
          event.waitSync({ timeoutMs: 1 });
          return "returned";
        } catch (error) {
          return (error as DOMException).name;
        }
      }, [event]);
      assert.equal(name, "TimeoutError");
      assert.equal(event.isSet, false);
    },
  );

  await t.step(
    "a worker's waitSync() returns at once when the event is set",
    async () => {
      const event = new SharedEvent();
      event.set();
      const result = await pool.run((event: SharedEvent) => {
        event.waitSync({ timeoutMs: 0 });
        return event.isSet;
      }, [event]);
      assert.equal(result, true);
    },
  );
});

Deno.test("SharedEvent.wait() keeps the event loop alive while it waits", async () => {
  // Only an unref'd timer sets the event: without the keep-alive, the
  // program would end with "Top-level await promise never resolved".
  const module = import.meta.resolve("./shared_event.ts");
  const code = `
    import { SharedEvent } from ${JSON.stringify(module)};
    const event = new SharedEvent();
    Deno.unrefTimer(setTimeout(() => event.set(), 0));
    await event.wait();
    console.log("woken");
  `;
  const { code: exitCode, stdout, stderr } = await new Deno.Command(
    Deno.execPath(),
    { args: ["eval", "--no-check", code], stdout: "piped", stderr: "piped" },
  ).output();
  assert.equal(new TextDecoder().decode(stderr), "");
  assert.equal(new TextDecoder().decode(stdout), "woken\n");
  assert.equal(exitCode, 0);
});
