// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { RingBuffer } from "./_ring_buffer.ts";

Deno.test("RingBuffer is empty when new: length 0, shift(), peek() and at(0) give undefined", () => {
  const buffer = new RingBuffer<number>();
  assert.equal(buffer.length, 0);
  assert.equal(buffer.shift(), undefined);
  assert.equal(buffer.peek(), undefined);
  assert.equal(buffer.at(0), undefined);
  assert.deepEqual(buffer.drain(), []);
  assert.equal(buffer.length, 0);
});

Deno.test("RingBuffer.push() and shift() keep FIFO order through wrap-around and growth", () => {
  const buffer = new RingBuffer<number>(4);
  for (const n of [1, 2, 3]) buffer.push(n);
  assert.equal(buffer.shift(), 1);
  assert.equal(buffer.shift(), 2);
  // The head is at slot 2 of 4: these wrap to slots 0 and 1, then grow.
  for (const n of [4, 5, 6, 7, 8, 9]) buffer.push(n);
  assert.equal(buffer.length, 7);
  assert.equal(buffer.peek(), 3);
  assert.deepEqual(buffer.drain(), [3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("RingBuffer.unshift() puts values at the front, wrapping below slot 0 and growing", () => {
  const buffer = new RingBuffer<string>(2);
  buffer.push("c");
  buffer.unshift("b"); // wraps to the last slot
  buffer.unshift("a"); // full: grows first
  buffer.push("d");
  assert.equal(buffer.length, 4);
  assert.equal(buffer.peek(), "a");
  assert.deepEqual(buffer.drain(), ["a", "b", "c", "d"]);
});

Deno.test("RingBuffer grows past any initial capacity, including 0 and 1", () => {
  for (const capacity of [0, 1, 3, 16]) {
    const buffer = new RingBuffer<number>(capacity);
    const values = Array.from({ length: 100 }, (_, i) => i);
    for (const value of values) buffer.push(value);
    assert.equal(buffer.length, 100, `capacity ${capacity}`);
    assert.deepEqual(buffer.drain(), values, `capacity ${capacity}`);
  }
});

Deno.test("RingBuffer keeps undefined as a value: length counts it and drain() returns it", () => {
  const buffer = new RingBuffer<number | undefined>(2);
  buffer.push(1);
  buffer.push(undefined);
  buffer.push(2);
  assert.equal(buffer.length, 3);
  assert.equal(buffer.at(1), undefined);
  assert.deepEqual(buffer.drain(), [1, undefined, 2]);
  assert.equal(buffer.length, 0);
  assert.equal(buffer.shift(), undefined);
  buffer.push(3);
  assert.deepEqual(buffer.drain(), [3]);
});

Deno.test("RingBuffer.peek() and at() read without removing, and at() is undefined out of range", () => {
  const buffer = new RingBuffer<number>(2);
  buffer.push(2);
  buffer.unshift(1); // wrapped: the front is the last slot
  assert.equal(buffer.peek(), 1);
  assert.equal(buffer.at(0), 1);
  assert.equal(buffer.at(1), 2);
  assert.equal(buffer.at(2), undefined);
  assert.equal(buffer.at(-1), undefined);
  assert.equal(buffer.length, 2);
});

type Op =
  | { op: "push"; value: number | undefined }
  | { op: "unshift"; value: number | undefined }
  | { op: "shift" }
  | { op: "peek" }
  | { op: "at"; index: number }
  | { op: "drain" };

const value = fc.option(fc.integer(), { nil: undefined, freq: 8 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("push"), value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("unshift"), value }) },
  { weight: 4, arbitrary: fc.constant({ op: "shift" }) },
  { weight: 1, arbitrary: fc.constant({ op: "peek" }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("at"),
      index: fc.integer({ min: -1, max: 40 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "drain" }) },
) as fc.Arbitrary<Op>;

Deno.test("RingBuffer behaves like an array for any sequence of push, unshift, shift, peek, at and drain", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 8 }),
      fc.array(op, { maxLength: 300, size: "medium" }),
      (initialCapacity, ops) => {
        const buffer = new RingBuffer<number | undefined>(initialCapacity);
        const model: (number | undefined)[] = [];
        for (const step of ops) {
          switch (step.op) {
            case "push":
              buffer.push(step.value);
              model.push(step.value);
              break;
            case "unshift":
              buffer.unshift(step.value);
              model.unshift(step.value);
              break;
            case "shift":
              assert.equal(buffer.shift(), model.shift());
              break;
            case "peek":
              assert.equal(buffer.peek(), model[0]);
              break;
            case "at":
              assert.equal(
                buffer.at(step.index),
                step.index < 0 ? undefined : model[step.index],
              );
              break;
            case "drain":
              assert.deepEqual(buffer.drain(), model.splice(0));
              break;
          }
          assert.equal(buffer.length, model.length);
          assert.equal(buffer.peek(), model[0]);
        }
        assert.deepEqual(buffer.drain(), model);
      },
    ),
  );
});
