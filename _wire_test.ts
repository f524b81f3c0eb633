// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeValues,
  registerWireClass,
  reviverOf,
  type WireEncoded,
} from "./_wire.ts";
import { reviveValues } from "./_wire_revive.ts";
import { WorkerPool } from "./pool.ts";
import { pipe } from "./channels/pipe.ts";
import { WorkerChannel } from "./channels/worker_channel.ts";
import { SharedLock } from "./sync/shared_lock.ts";
import { SharedValue } from "./sync/shared_value.ts";

/** What a pool does: encode, post (a structured clone), revive. */
async function roundTrip(values: unknown[]): Promise<unknown[]> {
  const encoded = encodeValues(values);
  assert.ok(encoded !== undefined, "a library object was found");
  const received = structuredClone(encoded.values, {
    transfer: encoded.transfer,
  });
  await reviveValues(received, structuredClone(encoded.paths));
  return received;
}

/** Whether `a` and `b` are locks over the same memory. */
function sameLockMemory(a: unknown, b: SharedLock): boolean {
  assert.ok(a instanceof SharedLock, "revived as a SharedLock");
  assert.notEqual(a, b);
  const guard = a.tryAcquire();
  assert.ok(guard !== undefined);
  const shared = b.locked;
  guard.release();
  return shared && !b.locked;
}

Deno.test("encodeValues() returns undefined when no value holds a library object", () => {
  new SharedLock(); // a registered class, so that the walker runs
  assert.equal(encodeValues([]), undefined);
  assert.equal(encodeValues([1, 2]), undefined);
  assert.equal(encodeValues(["x"]), undefined);
  assert.equal(encodeValues([null, undefined, 1n, true]), undefined);
  const cyclic: Record<string, unknown> = { a: [1, { b: "c" }] };
  cyclic.self = cyclic;
  assert.equal(
    encodeValues([
      cyclic,
      new Map([[{ k: 1 }, [2]]]),
      new Set([{}]),
      new Date(0),
      new Uint8Array(4),
      Object.create(null),
    ]),
    undefined,
  );
  // Over the first pass's budget: the second pass decides.
  const many = Array.from({ length: 3000 }, (_, i) => ({ i }));
  assert.equal(encodeValues([many]), undefined);
});

Deno.test("encodeValues() and reviveValues() carry SharedLocks at several depths", async () => {
  const top = new SharedLock();
  const deep = new SharedLock();
  const inArray = new SharedLock();
  const values = [top, { a: [{ lock: deep }] }, [[[inArray]], 5]];
  const received = await roundTrip(values);
  assert.ok(sameLockMemory(received[0], top));
  const second = received[1] as { a: { lock: unknown }[] };
  assert.ok(sameLockMemory(second.a[0]!.lock, deep));
  const third = received[2] as [[[unknown]], number];
  assert.ok(sameLockMemory(third[0][0][0], inArray));
  assert.equal(third[1], 5);
});

Deno.test("encodeValues() records one path per marker, starting with the index into the values", () => {
  const lock = new SharedLock();
  const odd = Object.create(null);
  odd["odd key"] = lock;
  const encoded = encodeValues([0, { a: [1, { lock }] }, odd]) as WireEncoded;
  assert.deepEqual(
    encoded.paths.map((path) => JSON.stringify(path)).sort(),
    ['[1,"a",1,"lock"]', '[2,"odd key"]'],
  );
  assert.equal(encoded.transfer.length, 0);
  assert.equal(Object.getPrototypeOf(encoded.values[2]), null);
});

Deno.test("encodeValues() and reviveValues() carry library objects in Map values and Set members", async () => {
  const lock = new SharedLock();
  const other = new SharedLock();
  const key = { k: 1 };
  const values = [
    new Map<unknown, unknown>([["a", 1], [key, { lock }], ["c", 3]]),
    new Set<unknown>([1, other, 3]),
  ];
  const received = await roundTrip(values);
  const map = received[0] as Map<unknown, unknown>;
  assert.deepEqual([...map.keys()].slice(0, 1), ["a"]);
  assert.deepEqual([...map.keys()][1], key);
  const entry = [...map.values()][1] as { lock: unknown };
  assert.ok(sameLockMemory(entry.lock, lock));
  const members = [...(received[1] as Set<unknown>)];
  assert.equal(members.length, 3);
  assert.equal(members[0], 1);
  assert.ok(sameLockMemory(members[1], other));
  assert.equal(members[2], 3);
});

