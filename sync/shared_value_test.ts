// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { WorkerPool } from "../pool.ts";
import { SharedEvent } from "./shared_event.ts";
import { SharedLock } from "./shared_lock.ts";
import { type SharedKind, SharedValue } from "./shared_value.ts";

const KIND_LIST = "i8, u8, i16, u16, i32, u32, f32, f64, bigint64, biguint64";

/** A task module, as a data: URL, whose task creates a SharedValue. */
function makerModule(): URL {
  const source = `
    import { SharedValue } from ${
    JSON.stringify(import.meta.resolve("./shared_value.ts"))
  };
    export function make(initial) {
      return new SharedValue("i32", initial);
    }
  `;
  return new URL(`data:application/javascript,${encodeURIComponent(source)}`);
}

Deno.test("SharedValue starts at its initial value, or zero", () => {
  const cases: [SharedKind, number | bigint][] = [
    ["i8", -5],
    ["u8", 200],
    ["i16", -300],
    ["u16", 60_000],
    ["i32", -2_000_000_000],
    ["u32", 4_000_000_000],
    ["f32", 0.5],
    ["f64", Math.PI],
    ["bigint64", -(2n ** 62n)],
    ["biguint64", 2n ** 63n],
  ];
  for (const [kind, initial] of cases) {
    const value = new SharedValue(kind, initial as never);
    assert.equal(value.value, initial, kind);
    assert.equal(value.kind, kind);
  }
  assert.equal(new SharedValue("i32").value, 0);
  assert.equal(new SharedValue("f64").value, 0);
  assert.equal(new SharedValue("bigint64").value, 0n);
});

Deno.test("SharedValue stores out-of-range numbers as its typed array does", () => {
  const byte = new SharedValue("u8", 0);
  byte.value = 257;
  assert.equal(byte.value, 1);
  const single = new SharedValue("f32", 0.1);
  assert.equal(single.value, Math.fround(0.1));
});

Deno.test("SharedValue rejects a bad kind or a value of the wrong type", () => {
  assert.throws(() => new SharedValue("x" as SharedKind), {
    name: "TypeError",
    message:
      `Cannot create SharedValue as 'kind' must be one of ${KIND_LIST}: received "x"`,
  });
  assert.throws(() => new SharedValue("toString" as SharedKind), TypeError);
  assert.throws(() => new SharedValue("bigint64", 1 as unknown as bigint), {
    name: "TypeError",
    message:
      "Cannot create SharedValue as 'initial' must be a bigint for kind bigint64: received 1",
  });
  const value = new SharedValue("i32", 3);
  assert.throws(() => {
    value.value = "4" as unknown as number;
  }, {
    name: "TypeError",
    message:
      `Cannot set SharedValue as 'value' must be a number for kind i32: received "4"`,
  });
  assert.equal(value.value, 3);
});

Deno.test("SharedValue atomic helpers update integer kinds and refuse float kinds", () => {
  const value = new SharedValue("i32", 10);
  assert.equal(value.add(5), 10);
  assert.equal(value.sub(3), 15);
  assert.equal(value.exchange(100), 12);
  assert.equal(value.compareExchange(1, 2), 100);
  assert.equal(value.compareExchange(100, 7), 100);
  assert.equal(value.value, 7);

  const big = new SharedValue("biguint64", 1n);
  const before: bigint = big.add(2n ** 40n);
  assert.equal(before, 1n);
  assert.equal(big.value, 2n ** 40n + 1n);

  const float = new SharedValue("f64", 1);
  // @ts-expect-error: float kinds have no atomic helpers
  assert.throws(() => float.add(1), {
    name: "TypeError",
    message:
      "Cannot add to SharedValue as its kind f64 has no atomic operations: use an integer kind, or hold its lock",
  });
  assert.throws(() => value.add(1n as unknown as number), TypeError);
  assert.equal(float.value, 1);
});

Deno.test("SharedValue.lock is one SharedLock per value", async () => {
  const a = new SharedValue("i32");
  const b = new SharedValue("i32");
  assert.ok(a.lock instanceof SharedLock);
  assert.equal(a.lock, a.lock);
  using _held = await a.lock.acquire();
  assert.equal(a.lock.locked, true);
  assert.equal(b.lock.locked, false, "values do not share locks");
});

