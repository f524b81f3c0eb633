// Copyright the @seed/concurrency authors. MIT license.
// starmap, per-item transfer and progress for map and imap.
import assert from "node:assert/strict";
import { WorkerPool } from "./_test_pool.ts";
import type * as Tasks from "./testdata/tasks.ts";

const TASKS = new URL("./testdata/tasks.ts", import.meta.url);

Deno.test("starmap spreads each argument list into the task, results in input order", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 2 });
  const pairs = Array.from(
    { length: 300 },
    (_, i) => [i, i * 2] as [number, number],
  );
  assert.deepEqual(
    await pool.starmap("add", pairs, { chunkSize: 7 }),
    pairs.map(([a, b]) => a + b),
  );
  assert.deepEqual(await pool.starmap("power", [[2], [2, 10]]), [4, 1024]);
  const inline = await pool.starmap(
    (s: string, n: number) => s.repeat(n),
    [["a", 3], ["bc", 2]],
  );
  assert.deepEqual(inline, ["aaa", "bcbc"]);
  assert.deepEqual(await pool.starmap("add", []), []);
});

Deno.test("starmap fails with a TypeError when an item is not an argument list", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 1 });
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    pool.starmap("add", [[1, 2], 3 as any]),
    (e: Error) =>
      e.name === "TypeError" && /not an array of arguments/.test(e.message),
  );
});

Deno.test("map only accepts tasks of one argument; starmap takes the others", () => {
  const pool = new WorkerPool<typeof Tasks>(TASKS, { size: 1 });
  // Type checks only: never called.
  const typeChecks = () => {
    pool.map("square", [1, 2]);
    pool.map("power", [1, 2]); // the second parameter is optional
    // @ts-expect-error add takes two arguments: use starmap
    pool.map("add", [1, 2]);
    // @ts-expect-error add takes two arguments
    pool.imap("add", [1, 2]);
    // @ts-expect-error each item must be the argument list
    pool.starmap("add", [1, 2]);
    pool.starmap("add", [[1, 2]]);
  };
  assert.equal(typeof typeChecks, "function");
  pool.terminate();
});

Deno.test("map moves what transfer names for each item: the buffers are detached here", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 2 });
  const buffers = Array.from(
    { length: 6 },
    (_, i) => new ArrayBuffer(1024 * (i + 1)),
  );
  const lengths = await pool.map("byteLength", buffers, {
    transfer: (buffer) => [buffer],
  });
  assert.deepEqual(lengths, buffers.map((_, i) => 1024 * (i + 1)));
  assert.ok(buffers.every((b) => b.byteLength === 0), "all moved, none copied");
  // Without it they are copied.
  const kept = [new ArrayBuffer(8)];
  assert.deepEqual(await pool.map("byteLength", kept), [8]);
  assert.equal(kept[0]!.byteLength, 8);
});

Deno.test("transfer that returns something other than an array rejects the map, naming the item", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 1 });
  await assert.rejects(
    pool.map("byteLength", [new ArrayBuffer(1), new ArrayBuffer(2)], {
      chunkSize: 1,
      // deno-lint-ignore no-explicit-any
      transfer: ((b: ArrayBuffer) => b.byteLength === 2 ? b : [b]) as any,
    }),
    /'transfer' returned .* for item 1/,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    pool.map("square", [1], { onProgress: 5 as any }),
    /Cannot map as 'onProgress' must be a function: received 5/,
  );
  assert.equal(pool.stats.submitted, 0, "no task was made");
});

Deno.test("map reports progress as chunks complete, ending at the total", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 2 });
  const seen: [number, number][] = [];
  const items = Array.from({ length: 100 }, (_, i) => i);
  const out = await pool.map("square", items, {
    chunkSize: 10,
    onProgress: (done, total) => seen.push([done, total]),
  });
  assert.deepEqual(out, items.map((x) => x * x));
  assert.equal(seen.length, 10);
  assert.deepEqual(seen.at(-1), [100, 100]);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]![0] > seen[i - 1]![0]);
  }
});

Deno.test("an onProgress that throws fails the map and the imap with its error", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 2 });
  const boom = new Error("progress bar broke");
  await assert.rejects(
    pool.map("square", [1, 2, 3, 4], {
      chunkSize: 1,
      onProgress: () => {
        throw boom;
      },
    }),
    (e) => e === boom,
  );
  await assert.rejects(
    Array.fromAsync(pool.imap("square", [1, 2, 3], {
      onProgress: () => {
        throw boom;
      },
    })),
    (e) => e === boom,
  );
});

Deno.test("imap reports progress with the total when the input is an array, and moves buffers", async () => {
  await using pool = new WorkerPool<typeof Tasks>(TASKS, { size: 2 });
  const seen: (number | undefined)[][] = [];
  const out = await Array.fromAsync(
    pool.imap("square", [1, 2, 3, 4, 5], {
      chunkSize: 2,
      onProgress: (done, total) => seen.push([done, total]),
    }),
  );
  assert.deepEqual(out, [1, 4, 9, 16, 25]);
  assert.deepEqual(seen.at(-1), [5, 5]);

  async function* source() {
    yield 1;
    yield 2;
  }
  const streamed: (number | undefined)[][] = [];
  for await (
    const _ of pool.imapUnordered("square", source(), {
      onProgress: (done, total) => streamed.push([done, total]),
    })
  ) { /* drain */ }
  assert.deepEqual(streamed.at(-1), [2, undefined]);

  const buffers = [new ArrayBuffer(16), new ArrayBuffer(32)];
  const lengths = await Array.fromAsync(
    pool.imap("byteLength", buffers, { transfer: (b) => [b] }),
  );
  assert.deepEqual(lengths, [16, 32]);
  assert.ok(buffers.every((b) => b.byteLength === 0));
});
