// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Deque } from "./_deque.ts";

Deno.test("Deque is empty when new: length 0, shift() and peek() give undefined", () => {
  const deque = new Deque<number>();
  assert.equal(deque.length, 0);
  assert.equal(deque.shift(), undefined);
  assert.equal(deque.peek(), undefined);
  assert.deepEqual(deque.drain(), []);
  assert.equal(deque.length, 0);
});

Deno.test("Deque.push() and shift() keep FIFO order through wrap-around and growth", () => {
  const deque = new Deque<number>(4);
  for (const n of [1, 2, 3]) deque.push(n);
  assert.equal(deque.shift(), 1);
  assert.equal(deque.shift(), 2);
  // The head is at slot 2 of 4: these wrap to slots 0 and 1, then grow.
  for (const n of [4, 5, 6, 7, 8, 9]) deque.push(n);
  assert.equal(deque.length, 7);
  assert.equal(deque.peek(), 3);
  assert.deepEqual(deque.drain(), [3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("Deque.unshift() puts items at the front, wrapping below slot 0 and growing", () => {
  const deque = new Deque<string>(2);
  deque.push("c");
  deque.unshift("b"); // wraps to the last slot
  deque.unshift("a"); // full: grows first
  deque.push("d");
  assert.equal(deque.length, 4);
  assert.equal(deque.peek(), "a");
  assert.deepEqual(deque.drain(), ["a", "b", "c", "d"]);
});

Deno.test("Deque grows past any initial capacity, including 0 and 1", () => {
  for (const capacity of [0, 1, 3, 16]) {
    const deque = new Deque<number>(capacity);
    const items = Array.from({ length: 100 }, (_, i) => i);
    for (const item of items) deque.push(item);
    assert.equal(deque.length, 100, `capacity ${capacity}`);
    assert.deepEqual(deque.drain(), items, `capacity ${capacity}`);
  }
});

Deno.test("Deque.drain() returns every item in order, undefined included, and empties the deque", () => {
  const deque = new Deque<number | undefined>(2);
  deque.push(1);
  deque.push(undefined);
  deque.push(2);
  assert.deepEqual(deque.drain(), [1, undefined, 2]);
  assert.equal(deque.length, 0);
  assert.equal(deque.shift(), undefined);
  deque.push(3);
  assert.deepEqual(deque.drain(), [3]);
});

Deno.test("Deque.peek() returns the front item without removing it", () => {
  const deque = new Deque<number>();
  deque.push(1);
  deque.push(2);
  assert.equal(deque.peek(), 1);
  assert.equal(deque.peek(), 1);
  assert.equal(deque.length, 2);
});

type Op =
  | { op: "push"; value: number | undefined }
  | { op: "unshift"; value: number | undefined }
  | { op: "shift" }
  | { op: "peek" }
  | { op: "drain" };

const value = fc.option(fc.integer(), { nil: undefined, freq: 8 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("push"), value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("unshift"), value }) },
  { weight: 4, arbitrary: fc.constant({ op: "shift" }) },
  { weight: 1, arbitrary: fc.constant({ op: "peek" }) },
  { weight: 1, arbitrary: fc.constant({ op: "drain" }) },
) as fc.Arbitrary<Op>;

Deno.test("Deque behaves like an array for any sequence of push, unshift, shift, peek and drain", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 8 }),
      fc.array(op, { maxLength: 300, size: "medium" }),
      (initialCapacity, ops) => {
        const deque = new Deque<number | undefined>(initialCapacity);
        const model: (number | undefined)[] = [];
        for (const step of ops) {
          switch (step.op) {
            case "push":
              deque.push(step.value);
              model.push(step.value);
              break;
            case "unshift":
              deque.unshift(step.value);
              model.unshift(step.value);
              break;
            case "shift":
              assert.equal(deque.shift(), model.shift());
              break;
            case "peek":
              assert.equal(deque.peek(), model[0]);
              break;
            case "drain":
              assert.deepEqual(deque.drain(), model.splice(0));
              break;
          }
          assert.equal(deque.length, model.length);
          assert.equal(deque.peek(), model[0]);
        }
        assert.deepEqual(deque.drain(), model);
      },
    ),
  );
});
