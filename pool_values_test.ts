// Copyright the @seed/concurrency authors. MIT license.
// Values that cross the pool in odd shapes: library objects nested in
// arguments, results that look like the library's markers, and thrown values
// that cannot be read. Each once broke a call, a worker or the pool.
import assert from "node:assert/strict";
import { WorkerPool } from "./_test_pool.ts";
import { SharedValue } from "./sync/shared_value.ts";

Deno.test("a task that throws a revoked Proxy fails its own call, and its worker goes on", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const error = await pool.run(() => {
    const { proxy, revoke } = Proxy.revocable(new Error("gone"), {});
    revoke();
    throw proxy;
  }).catch((e) => e);
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /revoked Proxy/);
  assert.equal(await pool.run((x: number) => x + 1, [1]), 2);
  assert.equal(pool.stats.crashedWorkers, 0);
});

Deno.test("a task that throws an error whose name getter throws fails its own call, and its worker goes on", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const error = await pool.run(() => {
    const error = new RangeError("bad name");
    Object.defineProperty(error, "name", {
      get() {
        throw new Error("no name for you");
      },
    });
    throw error;
  }).catch((e) => e);
  assert.ok(error instanceof Error);
  assert.equal(error.message, "bad name");
  assert.equal(await pool.run((x: number) => x * 3, [3]), 9);
  assert.equal(pool.stats.crashedWorkers, 0);
});

Deno.test("a plain result with a $seedWire field arrives as it was sent", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const result = await pool.run(() => ({
    $seedWire: "SharedLock",
    data: { buffer: 1 },
  }));
  assert.deepEqual(result, { $seedWire: "SharedLock", data: { buffer: 1 } });
  const listed = await pool.map(
    (n: number) => ({ $seedWire: "SharedValue", n }),
    [1, 2],
  );
  assert.deepEqual(listed, [
    { $seedWire: "SharedValue", n: 1 },
    { $seedWire: "SharedValue", n: 2 },
  ]);
});

Deno.test("a SharedValue nested in an object argument reaches the worker over the same memory", async () => {
  await using pool = new WorkerPool({ size: 2 });
  const counter = new SharedValue("i32", 0);
  const bump = (box: { counters: SharedValue<"i32">[]; by: number }) => {
    const [first] = box.counters;
    first!.add(box.by);
    return first!.value;
  };
  await Promise.all(
    [1, 2, 3, 4].map((by) => pool.run(bump, [{ counters: [counter], by }])),
  );
  assert.equal(counter.value, 10);
  // In map items too.
  await pool.map(
    (item: { counter: SharedValue<"i32"> }) => item.counter.add(1),
    [{ counter }, { counter }],
    { chunkSize: 1 },
  );
  assert.equal(counter.value, 12);
});

Deno.test("a SharedValue inside a class instance fails its call with an error that says why", async () => {
  await using pool = new WorkerPool({ size: 1 });
  class Holder {
    value = new SharedValue("i32", 0);
  }
  const error = await pool.run((h: Holder) => h, [new Holder()]).catch((e) =>
    e
  );
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /argument 0/);
  assert.match(String((error.cause as Error).message), /SharedValue/);
});

Deno.test("a burst of calls with one number each (sent as one Float64Array) keeps every number exact and with its own call", async () => {
  await using pool = new WorkerPool({ size: 2 });
  const odd = [-0, NaN, Infinity, -Infinity, 0.1, 2 ** 53 + 2, -1e308, 5e-324];
  const args = Array.from(
    { length: 3000 },
    (_, i) => i % 7 === 0 ? odd[i % odd.length]! : odd[i % odd.length]! + i,
  );
  assert.ok(args.some((x) => Object.is(x, -0)));
  // Two functions interleaved: each record names its own.
  const describe = (x: number) => Object.is(x, -0) ? "-0" : String(x);
  const negate = (x: number) => -x;
  const results = await Promise.all(
    args.map((x, i) =>
      i % 2 === 0 ? pool.run(describe, [x]) : pool.run(negate, [x])
    ),
  );
  results.forEach((result, i) => {
    const x = args[i]!;
    if (i % 2 === 0) {
      assert.equal(result, Object.is(x, -0) ? "-0" : String(x), `call ${i}`);
    } else assert.ok(Object.is(result, -x), `call ${i}: ${result} for ${x}`);
  });
});