Deno.test("encodeValues() leaves the caller's arrays, objects, Maps and Sets untouched", () => {
  const lock = new SharedLock();
  const inner = { lock, n: 1 };
  const list = [inner];
  const map = new Map([["k", lock]]);
  const set = new Set([lock]);
  const first = Object.freeze({ list });
  const values = Object.freeze([first, map, set, lock]);
  const encoded = encodeValues(values) as WireEncoded;
  assert.equal(values.length, 4);
  assert.equal(values[0], first);
  assert.equal(first.list, list);
  assert.equal(list[0], inner);
  assert.equal(inner.lock, lock);
  assert.equal(map.get("k"), lock);
  assert.deepEqual([...set], [lock]);
  assert.equal(values[3], lock);
  assert.notEqual(encoded.values, values);
  assert.notEqual(encoded.values[1], map);
  // The same lock at four places: one marker, revived once.
  const markers = new Set([
    (encoded.values[0] as { list: { lock: unknown }[] }).list[0]!.lock,
    (encoded.values[1] as Map<string, unknown>).get("k"),
    [...(encoded.values[2] as Set<unknown>)][0],
    encoded.values[3],
  ]);
  assert.equal(markers.size, 1);
  assert.equal(encoded.paths.length, 4);
});

Deno.test("reviveValues() rebuilds a library object met at several paths once", async () => {
  const value = new SharedValue("i32", 7);
  const received = await roundTrip([value, { again: value }, [value]]);
  assert.ok(received[0] instanceof SharedValue);
  assert.equal(received[0].value, 7);
  assert.equal((received[1] as { again: unknown }).again, received[0]);
  assert.equal((received[2] as unknown[])[0], received[0]);
});

Deno.test("encodeValues() handles cycles and shared containers, copying what reaches a library object", async () => {
  const lock = new SharedLock();
  const holder: Record<string, unknown> = { lock };
  holder.self = holder;
  const plain = { big: [1, 2, 3] };
  const pointer = { to: holder, plain };
  const values = [pointer, holder, plain];
  const encoded = encodeValues(values) as WireEncoded;
  const copy = encoded.values[1] as Record<string, unknown>;
  assert.notEqual(copy, holder);
  assert.equal(copy.self, copy, "the cycle points at the copy");
  assert.equal((encoded.values[0] as { to: unknown }).to, copy);
  assert.equal(encoded.values[2], plain, "a container without one is shared");
  assert.equal(holder.self, holder);
  assert.equal(holder.lock, lock);
  assert.equal(pointer.to, holder);

  const received = await roundTrip(values);
  const revived = received[1] as Record<string, unknown>;
  assert.equal(revived.self, revived);
  assert.equal((received[0] as { to: unknown }).to, revived);
  assert.ok(sameLockMemory(revived.lock, lock));
});

Deno.test("encodeValues() finds a library object past the first pass's budget and deep down", async () => {
  const lock = new SharedLock();
  const wide: unknown[] = Array.from({ length: 3000 }, (_, i) => ({ i }));
  wide.push({ lock });
  let deep: unknown = { lock };
  for (let i = 0; i < 2000; i++) deep = { next: deep };
  const received = await roundTrip([wide, deep]);
  const last = (received[0] as { lock?: unknown }[])[3000]!;
  assert.ok(sameLockMemory(last.lock, lock));
  let at = received[1] as { next?: unknown; lock?: unknown };
  while (at.next !== undefined) at = at.next as typeof at;
  assert.ok(sameLockMemory(at.lock, lock));
});

Deno.test("a plain object with a $seedWire field crosses untouched", async () => {
  const lookalike = { $seedWire: "SharedLock", data: { buffer: 1 } };
  assert.equal(encodeValues([lookalike, [lookalike]]), undefined);
  const lock = new SharedLock();
  const received = await roundTrip([lookalike, { lock, lookalike }]);
  assert.deepEqual(received[0], lookalike);
  const second = received[1] as { lock: unknown; lookalike: unknown };
  assert.deepEqual(second.lookalike, lookalike);
  assert.ok(sameLockMemory(second.lock, lock));
});

Deno.test("reviveValues() rejects an unknown type, saying to import its module", async () => {
  await assert.rejects(
    reviveValues([{ $seedWire: "NoSuchThing", data: 0 }], [[0]]),
    {
      name: "TypeError",
      message:
        /^Cannot rebuild a received NoSuchThing as no module registered it: import the module that defines it in the task module/,
    },
  );
});

Deno.test("reviveValues() rejects shared objects over memory that is not shared", async () => {
  const buffer = new ArrayBuffer(64);
  const markers = [
    { $seedWire: "SharedLock", data: { buffer, byteOffset: 0 } },
    { $seedWire: "SharedEvent", data: { buffer, byteOffset: 0 } },
    { $seedWire: "SharedValue", data: { kind: "i32", buffer } },
    { $seedWire: "SharedArray", data: { kind: "i32", buffer, length: 1 } },
  ];
  for (const marker of markers) {
    await assert.rejects(reviveValues([marker], [[0]]), {
      name: "TypeError",
      message: /its buffer is not a SharedArrayBuffer/,
    }, marker.$seedWire);
  }
});

Deno.test("reviveValues() rejects paths that do not lead to a marker", async () => {
  const bad: [unknown[], unknown][] = [
    [[{ a: 1 }], [[0, "a"]]],
    [[{ a: 1 }], [[0, "b"]]],
    [[{ a: 1 }], [[0, "__proto__"]]],
    [[[1]], [[0, 3]]],
    [[1], [[0, "x"]]],
    [[new Date(0)], [[0, "x"]]],
    [[new Map([["k", 1]])], [[0, "k"]]],
    [[{}], [[]]],
    [[{}], "not paths"],
  ];
  for (const [values, paths] of bad) {
    await assert.rejects(
      reviveValues(values, paths as []),
      TypeError,
      JSON.stringify(paths),
    );
  }
});

