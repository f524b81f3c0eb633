// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Lock } from "./lock.ts";
import {
  checkFairScenario,
  fairCommands,
  flushMicrotasks,
  probe,
} from "./_test_util.ts";

Deno.test("Lock.acquire() resolves at once when the lock is free", async () => {
  const lock = new Lock();
  const acquiring = probe(lock.acquire());
  await flushMicrotasks();
  assert.equal(acquiring.current.state, "fulfilled");
  assert.equal(lock.locked, true);
});

Deno.test("Lock.acquire() hands the lock to waiters in FIFO order", async () => {
  const lock = new Lock();
  const order: number[] = [];
  const first = await lock.acquire();
  const waiters = [1, 2, 3].map((id) =>
    lock.acquire().then((guard) => {
      order.push(id);
      guard.release();
    })
  );
  first.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(lock.locked, false);
});

Deno.test("Lock keeps mutual exclusion across awaits", async () => {
  const lock = new Lock();
  let inside = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, () =>
    lock.run(async () => {
      peak = Math.max(peak, ++inside);
      await flushMicrotasks(3);
      inside--;
    })));
  assert.equal(peak, 1);
});

Deno.test("Lock.acquire() with an aborted signal rejects with the reason even when free", async () => {
  const lock = new Lock();
  const reason = new Error("already aborted");
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() gives the lock to the next waiter when the first is aborted", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  const first = probe(lock.acquire({ signal: controller.signal }));
  const second = probe(lock.acquire());
  controller.abort();
  await flushMicrotasks();
  assert.equal(first.current.state, "rejected");
  assert.ok(
    first.current.state === "rejected" &&
      first.current.reason instanceof DOMException &&
      first.current.reason.name === "AbortError",
  );
  holder.release();
  await flushMicrotasks();
  assert.equal(second.current.state, "fulfilled");
  assert.equal(lock.locked, true);
});

Deno.test("Lock.acquire() aborted after release in the same tick still holds the lock", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  const waiting = probe(lock.acquire({ signal: controller.signal }));
  holder.release(); // hands the lock over synchronously
  controller.abort(); // too late: ignored
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
  assert.equal(lock.locked, true);
  if (waiting.current.state === "fulfilled") waiting.current.value.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() aborted before release in the same tick leaves the lock free", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  const waiting = probe(lock.acquire({ signal: controller.signal }));
  controller.abort();
  holder.release();
  await flushMicrotasks();
  assert.equal(waiting.current.state, "rejected");
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() gives back a lock handed over while its abort is being dispatched", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  // This listener runs before the lock's own one, while signal.aborted is
  // already true: the release hands the lock over mid-abort.
  controller.signal.addEventListener("abort", () => holder.release(), {
    once: true,
  });
  const aborted = probe(lock.acquire({ signal: controller.signal }));
  const next = probe(lock.acquire());
  controller.abort();
  await flushMicrotasks();
  assert.equal(aborted.current.state, "rejected");
  assert.equal(next.current.state, "fulfilled");
  if (next.current.state === "fulfilled") next.current.value.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock.acquire() removes its abort listener on every settle path", async () => {
  const lock = new Lock();
  const controller = new AbortController();
  let added = 0;
  let removed = 0;
  const signal = controller.signal;
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
  const holder = await lock.acquire({ signal }); // fast path: no listener
  assert.equal(added, 0);
  const waiting = lock.acquire({ signal });
  assert.equal(added, 1);
  holder.release();
  (await waiting).release();
  assert.equal(removed, 1);
});

Deno.test("Lock guard release twice releases once", async () => {
  const lock = new Lock();
  const first = await lock.acquire();
  const second = probe(lock.acquire());
  first.release();
  first.release();
  first[Symbol.dispose]();
  await flushMicrotasks();
  assert.equal(second.current.state, "fulfilled");
  assert.equal(lock.locked, true, "the second holder still holds it");
  const third = probe(lock.acquire());
  await flushMicrotasks();
  assert.equal(third.current.state, "pending");
  if (second.current.state === "fulfilled") second.current.value.release();
  await flushMicrotasks();
  assert.equal(third.current.state, "fulfilled");
});

Deno.test("Lock guard works with using", async () => {
  const lock = new Lock();
  {
    using _guard = await lock.acquire();
    assert.equal(lock.locked, true);
  }
  assert.equal(lock.locked, false);
});

Deno.test("Lock.tryAcquire() never overtakes a waiter", async () => {
  const lock = new Lock();
  const holder = lock.tryAcquire();
  assert.ok(holder !== undefined);
  assert.equal(lock.tryAcquire(), undefined);
  const waiting = probe(lock.acquire());
  holder.release();
  // The waiter already owns the lock, before its callback runs.
  assert.equal(lock.tryAcquire(), undefined);
  await flushMicrotasks();
  assert.equal(waiting.current.state, "fulfilled");
});

Deno.test("Lock.run() releases the lock when the function throws", async () => {
  const lock = new Lock();
  await assert.rejects(
    lock.run(() => {
      throw new Error("inside");
    }),
    { message: "inside" },
  );
  assert.equal(lock.locked, false);
  assert.equal(await lock.run(() => 7), 7);
});

Deno.test("Lock.run() does not call the function when aborted while waiting", async () => {
  const lock = new Lock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  let called = false;
  const running = lock.run(() => {
    called = true;
  }, { signal: controller.signal });
  controller.abort(new Error("gave up"));
  await assert.rejects(running, { message: "gave up" });
  assert.equal(called, false);
  holder.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock keeps mutual exclusion and FIFO order under random acquire, release and abort", async () => {
  await fc.assert(
    fc.asyncProperty(fairCommands(1), async (commands) => {
      const lock = new Lock();
      await checkFairScenario({
        max: 1,
        weights: [1],
        acquire: (_kind, signal) =>
          lock.acquire(signal === undefined ? {} : { signal }),
        tryAcquire: () => lock.tryAcquire(),
        available: () => lock.locked ? 0 : 1,
      }, commands);
    }),
    { numRuns: 300 },
  );
});

Deno.test("Lock.run() keeps mutual exclusion under any scheduling", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 8 }),
      async (s, steps) => {
        const lock = new Lock();
        let inside = 0;
        const started: number[] = [];
        const finished: number[] = [];
        const tasks = steps.map((awaits, id) =>
          s.schedule(Promise.resolve(id), `start ${id}`).then(() => {
            started.push(id);
            return lock.run(async () => {
              inside++;
              assert.equal(inside, 1, "one task at a time");
              for (let i = 0; i < awaits; i++) {
                await s.schedule(Promise.resolve(), `task ${id} step ${i}`);
              }
              inside--;
              finished.push(id);
            });
          })
        );
        await s.waitFor(Promise.all(tasks));
        // FIFO: tasks finish in the order they asked for the lock.
        assert.deepEqual(finished, started);
        assert.equal(lock.locked, false);
      },
    ),
    { numRuns: 200 },
  );
});