Deno.test("SharedValue across workers", async (t) => {
  await using pool = new WorkerPool({ size: 4 });

  // The tasks below first wait at a start line until all four have started,
  // each on its own worker, so that their loops really overlap. The wait is
  // capped: should the pool queue two of them on one worker, waiting for the
  // others would never end. The results checked do not depend on the
  // overlap, only what the test exercises does.

  await t.step(
    "4 workers adding 1 10,000 times each under the lock reach exactly 40,000",
    async () => {
      const counter = new SharedValue("i32", 0);
      const arrived = new SharedValue("i32", 0);
      const go = new SharedEvent();
      await Promise.all([1, 2, 3, 4].map(() =>
        pool.run(
          (
            counter: SharedValue<"i32">,
            arrived: SharedValue<"i32">,
            go: SharedEvent,
          ) => {
            if (arrived.add(1) === 3) go.set();
            try {
              go.waitSync({ timeoutMs: 250 }); // start together...
            } catch {
              // ...unless the pool queued the tasks on fewer workers
            }
            for (let i = 0; i < 10_000; i++) {
              const guard = counter.lock.acquireSync();
              try {
                counter.value += 1;
              } finally {
                guard.release();
              }
            }
          },
          [counter, arrived, go],
        )
      ));
      assert.equal(counter.value, 40_000);
      assert.equal(counter.lock.locked, false);
    },
  );

  await t.step(
    "4 workers adding 1 10,000 times each with add() reach exactly 40,000",
    async () => {
      const counter = new SharedValue("bigint64", 0n);
      const arrived = new SharedValue("i32", 0);
      const go = new SharedEvent();
      await Promise.all([1, 2, 3, 4].map(() =>
        pool.run(
          (
            counter: SharedValue<"bigint64">,
            arrived: SharedValue<"i32">,
            go: SharedEvent,
          ) => {
            if (arrived.add(1) === 3) go.set();
            try {
              go.waitSync({ timeoutMs: 250 }); // start together...
            } catch {
              // ...unless the pool queued the tasks on fewer workers
            }
            for (let i = 0; i < 10_000; i++) counter.add(1n);
          },
          [counter, arrived, go],
        )
      ));
      assert.equal(counter.value, 40_000n);
    },
  );

  await t.step(
    "without the lock, `value += 1` may lose updates but never adds any",
    async () => {
      // `value += 1` is a load then a store: two threads can both load n and
      // both store n + 1, and one increment is lost. How many are lost depends
      // on timing (often thousands here), so only the bounds are checked.
      const counter = new SharedValue("i32", 0);
      const arrived = new SharedValue("i32", 0);
      const go = new SharedEvent();
      await Promise.all([1, 2, 3, 4].map(() =>
        pool.run(
          (
            counter: SharedValue<"i32">,
            arrived: SharedValue<"i32">,
            go: SharedEvent,
          ) => {
            if (arrived.add(1) === 3) go.set();
            try {
              go.waitSync({ timeoutMs: 250 }); // start together...
            } catch {
              // ...unless the pool queued the tasks on fewer workers
            }
            for (let i = 0; i < 10_000; i++) counter.value += 1;
          },
          [counter, arrived, go],
        )
      ));
      assert.ok(counter.value >= 2 && counter.value <= 40_000);
    },
  );

  await t.step(
    "a value revived in a worker shares memory with the original",
    async () => {
      const value = new SharedValue("f64", 1.5);
      const seen = await pool.run((value: SharedValue<"f64">) => {
        const seen = value.value;
        value.value = 2.5;
        return seen;
      }, [value]);
      assert.equal(seen, 1.5);
      assert.equal(value.value, 2.5, "the worker's write is seen on main");
      value.value = 3.5;
      assert.equal(
        await pool.run((value: SharedValue<"f64">) => value.value, [value]),
        3.5,
      );
    },
  );

  await t.step(
    "a value revived in a worker keeps its kind and its lock",
    async () => {
      const value = new SharedValue("bigint64", 7n);
      using _held = await value.lock.acquire();
      const seen = await pool.run((value: SharedValue<"bigint64">) => ({
        kind: value.kind,
        value: value.value,
        locked: value.lock.locked,
        tried: value.lock.tryAcquire() !== undefined,
      }), [value]);
      assert.deepEqual(seen, {
        kind: "bigint64",
        value: 7n,
        locked: true,
        tried: false,
      });
    },
  );
});

Deno.test("SharedValue returned by a task works on main over the same memory", async () => {
  await using pool = new WorkerPool<
    { make(initial: number): SharedValue<"i32"> }
  >(makerModule(), { size: 1 });
  const made = await pool.run("make", [41]);
  assert.ok(made instanceof SharedValue);
  assert.equal(made.kind, "i32");
  assert.equal(made.value, 41);
  made.add(1);
  // Sent back to a worker, it is still the same memory.
  const seen = await pool.run(
    (value: SharedValue<"i32">) => value.exchange(0),
    [made],
  );
  assert.equal(seen, 42);
  assert.equal(made.value, 0);
  using _held = await made.lock.acquire();
  assert.equal(
    await pool.run((value: SharedValue<"i32">) => value.lock.locked, [made]),
    true,
  );
});

Deno.test("SharedValue types follow the kind", () => {
  const big = new SharedValue("bigint64", 1n);
  const small = new SharedValue("i32", 1);
  const b: bigint = big.value;
  const n: number = small.value;
  // @ts-expect-error: a bigint kind holds bigints
  const wrong: number = big.value;
  // @ts-expect-error: an i32 takes numbers
  assert.throws(() => new SharedValue("i32", 1n), TypeError);
  // @ts-expect-error: a bigint kind takes bigints
  assert.throws(() => big.add(1), TypeError);
  assert.equal(typeof b, "bigint");
  assert.equal(typeof n, "number");
  assert.equal(typeof wrong, "bigint");
});
