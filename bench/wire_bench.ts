// Copyright the @seed/concurrency authors. MIT license.
// What looking for library objects adds to a pool call: `encodeValues` beside
// the `structuredClone` that posting the same values costs anyway. Read the
// results as ratios within a group.
//
//   deno bench bench/wire_bench.ts
//
// A wire class is loaded (SharedLock), so the walker runs: with none loaded,
// `encodeValues` returns at its first check.
import { encodeValues } from "../_wire.ts";
import { SharedLock } from "../sync/shared_lock.ts";

const lock = new SharedLock();
const PRIMITIVES = "two numbers: [1, 2]";
const STRING = 'one string: ["x"]';
const BIG = "1,000,000 numbers in one array argument";
const NESTED = "a lock nested in { a: [{ lock }], n: 1 }";

const pair = [1, 2];
const single = ["x"];
const big = [Array.from({ length: 1_000_000 }, (_, i) => i * 0.5)];
const nested = [{ a: [{ lock }], n: 1 }];
const plain = [{ a: [{ lock: 0 }], n: 1 }];

let sink: unknown;

for (const [group, values] of [[PRIMITIVES, pair], [STRING, single]] as const) {
  Deno.bench({
    name: "structuredClone",
    group,
    baseline: true,
    fn() {
      sink = structuredClone(values);
    },
  });
  Deno.bench({
    name: "encodeValues",
    group,
    fn() {
      sink = encodeValues(values);
    },
  });
}

Deno.bench({
  name: "structuredClone",
  group: BIG,
  baseline: true,
  fn() {
    sink = structuredClone(big);
  },
});

Deno.bench({
  name: "encodeValues",
  group: BIG,
  fn() {
    sink = encodeValues(big);
  },
});

Deno.bench({
  name: "structuredClone of the same shape without a lock",
  group: NESTED,
  baseline: true,
  fn() {
    sink = structuredClone(plain);
  },
});

Deno.bench({
  name: "encodeValues + structuredClone",
  group: NESTED,
  fn() {
    const encoded = encodeValues(nested)!;
    sink = structuredClone(encoded.values, { transfer: encoded.transfer });
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === null) console.log(sink); // keeps `sink` observable
});
