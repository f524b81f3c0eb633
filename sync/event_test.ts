// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Event } from "./event.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";

Deno.test("Event.wait() blocks until Event.set() and then wakes every waiter", async () => {
  const event = new Event();
  const waiters = [probe(event.wait()), probe(event.wait())];
  await flushMicrotasks();
  assert.deepEqual(waiters.map((w) => w.current.state), ["pending", "pending"]);
  event.set();
  await flushMicrotasks();
  assert.deepEqual(waiters.map((w) => w.current.state), [
    "fulfilled",
    "fulfilled",
  ]);
});

Deno.test("Event.wait() resolves at once while the event is set", async () => {
  const event = new Event();
  event.set();
  assert.equal(event.isSet, true);
  const waiting = probe(event.wait());
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("Event.clear() makes later waits block again", async () => {
  const event = new Event();
  event.set();
  event.clear();
  assert.equal(event.isSet, false);
  const waiting = probe(event.wait());
  await flushMicrotasks();
  assert.equal(waiting.current.state, "pending");
  event.set();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("Event.set() and Event.clear() twice are no-ops", () => {
  const event = new Event();
  event.clear();
  event.clear();
  assert.equal(event.isSet, false);
  event.set();
  event.set();
  assert.equal(event.isSet, true);
});

Deno.test("Event.wait() with an aborted signal rejects with the reason even when set", async () => {
  const event = new Event();
  event.set();
  const reason = new Error("already aborted");
  await assert.rejects(
    event.wait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
});

Deno.test("Event.wait() aborted while waiting rejects and leaves the others waiting", async () => {
  const event = new Event();
  const controller = new AbortController();
  const aborted = probe(event.wait({ signal: controller.signal }));
  const other = probe(event.wait());
  controller.abort("stop");
  await flushMicrotasks();
  assert.deepEqual(aborted.current, { state: "rejected", reason: "stop" });
  assert.equal(other.current.state, "pending");
  event.set();
  await flushMicrotasks();
  assert.equal(other.current.state, "fulfilled");
});

Deno.test("Event.wait() aborted after Event.set() in the same tick resolves", async () => {
  const event = new Event();
  const controller = new AbortController();
  const waiting = probe(event.wait({ signal: controller.signal }));
  event.set();
  controller.abort();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("Event.wait() set while its abort is being dispatched rejects", async () => {
  const event = new Event();
  const controller = new AbortController();
  controller.signal.addEventListener("abort", () => event.set(), {
    once: true,
  });
  const waiting = probe(event.wait({ signal: controller.signal }));
  controller.abort("stop");
  await flushMicrotasks();
  assert.deepEqual(waiting.current, { state: "rejected", reason: "stop" });
  assert.equal(event.isSet, true);
});

Deno.test("Event wakes exactly the waiters not aborted, for any order of wait, abort, set and clear", async () => {
  type Op = { op: "wait" } | { op: "abort"; pick: number } | { op: "set" } | {
    op: "clear";
  };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ op: "wait" as const }),
    fc.record({ op: fc.constant("abort" as const), pick: fc.nat(9) }),
    fc.constant({ op: "set" as const }),
    fc.constant({ op: "clear" as const }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
      const event = new Event();
      let isSet = false;
      const waiters: {
        controller: AbortController;
        expected: "pending" | "fulfilled" | "rejected";
        seen: ReturnType<typeof probe<void>>;
      }[] = [];
      for (const step of ops) {
        switch (step.op) {
          case "wait": {
            const controller = new AbortController();
            const seen = probe(event.wait({ signal: controller.signal }));
            waiters.push({
              controller,
              seen,
              expected: isSet ? "fulfilled" : "pending",
            });
            break;
          }
          case "abort": {
            const waiter = waiters[step.pick % Math.max(1, waiters.length)];
            if (waiter === undefined) break;
            waiter.controller.abort();
            if (waiter.expected === "pending") waiter.expected = "rejected";
            break;
          }
          case "set":
            event.set();
            isSet = true;
            for (const w of waiters) {
              if (w.expected === "pending") w.expected = "fulfilled";
            }
            break;
          case "clear":
            event.clear();
            isSet = false;
            break;
        }
      }
      await flushMicrotasks();
      assert.deepEqual(
        waiters.map((w) => w.seen.current.state),
        waiters.map((w) => w.expected),
      );
      for (const w of waiters) w.controller.abort();
    }),
  );
});
