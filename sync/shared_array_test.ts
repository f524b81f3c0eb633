// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { describe } from "../errors/_describe.ts";
import { WorkerPool } from "../pool.ts";
import { SharedArray } from "./shared_array.ts";
import { SharedEvent } from "./shared_event.ts";
import { SharedLock } from "./shared_lock.ts";
import { type SharedKind, SharedValue } from "./shared_value.ts";

Deno.test("SharedArray holds its initial elements, or zeros", () => {
  const ints = new SharedArray("i32", [1, 2, 3, 4, 5]);
  assert.equal(ints.kind, "i32");
  assert.equal(ints.length, 5);
  assert.deepEqual(ints.toArray(), [1, 2, 3, 4, 5]);
  assert.deepEqual([...ints], [1, 2, 3, 4, 5]);
  assert.deepEqual(new SharedArray("f64", 3).toArray(), [0, 0, 0]);
  assert.deepEqual(new SharedArray("biguint64", 2).toArray(), [0n, 0n]);
  assert.deepEqual(new SharedArray("i8", []).toArray(), []);
  function* gen() {
    yield 1.5;
    yield 2.5;
  }
  assert.deepEqual(new SharedArray("f32", gen()).toArray(), [1.5, 2.5]);
  assert.deepEqual(
    SharedArray.from("bigint64", new Set([-1n, 2n])).toArray(),
    [-1n, 2n],
  );
});

Deno.test("SharedArray rejects a bad kind, length or element", () => {
  assert.throws(() => new SharedArray("int" as SharedKind, [1]), {
    name: "TypeError",
    message:
      `Cannot create SharedArray as 'kind' must be one of i8, u8, i16, u16, i32, u32, f32, f64, bigint64, biguint64: received "int"`,
  });
  for (const length of [-1, 1.5, NaN]) {
    assert.throws(() => new SharedArray("i32", length), {
      name: "RangeError",
      message:
        `Cannot create SharedArray as its length must be a non-negative integer: received ${length}`,
    });
  }
  assert.throws(() => new SharedArray("i32", [1, "2" as unknown as number]), {
    name: "TypeError",
    message:
      `Cannot create SharedArray as 'values[1]' must be a number for kind i32: received "2"`,
  });
  assert.throws(
    () => new SharedArray("i32", null as unknown as number[]),
    {
      name: "TypeError",
      message:
        "Cannot create SharedArray as 'values' must be an iterable or a length: received null",
    },
  );
  assert.throws(
    () => SharedArray.from("i32", 3 as unknown as number[]),
    TypeError,
  );
});

Deno.test("SharedArray.get() and set() check the index and the element type", () => {
  const array = new SharedArray("u8", [1, 2, 3]);
  array.set(2, 300); // stored as a Uint8Array stores it
  assert.equal(array.get(2), 44);
  for (const index of [-1, 3, 0.5, NaN]) {
    assert.throws(() => array.get(index), {
      name: "RangeError",
      message:
        `Cannot read SharedArray element as 'index' must be an integer from 0 to 2: received ${index}`,
    });
    assert.throws(() => array.set(index, 0), RangeError);
  }
  assert.throws(() => new SharedArray("i32", 0).get(0), {
    name: "RangeError",
    message:
      "Cannot read SharedArray element as 'index' must be in range, and the array is empty: received 0",
  });
  assert.throws(() => array.set(0, 1n as unknown as number), {
    name: "TypeError",
    // describe() names the value; errors/_describe.ts should print a bigint
    // as `1n`.
    message:
      `Cannot write SharedArray element as 'value' must be a number for kind u8: received ${
        describe(1n)
      }`,
  });
  assert.deepEqual(array.toArray(), [1, 2, 44]);
});

