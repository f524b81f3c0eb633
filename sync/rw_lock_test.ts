// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { RwLock } from "./rw_lock.ts";
import {
  checkFairScenario,
  fairCommands,
  flushMicrotasks,
  probe,
} from "./_test_util.ts";

const ALL = Number.MAX_SAFE_INTEGER;

Deno.test("RwLock.read() lets many readers in at once", async () => {
  const rwLock = new RwLock();
  const guards = await Promise.all([rwLock.read(), rwLock.read()]);
  assert.equal(rwLock.readers, 2);
  assert.equal(rwLock.writing, false);
  for (const guard of guards) guard.release();
  assert.equal(rwLock.readers, 0);
});

Deno.test("RwLock.write() waits for every reader and excludes everyone", async () => {
  const rwLock = new RwLock();
  const reader = await rwLock.read();
  const writing = probe(rwLock.write());
  await flushMicrotasks();
  assert.equal(writing.current.state, "pending");
  reader.release();
  await flushMicrotasks();
  assert.equal(writing.current.state, "fulfilled");
  assert.equal(rwLock.writing, true);
  assert.equal(rwLock.readers, 0);
  assert.equal(rwLock.tryRead(), undefined);
  assert.equal(rwLock.tryWrite(), undefined);
});

Deno.test("RwLock.read() arriving after a queued writer waits behind it", async () => {
  const rwLock = new RwLock();
  const order: string[] = [];
  const reader = await rwLock.read();
  const writer = rwLock.write().then((guard) => {
    order.push("writer");
    guard.release();
  });
  const lateReader = rwLock.read().then((guard) => {
    order.push("late reader");
    guard.release();
  });
  await flushMicrotasks();
  assert.deepEqual(order, [], "the late reader does not join the first");
  reader.release();
  await Promise.all([writer, lateReader]);
  assert.deepEqual(order, ["writer", "late reader"]);
});

Deno.test("RwLock lets consecutive queued readers in together after a writer", async () => {
  const rwLock = new RwLock();
  const writer = await rwLock.write();
  const readers = [probe(rwLock.read()), probe(rwLock.read())];
  const secondWriter = probe(rwLock.write());
  writer.release();
  await flushMicrotasks();
  assert.deepEqual(readers.map((r) => r.current.state), [
    "fulfilled",
    "fulfilled",
  ]);
  assert.equal(secondWriter.current.state, "pending");
  assert.equal(rwLock.readers, 2);
});

Deno.test("RwLock.write() aborted while queued lets the readers behind it in", async () => {
  const rwLock = new RwLock();
  const reader = await rwLock.read();
  const controller = new AbortController();
  const writer = probe(rwLock.write({ signal: controller.signal }));
  const lateReader = probe(rwLock.read());
  await flushMicrotasks();
  assert.equal(lateReader.current.state, "pending");
  controller.abort();
  await flushMicrotasks();
  assert.equal(writer.current.state, "rejected");
  assert.equal(lateReader.current.state, "fulfilled");
  assert.equal(rwLock.readers, 2);
  reader.release();
});

Deno.test("RwLock.read() with an aborted signal rejects with the reason even when free", async () => {
  const rwLock = new RwLock();
  const reason = new Error("already aborted");
  await assert.rejects(
    rwLock.read({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  await assert.rejects(
    rwLock.write({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(rwLock.readers, 0);
  assert.equal(rwLock.writing, false);
});

Deno.test("RwLock.write() gives back the lock handed over while its abort is being dispatched", async () => {
  const rwLock = new RwLock();
  const reader = await rwLock.read();
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal]);
  controller.signal.addEventListener("abort", () => reader.release(), {
    once: true,
  });
  const writer = probe(rwLock.write({ signal }));
  const next = probe(rwLock.read());
  controller.abort();
  await flushMicrotasks();
  assert.equal(writer.current.state, "rejected");
  assert.equal(next.current.state, "fulfilled");
  assert.equal(rwLock.readers, 1);
});

Deno.test("RwLock guard release twice releases once", async () => {
  const rwLock = new RwLock();
  const first = await rwLock.read();
  const second = await rwLock.read();
  first.release();
  first.release();
  first[Symbol.dispose]();
  assert.equal(rwLock.readers, 1);
  second.release();
  const writer = await rwLock.write();
  writer.release();
  writer.release();
  assert.equal(rwLock.writing, false);
  assert.equal(rwLock.readers, 0);
});

Deno.test("RwLock keeps readers and writers apart and FIFO under random acquire, release and abort", async () => {
  await fc.assert(
    fc.asyncProperty(fairCommands(2), async (commands) => {
      const rwLock = new RwLock();
      await checkFairScenario({
        max: ALL,
        weights: [1, ALL], // kind 0 reads, kind 1 writes
        acquire: (kind, signal) => {
          const options = signal === undefined ? {} : { signal };
          return kind === 0 ? rwLock.read(options) : rwLock.write(options);
        },
        tryAcquire: (kind) => kind === 0 ? rwLock.tryRead() : rwLock.tryWrite(),
        available: () => {
          assert.ok(
            !(rwLock.writing && rwLock.readers > 0),
            "never a writer and readers at once",
          );
          return rwLock.writing ? 0 : ALL - rwLock.readers;
        },
      }, commands);
    }),
    { numRuns: 300 },
  );
});

Deno.test("RwLock keeps readers and writers apart under any scheduling", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 3 })), {
        minLength: 1,
        maxLength: 8,
      }),
      async (s, tasks) => {
        const rwLock = new RwLock();
        let readers = 0;
        let writers = 0;
        const running = tasks.map(([write, awaits], id) =>
          s.schedule(Promise.resolve(id), `start ${id}`).then(async () => {
            using _guard = write ? await rwLock.write() : await rwLock.read();
            if (write) writers++;
            else readers++;
            assert.ok(writers === 0 || (writers === 1 && readers === 0));
            for (let i = 0; i < awaits; i++) {
              await s.schedule(Promise.resolve(), `task ${id} step ${i}`);
            }
            if (write) writers--;
            else readers--;
          })
        );
        await s.waitFor(Promise.all(running));
        assert.equal(rwLock.readers, 0);
        assert.equal(rwLock.writing, false);
      },
    ),
    { numRuns: 200 },
  );
});
