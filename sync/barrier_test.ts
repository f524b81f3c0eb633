// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { BrokenBarrierError } from "../errors/broken_barrier_error.ts";
import { Barrier } from "./barrier.ts";
import { flushMicrotasks, probe } from "./_test_util.ts";

Deno.test("new Barrier() rejects a count that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => new Barrier(bad), {
      name: "RangeError",
      message:
        `Cannot create Barrier as 'parties' must be a positive integer: received ${bad}`,
    });
  }
});

Deno.test("Barrier.wait() resolves every party with its arrival index once all arrived", async () => {
  const barrier = new Barrier(3);
  const first = probe(barrier.wait());
  const second = probe(barrier.wait());
  await flushMicrotasks();
  assert.equal(first.current.state, "pending");
  assert.equal(barrier.waiting, 2);
  const last = barrier.wait();
  assert.equal(barrier.waiting, 0, "a new generation starts at once");
  assert.equal(await last, 2);
  await flushMicrotasks();
  assert.deepEqual(first.current, { state: "fulfilled", value: 0 });
  assert.deepEqual(second.current, { state: "fulfilled", value: 1 });
});

Deno.test("Barrier is reusable generation after generation", async () => {
  const barrier = new Barrier(2);
  for (let generation = 0; generation < 3; generation++) {
    assert.deepEqual(await Promise.all([barrier.wait(), barrier.wait()]), [
      0,
      1,
    ]);
  }
  assert.equal(await new Barrier(1).wait(), 0);
});

Deno.test("Barrier.wait() aborted breaks the barrier for the other waiters", async () => {
  const barrier = new Barrier(3);
  const other = probe(barrier.wait());
  const controller = new AbortController();
  const reason = new Error("left");
  const aborted = probe(barrier.wait({ signal: controller.signal }));
  controller.abort(reason);
  await flushMicrotasks();
  assert.deepEqual(aborted.current, { state: "rejected", reason });
  assert.equal(other.current.state, "rejected");
  const error = other.current.state === "rejected" && other.current.reason;
  assert.ok(error instanceof BrokenBarrierError);
  assert.equal(error.cause, reason);
  assert.equal(barrier.broken, true);
  assert.equal(barrier.waiting, 0);
  // Later waits reject too, until reset.
  await assert.rejects(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  assert.equal(barrier.broken, false);
  const next = barrier.wait();
  assert.deepEqual(await Promise.all([barrier.wait(), barrier.wait(), next]), [
    1,
    2,
    0,
  ]);
});

Deno.test("Barrier.wait() with an aborted signal rejects at once and does not break the barrier", async () => {
  const barrier = new Barrier(2);
  await assert.rejects(
    barrier.wait({ signal: AbortSignal.abort("x") }),
    (error) => error === "x",
  );
  assert.equal(barrier.broken, false);
  assert.equal(barrier.waiting, 0);
});

Deno.test("Barrier.wait() aborted after the barrier passed in the same tick resolves", async () => {
  const barrier = new Barrier(2);
  const controller = new AbortController();
  const first = probe(barrier.wait({ signal: controller.signal }));
  const last = barrier.wait();
  controller.abort();
  await flushMicrotasks();
  assert.deepEqual(first.current, { state: "fulfilled", value: 0 });
  assert.equal(await last, 1);
  assert.equal(barrier.broken, false);
});

Deno.test("Barrier.wait() completed while a waiter's abort is being dispatched breaks the barrier", async () => {
  const barrier = new Barrier(2);
  const controller = new AbortController();
  let last: Promise<number> | undefined;
  // Runs while the signal is aborted but before the barrier's listener.
  controller.signal.addEventListener("abort", () => {
    last = barrier.wait();
  }, { once: true });
  const first = probe(barrier.wait({ signal: controller.signal }));
  controller.abort("left");
  await flushMicrotasks();
  assert.deepEqual(first.current, { state: "rejected", reason: "left" });
  await assert.rejects(last!, BrokenBarrierError);
  assert.equal(barrier.broken, true);
});

Deno.test("Barrier.reset() rejects the current waiters and restores the barrier", async () => {
  const barrier = new Barrier(3);
  const stranded = probe(barrier.wait());
  barrier.reset();
  barrier.reset(); // harmless
  await flushMicrotasks();
  assert.equal(stranded.current.state, "rejected");
  assert.ok(
    stranded.current.state === "rejected" &&
      stranded.current.reason instanceof BrokenBarrierError,
  );
  assert.equal(barrier.broken, false);
  assert.equal(barrier.waiting, 0);
});

Deno.test("Barrier passes exactly full generations for any arrival pattern", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 20 }),
      async (parties, arrivals) => {
        const barrier = new Barrier(parties);
        const waits = Array.from(
          { length: arrivals },
          () => probe(barrier.wait()),
        );
        await flushMicrotasks();
        const passed = arrivals - (arrivals % parties);
        waits.forEach((w, i) => {
          if (i < passed) {
            assert.deepEqual(w.current, {
              state: "fulfilled",
              value: i % parties,
            });
          } else {
            assert.equal(w.current.state, "pending");
          }
        });
        assert.equal(barrier.waiting, arrivals % parties);
        barrier.reset(); // settle the stragglers
      },
    ),
  );
});