Deno.test("SharedArray atomic helpers update integer kinds and refuse float kinds", () => {
  const array = new SharedArray("i16", [10, 20]);
  assert.equal(array.add(0, 5), 10);
  assert.equal(array.sub(1, 5), 20);
  assert.equal(array.compareExchange(1, 0, 1), 15);
  assert.equal(array.compareExchange(1, 15, 1), 15);
  assert.deepEqual(array.toArray(), [15, 1]);
  assert.throws(() => array.add(2, 1), RangeError);

  const floats = new SharedArray("f64", [1]);
  // @ts-expect-error: float kinds have no atomic helpers
  assert.throws(() => floats.add(0, 1), {
    name: "TypeError",
    message:
      "Cannot add to SharedArray element as its kind f64 has no atomic operations: use an integer kind, or hold its lock",
  });
  assert.deepEqual(floats.toArray(), [1]);
});

Deno.test("SharedArray iteration reads elements as it reaches them", () => {
  const array = new SharedArray("i32", [1, 2, 3]);
  const seen: number[] = [];
  for (const x of array) {
    seen.push(x);
    if (seen.length === 1) array.set(2, 30);
  }
  assert.deepEqual(seen, [1, 2, 30]);
});

Deno.test("SharedArray.lock is its own SharedLock", async () => {
  const a = new SharedArray("i32", 1);
  const b = new SharedArray("i32", 1);
  assert.ok(a.lock instanceof SharedLock);
  assert.equal(a.lock, a.lock);
  using _held = await a.lock.acquire();
  assert.equal(b.lock.locked, false);
});

Deno.test("SharedArray across workers", async (t) => {
  await using pool = new WorkerPool({ size: 4 });

  await t.step(
    "4 workers updating every element under the lock lose nothing",
    async () => {
      const array = new SharedArray("f64", [0, 0.5, 1]);
      const arrived = new SharedValue("i32", 0);
      const go = new SharedEvent();
      await Promise.all([1, 2, 3, 4].map(() =>
        pool.run(
          (
            array: SharedArray<"f64">,
            arrived: SharedValue<"i32">,
            go: SharedEvent,
          ) => {
            if (arrived.add(1) === 3) go.set();
            try {
              go.waitSync({ timeoutMs: 250 }); // start together...
            } catch {
              // ...unless the pool queued the tasks on fewer workers
            }
            for (let round = 0; round < 1_000; round++) {
              array.lock.runSync(() => {
                for (let i = 0; i < array.length; i++) {
                  array.set(i, array.get(i) + 1);
                }
              });
            }
          },
          [array, arrived, go],
        )
      ));
      assert.deepEqual(array.toArray(), [4000, 4000.5, 4001]);
    },
  );

  await t.step(
    "a worker adding 1 to each element under the lock changes the original",
    async () => {
      const numbers = new SharedArray("i32", [1, 2, 3, 4, 5]);
      await pool.run((numbers: SharedArray<"i32">) => {
        numbers.lock.runSync(() => {
          for (let i = 0; i < numbers.length; i++) {
            numbers.set(i, numbers.get(i) + 1);
          }
        });
      }, [numbers]);
      assert.deepEqual(numbers.toArray(), [2, 3, 4, 5, 6]);
    },
  );

  await t.step(
    "an array revived in a worker keeps its kind, length and lock",
    async () => {
      const array = new SharedArray("bigint64", [5n, 6n]);
      using _held = await array.lock.acquire();
      const seen = await pool.run((array: SharedArray<"bigint64">) => ({
        kind: array.kind,
        items: array.toArray(),
        locked: array.lock.locked,
      }), [array]);
      assert.deepEqual(seen, {
        kind: "bigint64",
        items: [5n, 6n],
        locked: true,
      });
    },
  );

  await t.step(
    "a task can return a SharedArray it was given, still shared",
    async () => {
      const array = new SharedArray("u32", 2);
      const back = await pool.run((array: SharedArray<"u32">) => {
        array.set(1, 9);
        return array;
      }, [array]);
      assert.ok(back instanceof SharedArray);
      assert.notEqual(back, array);
      back.set(0, 8);
      assert.deepEqual(array.toArray(), [8, 9]);
    },
  );
});
