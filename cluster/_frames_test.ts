// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { serializeError } from "../errors/serialize_error.ts";
import {
  encodeFrame,
  isTaskMeta,
  isWireCall,
  isWireResult,
  joinFrames,
  packItems,
  splitFrames,
  unpackItems,
  WIRE_VERSION,
} from "./_frames.ts";

Deno.test("frames round-trip structured-clone values, BigInt and typed arrays included", () => {
  const values = [
    { v: 1, map: new Map([[1n, new Set(["a"])]]) },
    new Float64Array([1.5, -2]),
    undefined,
    "text",
  ];
  const back = splitFrames(joinFrames(values.map(encodeFrame)));
  assert.deepEqual(back, values);
});

Deno.test("splitFrames marks a truncated or garbled frame undefined and keeps the ones before", () => {
  const body = joinFrames([encodeFrame(1), encodeFrame(2)]);
  assert.deepEqual(splitFrames(body.subarray(0, body.byteLength - 1)), [
    1,
    undefined,
  ]);
  const garbled = joinFrames([encodeFrame(1), new Uint8Array([0xff, 0x00])]);
  assert.deepEqual(splitFrames(garbled), [1, undefined]);
  assert.deepEqual(splitFrames(new Uint8Array([1, 2])), [undefined]);
});

Deno.test("the shape checks accept what the sides send and refuse the rest", () => {
  assert.ok(isTaskMeta({ v: WIRE_VERSION, caller: "c", reply: "r", max: 3 }));
  assert.ok(!isTaskMeta({ v: WIRE_VERSION, caller: "c", reply: "r", max: 0 }));
  assert.ok(!isTaskMeta({ v: 2, caller: "c", reply: "r", max: 3 }));
  assert.ok(isWireCall({ id: 0, task: "t", kind: "run", args: [] }));
  assert.ok(isWireCall({ id: 1, task: "t", kind: "map", args: [[1]] }));
  assert.ok(!isWireCall({ id: 1, task: "t", kind: "map", args: [] }));
  assert.ok(!isWireCall({ id: -1, task: "t", kind: "run", args: [] }));
  assert.ok(!isWireCall({ id: 1, task: "t", kind: "eval", args: [] }));
  assert.ok(isWireResult({ v: WIRE_VERSION, id: 3, ok: true, value: 1 }));
  assert.ok(
    isWireResult({
      v: WIRE_VERSION,
      id: 3,
      ok: false,
      error: serializeError(new Error("x")),
    }),
  );
  assert.ok(!isWireResult({ v: WIRE_VERSION, id: 3, ok: false, error: "x" }));
  assert.ok(!isWireResult({ v: WIRE_VERSION, id: 1.5, ok: true, value: 1 }));
  assert.ok(!isWireResult(null));
});

Deno.test("packItems sends lists of numbers as Float64Array and others as they are", () => {
  const packed = packItems([1, 2.5, -0]);
  assert.ok(packed instanceof Float64Array);
  assert.deepEqual(unpackItems(packed), [1, 2.5, -0]);
  const mixed = [1, "a"];
  assert.equal(packItems(mixed), mixed);
  assert.equal(unpackItems("not a list"), undefined);
});