Deno.test("a library object the walker does not reach makes the clone throw instead of arriving as {}", () => {
  const lock = new SharedLock();
  class Holder {
    constructor(readonly lock: SharedLock) {}
  }
  const hidden = [new Holder(lock), new Map([[lock, 1]])];
  for (const value of hidden) {
    assert.equal(encodeValues([value]), undefined);
    assert.throws(() => structuredClone(value), {
      message: /^Cannot clone SharedLock as it lives in shared memory/,
    });
  }
  const channel = new WorkerChannel<number>();
  const { port1, port2 } = new MessageChannel();
  assert.throws(
    () => port1.postMessage({ inside: new Holder(lock), channel }),
    {
      name: "TypeError",
      message: /^Cannot clone (SharedLock|WorkerChannel) as/,
    },
  );
  port1.close();
  port2.close();
  channel.close();
});

Deno.test("encodeValues() carries ports: a nested WorkerChannel and PipeEnd work after the round trip", async () => {
  const channel = new WorkerChannel<number>(1);
  const [near, far] = pipe<string>();
  const received = await roundTrip([{ channel, ends: [far] }]);
  const got = received[0] as { channel: unknown; ends: unknown[] };
  assert.equal(got.channel, channel, "a channel back at its owner is itself");
  const end = got.ends[0] as typeof far;
  assert.notEqual(end, far);
  await near.send("hello");
  assert.equal(await end.receive(), "hello");
  await assert.rejects(far.send("x"), TypeError); // it moved
  near.close();
  end.close();
  channel.close();
});

Deno.test("encodeValues() refuses a pipe end passed already, naming the reason", () => {
  const [near, far] = pipe<number>();
  const encoded = encodeValues([[far]]) as WireEncoded;
  assert.throws(() => encodeValues([{ far }]), {
    name: "TypeError",
    message: /passed already/,
  });
  (encoded.transfer[0] as MessagePort).close();
  near.close();
});

Deno.test("registerWireClass() registers a class of a module outside the library", async () => {
  class Token {
    constructor(readonly id: number) {}
  }
  assert.equal(reviverOf("test/Token"), undefined);
  registerWireClass(Token, "test/Token", {
    encode: (token) => ({ data: token.id }),
    revive: (data) => new Token(data as number),
  });
  assert.equal(typeof reviverOf("test/Token"), "function");
  const received = await roundTrip([{ token: new Token(4) }]);
  const token = (received[0] as { token: unknown }).token;
  assert.ok(token instanceof Token);
  assert.equal(token.id, 4);
});

/** Replaces each SharedValue by a description of its memory, for comparison. */
function describeShared(
  value: unknown,
  seen = new Map<object, unknown>(),
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof SharedValue) return { shared: value.value };
  if (seen.has(value)) return seen.get(value);
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) out.set(k, describeShared(v, seen));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(describeShared(v, seen));
    return out;
  }
  const out: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? []
    : {};
  seen.set(value, out);
  for (const key of Object.keys(value)) {
    (out as Record<string, unknown>)[key] = describeShared(
      (value as Record<string, unknown>)[key],
      seen,
    );
  }
  return out;
}

Deno.test("encode, clone and revive rebuild any tree of arrays, objects, Maps and Sets with shared values in it", async () => {
  const shared = [1, 2, 3].map((n) => new SharedValue("i32", n));
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
      fc.constantFrom(...shared),
      fc.array(tie("tree"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 3 }), tie("tree"), {
        maxKeys: 4,
      }),
      fc.array(fc.tuple(fc.string({ maxLength: 3 }), tie("tree")), {
        maxLength: 3,
      }).map((entries) => new Map(entries)),
      fc.array(tie("tree"), { maxLength: 3 }).map((items) => new Set(items)),
    ),
  }));
  await fc.assert(
    fc.asyncProperty(fc.array(tree, { maxLength: 4 }), async (values) => {
      const before = describeShared(values);
      const encoded = encodeValues(values);
      assert.deepEqual(describeShared(values), before, "not mutated");
      const received = structuredClone(encoded?.values ?? values);
      await reviveValues(received, encoded?.paths ?? []);
      assert.deepEqual(describeShared(received), before);
    }),
  );
});

Deno.test("a pool carries a SharedLock nested in a task's argument and result", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const lock = new SharedLock();
  const result = await pool.run(
    (arg: { box: { lock: SharedLock }[] }) => {
      const guard = arg.box[0]!.lock.tryAcquire();
      return { held: guard !== undefined, back: [arg.box[0]!.lock] };
    },
    [{ box: [{ lock }] }],
  );
  assert.equal(result.held, true);
  assert.equal(lock.locked, true, "the worker holds the same memory");
  assert.ok(result.back[0] instanceof SharedLock);
  assert.equal(result.back[0].locked, true);
});
