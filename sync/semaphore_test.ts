// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Semaphore } from "./semaphore.ts";
import {
  checkFairScenario,
  fairCommands,
  flushMicrotasks,
  probe,
} from "./_test_util.ts";

Deno.test("new Semaphore() rejects a count that is not a non-negative integer", () => {
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => new Semaphore(bad), {
      name: "RangeError",
      message:
        `Cannot create Semaphore as 'permits' must be a non-negative integer: received ${bad}`,
    });
  }
  assert.equal(new Semaphore(0).available, 0);
});

Deno.test("Semaphore.acquire() admits at most `permits` holders", async () => {
  const semaphore = new Semaphore(2);
  const a = probe(semaphore.acquire());
  const b = probe(semaphore.acquire());
  const c = probe(semaphore.acquire());
  await flushMicrotasks();
  assert.equal(a.current.state, "fulfilled");
  assert.equal(b.current.state, "fulfilled");
  assert.equal(c.current.state, "pending");
  assert.equal(semaphore.available, 0);
  if (a.current.state === "fulfilled") a.current.value.release();
  await flushMicrotasks();
  assert.equal(c.current.state, "fulfilled");
  assert.equal(semaphore.available, 0);
});

Deno.test("Semaphore.acquire() serves waiters in FIFO order", async () => {
  const semaphore = new Semaphore(1);
  const holder = await semaphore.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3].map((id) =>
    semaphore.acquire().then((permit) => {
      order.push(id);
      permit.release();
    })
  );
  holder.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
});

Deno.test("Semaphore.acquire() with an aborted signal rejects with the reason even when a permit is free", async () => {
  const semaphore = new Semaphore(1);
  const reason = new Error("already aborted");
  await assert.rejects(
    semaphore.acquire({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(semaphore.available, 1);
});

Deno.test("Semaphore.acquire() gives the permit to the next waiter when the first is aborted", async () => {
  const semaphore = new Semaphore(1);
  const holder = await semaphore.acquire();
  const controller = new AbortController();
  const first = probe(semaphore.acquire({ signal: controller.signal }));
  const second = probe(semaphore.acquire());
  controller.abort("reason");
  holder.release();
  await flushMicrotasks();
  assert.deepEqual(first.current, { state: "rejected", reason: "reason" });
  assert.equal(second.current.state, "fulfilled");
  assert.equal(semaphore.available, 0);
});

Deno.test("Semaphore.acquire() gives back a permit handed over while its abort is being dispatched", async () => {
  const semaphore = new Semaphore(1);
  const holder = await semaphore.acquire();
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal]);
  // Runs while `signal` is aborted but before its listeners run.
  controller.signal.addEventListener("abort", () => holder.release(), {
    once: true,
  });
  const aborted = probe(semaphore.acquire({ signal }));
  controller.abort();
  await flushMicrotasks();
  assert.equal(aborted.current.state, "rejected");
  assert.equal(semaphore.available, 1, "no permit leaked");
});

Deno.test("Semaphore guard release twice releases once", async () => {
  const semaphore = new Semaphore(2);
  const permit = await semaphore.acquire();
  const other = await semaphore.acquire();
  permit.release();
  permit.release();
  permit[Symbol.dispose]();
  assert.equal(semaphore.available, 1);
  other.release();
  assert.equal(semaphore.available, 2);
});

Deno.test("Semaphore.release() throws RangeError when over-releasing", async () => {
  const semaphore = new Semaphore(2);
  assert.throws(() => semaphore.release(), {
    name: "RangeError",
    message:
      "Cannot release Semaphore as no permit is held: 2 of 2 are available",
  });
  const permit = await semaphore.acquire();
  semaphore.release(); // the raw counterpart of the guard
  assert.equal(semaphore.available, 2);
  // The guard of that permit now over-releases: loud, not silent.
  assert.throws(() => permit.release(), RangeError);
  permit.release(); // the guard is spent: no-op
  assert.equal(semaphore.available, 2);
});

Deno.test("Semaphore.release() hands the permit to the next waiter", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const waiting = probe(semaphore.acquire());
  semaphore.release();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
  assert.equal(semaphore.available, 0);
});

Deno.test("Semaphore.tryAcquire() never overtakes a waiter", async () => {
  const semaphore = new Semaphore(1);
  const holder = semaphore.tryAcquire();
  assert.ok(holder !== undefined);
  assert.equal(semaphore.tryAcquire(), undefined);
  const waiting = probe(semaphore.acquire());
  holder.release();
  assert.equal(semaphore.tryAcquire(), undefined);
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("new Semaphore(0) blocks every acquire until a signal aborts it", async () => {
  const semaphore = new Semaphore(0);
  assert.equal(semaphore.tryAcquire(), undefined);
  const controller = new AbortController();
  const waiting = semaphore.acquire({ signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
});

Deno.test("Semaphore.run() gives the permit back when the function throws", async () => {
  const semaphore = new Semaphore(1);
  await assert.rejects(
    semaphore.run(() => Promise.reject(new Error("inside"))),
    { message: "inside" },
  );
  assert.equal(semaphore.available, 1);
});

Deno.test("Semaphore keeps the permit count and FIFO order under random acquire, release and abort", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fairCommands(1),
      async (permits, commands) => {
        const semaphore = new Semaphore(permits);
        await checkFairScenario({
          max: permits,
          weights: [1],
          acquire: (_kind, signal) =>
            semaphore.acquire(signal === undefined ? {} : { signal }),
          tryAcquire: () => semaphore.tryAcquire(),
          available: () => semaphore.available,
        }, commands);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Semaphore.run() bounds concurrency under any scheduling", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 8 }),
      async (s, permits, steps) => {
        const semaphore = new Semaphore(permits);
        let inside = 0;
        const tasks = steps.map((awaits, id) =>
          s.schedule(Promise.resolve(id), `start ${id}`).then(() =>
            semaphore.run(async () => {
              inside++;
              assert.ok(inside <= permits, "at most `permits` at once");
              for (let i = 0; i < awaits; i++) {
                await s.schedule(Promise.resolve(), `task ${id} step ${i}`);
              }
              inside--;
            })
          )
        );
        await s.waitFor(Promise.all(tasks));
        assert.equal(semaphore.available, permits);
      },
    ),
    { numRuns: 200 },
  );
});
