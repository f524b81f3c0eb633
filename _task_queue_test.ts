// Copyright the @seed/concurrency authors. MIT license.
// How tasks are dealt: chunk sizes for map, and how many a worker may hold.
import assert from "node:assert/strict";
import fc from "fast-check";
import { BIG_BYTES, holdLimit } from "./_balance.ts";
import { chunkSizes } from "./_map.ts";
import { Task } from "./_task.ts";
import { TaskQueue } from "./_task_queue.ts";
import type { WorkerHandle } from "./_worker_handle.ts";

function task(id: number, bytes: number): Task {
  const init = {
    fnId: 1,
    payload: [],
    mode: 0,
    transfer: undefined,
    signal: undefined,
    offset: 0,
    bytes,
  };
  return new Task(id, init, { settle() {} }, undefined, () => {});
}

/** A worker as takeFor sees it: what it holds and has room for. */
function worker(heldCount: number): WorkerHandle {
  return { heldCount, room: 4000, finished: 0 } as unknown as WorkerHandle;
}

function queueOf(tasks: Task[]): TaskQueue {
  const queue = new TaskQueue();
  for (const t of tasks) queue.add(t, false);
  return queue;
}

Deno.test("holdLimit deals big payloads and long tasks one by one, tiny ones in bulk", () => {
  assert.equal(holdLimit(task(1, BIG_BYTES), 0), 2);
  assert.equal(holdLimit(task(1, 100), 50), 2);
  assert.equal(holdLimit(task(1, 100), 1), 5);
  assert.equal(holdLimit(task(1, 100), 0.01), Infinity);
  assert.equal(holdLimit(task(1, 100), 0), Infinity, "unknown: no limit");
  assert.equal(
    holdLimit(task(1, 100), 0, false),
    2,
    "unknown, for a process: two until the first results",
  );
  assert.equal(holdLimit(task(1, 100), 0.01, false), Infinity);
});

Deno.test("TaskQueue.takeFor stops at the hold limit and leaves the rest queued", () => {
  const big = Array.from({ length: 8 }, (_, i) => task(i + 1, 1 << 20));
  const queue = queueOf(big);
  assert.equal(queue.takeFor(worker(0), 8, Infinity, 0).length, 2);
  assert.equal(queue.length, 6);
  assert.equal(queue.takeFor(worker(1), 8, Infinity, 0).length, 1);
  assert.equal(queue.takeFor(worker(2), 8, Infinity, 0).length, 0);
  assert.equal(queue.length, 5);

  const tiny = queueOf(Array.from({ length: 100 }, (_, i) => task(i, 16)));
  assert.equal(tiny.takeFor(worker(0), 60, Infinity, 0.01).length, 60);
  assert.equal(tiny.takeFor(worker(0), 60, Infinity, 20).length, 2);
});

Deno.test("chunkSizes cover every item once, shrinking from a large first chunk", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200_000 }),
      fc.integer({ min: 1, max: 16 }),
      (n, workers) => {
        const sizes = chunkSizes(new Array(n).fill(0), workers);
        assert.equal(sizes.reduce((a, b) => a + b, 0), n);
        assert.ok(sizes.every((s) => Number.isInteger(s) && s >= 1));
        for (let i = 1; i < sizes.length; i++) {
          assert.ok(sizes[i]! <= sizes[i - 1]!, `${sizes}`);
        }
        assert.equal(sizes[0], Math.ceil(n / (2 * workers)));
        // Never more chunks than the floor of 1/32nd allows, plus the
        // shrinking steps (about 2 * workers * ln 16).
        assert.ok(sizes.length <= 32 * workers + 2 * workers * 3 + 2);
      },
    ),
  );
});

Deno.test("chunkSizes: the notebook's 10 items at size 8 go one by one; 1M numbers in few chunks", () => {
  assert.deepEqual(
    chunkSizes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 8),
    new Array(10).fill(1),
  );
  const million = chunkSizes(new Array(1_000_000).fill(1), 2);
  assert.equal(million[0], 250_000);
  assert.ok(million.length < 30, `${million.length} chunks`);
  assert.equal(million.at(-1)! >= 1, true);
});

Deno.test("chunkSizes sends items of many kilobytes one or a few at a time", () => {
  const mb = Array.from({ length: 32 }, () => new Uint8Array(1 << 20));
  assert.deepEqual(chunkSizes(mb, 2), new Array(32).fill(1));
  const kb100 = Array.from({ length: 200 }, () => new Uint8Array(100_000));
  const sizes = chunkSizes(kb100, 2);
  assert.ok(sizes.every((s) => s <= 10), `${sizes}`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 200);
});

Deno.test("TaskQueue counts queued tasks only and skips those settled while queued", () => {
  const tasks = Array.from({ length: 5 }, (_, i) => task(i + 1, 16));
  const queue = queueOf(tasks);
  assert.equal(queue.length, 5);
  tasks[0]!.state = "settled";
  queue.forget();
  tasks[2]!.state = "settled";
  queue.forget();
  assert.equal(queue.length, 3);
  const taken = queue.takeFor(worker(0), 2, Infinity, 0);
  assert.deepEqual(taken.map((t) => t.id), [2, 4]);
  assert.equal(queue.length, 1);
  queue.add(tasks[1]!, true);
  assert.equal(queue.shift()?.id, 2);
  assert.equal(queue.shift()?.id, 5);
  assert.equal(queue.shift(), undefined);
});

Deno.test("TaskQueue.takeFor refills a worker dealt one by one only once it is down to half its limit", () => {
  // 2 ms tasks: a limit of 3 (the running one and about 4 ms ahead).
  assert.equal(holdLimit(task(1, 16), 2), 3);
  const queue = queueOf(Array.from({ length: 10 }, (_, i) => task(i + 1, 16)));
  assert.equal(queue.takeFor(worker(2), 10, Infinity, 2).length, 0);
  assert.equal(queue.takeFor(worker(1), 10, Infinity, 2).length, 2);
  assert.equal(queue.takeFor(worker(0), 10, Infinity, 2).length, 3);
});

Deno.test("chunkSizes sends items known to take a millisecond or more one by one", () => {
  const items = new Array(64).fill(7);
  assert.deepEqual(chunkSizes(items, 2, 2), new Array(64).fill(1));
  const quarter = chunkSizes(items, 2, 0.25);
  assert.ok(quarter.every((s) => s <= 4), `${quarter}`);
  // Tiny items: guided self-scheduling as when the cost is unknown.
  assert.deepEqual(chunkSizes(items, 2, 0.0001), chunkSizes(items, 2));
});
