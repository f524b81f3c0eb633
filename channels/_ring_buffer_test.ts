// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { RingBuffer } from "./_ring_buffer.ts";

Deno.test("RingBuffer returns values in FIFO order across wrap-around and growth", () => {
  const buffer = new RingBuffer<number>(2);
  buffer.push(1);
  buffer.push(2);
  assert.equal(buffer.shift(), 1);
  buffer.push(3); // wraps around
  buffer.push(4); // grows while wrapped
  buffer.push(5);
  assert.equal(buffer.length, 4);
  assert.deepEqual([1, 2, 3, 4].map(() => buffer.shift()), [2, 3, 4, 5]);
  assert.equal(buffer.length, 0);
});

Deno.test("RingBuffer keeps undefined as a value", () => {
  const buffer = new RingBuffer<undefined | number>(1);
  buffer.push(undefined);
  buffer.push(1);
  assert.equal(buffer.length, 2);
  assert.equal(buffer.shift(), undefined);
  assert.equal(buffer.shift(), 1);
});

Deno.test("RingBuffer behaves like an array queue for any sequence of push and shift", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 8 }),
      fc.array(fc.option(fc.integer(), { nil: undefined }), { maxLength: 200 }),
      (initialSize, operations) => {
        // A number is a push of it; `undefined` is a shift.
        const buffer = new RingBuffer<number>(initialSize);
        const model: number[] = [];
        for (const operation of operations) {
          if (operation === undefined) {
            if (model.length > 0) assert.equal(buffer.shift(), model.shift());
          } else {
            buffer.push(operation);
            model.push(operation);
          }
          assert.equal(buffer.length, model.length);
        }
      },
    ),
  );
});
