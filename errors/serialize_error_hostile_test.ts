// Copyright the @seed/concurrency authors. MIT license.
// serializeError() against thrown values that fight back: revoked proxies,
// throwing getters and traps, cycles, endless chains. It must never throw,
// its output must be plain data, and deserializeError() must rebuild an Error
// (or, for a cloneable non-error value, the value).

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  deserializeError,
  isSerializedError,
  type SerializedError,
  serializeError,
} from "./serialize_error.ts";
import { assertInstanceOf, roundTrip } from "./_test_helpers.ts";

function revoked<T extends object>(target: T): T {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** An error whose `key` getter throws `thrown`. */
function throwingGetter(key: string, thrown: unknown): Error {
  return Object.defineProperty(new Error("hostile"), key, {
    enumerable: !["name", "message", "stack", "cause"].includes(key),
    get() {
      throw thrown;
    },
  });
}

Deno.test("serializeError() describes a revoked Proxy instead of throwing", async (t) => {
  await t.step("thrown as the value", () => {
    const copy = roundTrip(revoked(new Error("x")));
    assertInstanceOf(copy, TypeError);
    assert.equal(
      copy.message,
      "Cannot send the thrown value as it cannot be read: received a revoked Proxy",
    );
    assertInstanceOf(copy.cause, TypeError);
    assert.match(copy.cause.message, /revoked/);
  });

  await t.step("held in a field, a cause and errors", () => {
    const error = new AggregateError([revoked({})], "outer", {
      cause: revoked(() => {}),
    });
    const copy = roundTrip(Object.assign(error, { inner: revoked([]) }));
    assertInstanceOf(copy, AggregateError);
    assert.equal(copy.inner, "[not readable: a revoked Proxy]");
    assert.equal(copy.cause, "[not readable: a revoked Proxy]");
    assert.deepEqual(copy.errors, ["[not readable: a revoked Proxy]"]);
    assert.deepEqual(copy.uncloneableFields, ["inner"]);
  });

  await t.step("thrown by a getter", () => {
    const copy = roundTrip(throwingGetter("code", revoked({})));
    assert.equal(copy.code, "[not readable: reading it threw a revoked Proxy]");
  });
});

Deno.test("serializeError() keeps what it can read when a getter throws", async (t) => {
  await t.step("name: falls back to the class", () => {
    const error = Object.defineProperty(new RangeError("kept"), "name", {
      get() {
        throw new Error("no name");
      },
    });
    const copy = roundTrip(error);
    assertInstanceOf(copy, RangeError);
    assert.equal(copy.name, "RangeError");
    assert.equal(copy.message, "kept");
    assert.deepEqual(copy.uncloneableFields, ["name"]);
  });

  await t.step("message", () => {
    const copy = roundTrip(throwingGetter("message", new TypeError("boom")));
    assert.equal(
      copy.message,
      "[not readable: reading it threw TypeError: boom]",
    );
    assert.deepEqual(copy.uncloneableFields, ["message"]);
  });

  await t.step("stack", () => {
    const copy = roundTrip(throwingGetter("stack", 1));
    assert.equal(copy.stack, "Error: hostile");
    assert.deepEqual(copy.uncloneableFields, ["stack"]);
  });

  await t.step("cause", () => {
    const copy = roundTrip(throwingGetter("cause", "why not"));
    assert.equal(Object.hasOwn(copy, "cause"), true);
    assert.equal(copy.cause, '[not readable: reading it threw "why not"]');
    assert.deepEqual(copy.uncloneableFields, ["cause"]);
  });

  await t.step("errors", () => {
    const copy = roundTrip(throwingGetter("errors", null));
    assert.equal(copy.errors, "[not readable: reading it threw null]");
    assert.deepEqual(copy.uncloneableFields, ["errors"]);
  });

  await t.step("a name and message whose toString throws", () => {
    const unprintable = {
      toString() {
        throw new Error("no string");
      },
    };
    const error = Object.assign(new Error("x"), {
      name: unprintable,
      message: unprintable,
    });
    const copy = roundTrip(error);
    assert.equal(copy.name, "Error");
    assert.equal(copy.message, "[not readable: it is not a string]");
  });
});

Deno.test("serializeError() reads objects whose constructor or prototype throws", async (t) => {
  await t.step("a constructor getter that throws", () => {
    const value = Object.defineProperty({ f() {} }, "constructor", {
      get() {
        throw new Error("no constructor");
      },
    });
    assert.equal(
      roundTrip(value).message,
      "Cannot send the thrown value as it cannot be cloned: received an object",
    );
  });

  await t.step("an error whose prototype is a Proxy that throws", () => {
    const prototype = new Proxy(TypeError.prototype, {
      get() {
        throw new Error("trap");
      },
    });
    const error = Object.setPrototypeOf(
      new TypeError("own message"),
      prototype,
    );
    const copy = roundTrip(error);
    assertInstanceOf(copy, Error);
    assert.equal(copy.name, "Error");
    assert.equal(copy.message, "own message");
    // Reading `errors` (absent, so looked up on the prototype) threw too.
    assert.deepEqual(copy.uncloneableFields, ["name", "errors"]);
  });

  await t.step("an object whose prototype is a Proxy that throws", () => {
    const prototype = new Proxy({}, {
      get() {
        throw new Error("trap");
      },
    });
    const copy = roundTrip(Object.create(prototype));
    assertInstanceOf(copy, TypeError);
    assert.match(copy.message, /^Cannot send the thrown value as it cannot be/);
  });

  await t.step("a Proxy whose getPrototypeOf throws", () => {
    const value = new Proxy(new Error("x"), {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    const copy = roundTrip(value);
    assertInstanceOf(copy, TypeError);
    assert.equal(copy.cause.message, "trap");
  });

  await t.step("a Proxy of an error is read through its traps", () => {
    const copy = roundTrip(new Proxy(new SyntaxError("through"), {}));
    assertInstanceOf(copy, SyntaxError);
    assert.equal(copy.message, "through");
  });
});

Deno.test("serializeError() ends on endless chains and huge lists", async (t) => {
  await t.step("a cause made anew by a getter on every read", () => {
    const make = (): Error =>
      Object.defineProperty(new Error("again"), "cause", { get: make });
    let copy = roundTrip(make());
    let depth = 0;
    while (copy instanceof Error) {
      copy = copy.cause;
      depth++;
    }
    assert.equal(depth, 32);
    assert.equal(copy, "[not sent: nested more than 32 errors deep]");
  });

  await t.step("a chain of 20 000 causes", () => {
    let error = new Error("0");
    for (let i = 1; i < 20_000; i++) {
      error = new Error(`${i}`, { cause: error });
    }
    assert.equal(roundTrip(error).message, "19999");
  });

  await t.step("an errors Proxy claiming 2**32 - 1 items", () => {
    const errors = new Proxy([], {
      get: (target, key) =>
        key === "length" ? 2 ** 32 - 1 : Reflect.get(target, key),
    });
    const error = Object.assign(new Error("x"), { errors });
    const copy = roundTrip(error);
    assert.equal(copy.errors.length, 1001);
    assert.equal(copy.errors[1000], "[not sent: 4294966295 more errors]");
  });
});

Deno.test("serializeError() keeps cloneable odd values and frozen errors", () => {
  assert.equal(roundTrip(10n), 10n);
  assert.equal(roundTrip(null), null);
  assert.equal(roundTrip(undefined), undefined);
  const frozen = Object.freeze(Object.assign(new TypeError("ice"), { n: 1 }));
  const copy = roundTrip(frozen);
  assertInstanceOf(copy, TypeError);
  assert.equal(copy.n, 1);
});

// ---- property: arbitrary hostile values -------------------------------------

/** How to build one hostile value; plain data, so fast-check can print it. */
type Recipe =
  | { kind: "plain"; value: unknown }
  | { kind: "function"; name: string }
  | { kind: "symbol"; description: string }
  | { kind: "revoked"; of: Recipe }
  | { kind: "proxy"; of: Recipe; traps: readonly Trap[]; thrown: Recipe }
  | { kind: "unprintable"; thrown: Recipe }
  | { kind: "error"; spec: ErrorSpec };

type Trap = "get" | "getPrototypeOf" | "ownKeys" | "getOwnPropertyDescriptor";

interface ErrorSpec {
  builtIn: number;
  message: string;
  parts: readonly Part[];
  frozen: boolean;
  selfCause: boolean;
}

type Part =
  | { part: "throwing"; key: Key; thrown: Recipe }
  | { part: "value"; key: Key; value: Recipe }
  | { part: "errors"; items: readonly Recipe[] };

type Key = "name" | "message" | "stack" | "cause" | "errors" | "code";

const BUILT_INS: readonly ((message: string) => Error)[] = [
  (message) => new Error(message),
  (message) => new TypeError(message),
  (message) => new RangeError(message),
  (message) => new AggregateError([], message),
  (message) => new DOMException(message, "AbortError"),
];
const KEYS: readonly Key[] = [
  "name",
  "message",
  "stack",
  "cause",
  "errors",
  "code",
];
const TRAPS: readonly Trap[] = [
  "get",
  "getPrototypeOf",
  "ownKeys",
  "getOwnPropertyDescriptor",
];

const { recipe } = fc.letrec<{ recipe: Recipe; spec: ErrorSpec; part: Part }>(
  (tie) => ({
    recipe: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.record({ kind: fc.constant("plain" as const), value: fc.anything() }),
      fc.record({ kind: fc.constant("function" as const), name: fc.string() }),
      fc.record({
        kind: fc.constant("symbol" as const),
        description: fc.string(),
      }),
      fc.record({ kind: fc.constant("revoked" as const), of: tie("recipe") }),
      fc.record({
        kind: fc.constant("proxy" as const),
        of: tie("recipe"),
        traps: fc.subarray([...TRAPS]),
        thrown: tie("recipe"),
      }),
      fc.record({
        kind: fc.constant("unprintable" as const),
        thrown: tie("recipe"),
      }),
      fc.record({ kind: fc.constant("error" as const), spec: tie("spec") }),
    ),
    spec: fc.record({
      builtIn: fc.nat(BUILT_INS.length - 1),
      message: fc.string(),
      parts: fc.array(tie("part"), { maxLength: 4 }),
      frozen: fc.boolean(),
      selfCause: fc.boolean(),
    }),
    part: fc.oneof(
      fc.record({
        part: fc.constant("throwing" as const),
        key: fc.constantFrom(...KEYS),
        thrown: tie("recipe"),
      }),
      fc.record({
        part: fc.constant("value" as const),
        key: fc.constantFrom(...KEYS),
        value: tie("recipe"),
      }),
      fc.record({
        part: fc.constant("errors" as const),
        items: fc.array(tie("recipe"), { maxLength: 3 }),
      }),
    ),
  }),
);

/** Counts every getter and trap call made by built values. */
let reads = 0;

function build(recipe: Recipe): unknown {
  switch (recipe.kind) {
    case "plain":
      return recipe.value;
    case "function":
      return Object.defineProperty(() => {}, "name", { value: recipe.name });
    case "symbol":
      return Symbol(recipe.description);
    case "revoked": {
      const inner = build(recipe.of);
      return revoked(
        typeof inner === "object" && inner !== null ? inner : {},
      );
    }
    case "proxy": {
      const inner = build(recipe.of);
      const handler: ProxyHandler<object> = {};
      for (const trap of recipe.traps) {
        handler[trap] = () => {
          reads++;
          throw build(recipe.thrown);
        };
      }
      return new Proxy(
        typeof inner === "object" && inner !== null ? inner : {},
        handler,
      );
    }
    case "unprintable": {
      const fail = () => {
        reads++;
        throw build(recipe.thrown);
      };
      return { toString: fail, valueOf: fail, [Symbol.toPrimitive]: fail };
    }
    case "error":
      return buildError(recipe.spec);
  }
}

function buildError(spec: ErrorSpec): Error {
  const error = BUILT_INS[spec.builtIn]!(spec.message);
  for (const part of spec.parts) {
    const key = part.part === "errors" ? "errors" : part.key;
    const descriptor: PropertyDescriptor = { enumerable: true };
    if (part.part === "throwing") {
      descriptor.get = () => {
        reads++;
        throw build(part.thrown);
      };
    } else {
      descriptor.value = part.part === "errors"
        ? part.items.map(build)
        : build(part.value);
    }
    // A built-in's own property may be non-configurable; skip it then.
    try {
      Object.defineProperty(error, key, descriptor);
    } catch {
      continue;
    }
  }
  if (spec.selfCause) {
    try {
      Object.defineProperty(error, "cause", { value: error });
    } catch {
      // kept as it was
    }
  }
  return spec.frozen ? Object.freeze(error) : error;
}

function assertWellFormed(data: SerializedError): void {
  assert.ok(isSerializedError(data));
  assert.equal(typeof data.name, "string");
  assert.equal(typeof data.message, "string");
  assert.ok(data.kind === "error" || data.kind === "value");
}

Deno.test("serializeError() never throws on hostile values, and its output rebuilds as an Error", () => {
  fc.assert(
    fc.property(recipe, (recipe) => {
      const value = build(recipe);
      const serialized = serializeError(value);
      assertWellFormed(serialized);
      const readsAfterSerializing = reads;
      const copy = structuredClone(serialized);
      const rebuilt = deserializeError(copy);
      assert.equal(
        reads,
        readsAfterSerializing,
        "the serialized form holds none of the thrown value's objects",
      );
      if (serialized.kind === "value") {
        assert.equal(recipe.kind, "plain");
        assert.deepEqual(rebuilt, structuredClone(value));
      } else {
        assertInstanceOf(rebuilt, Error);
        assert.equal(typeof rebuilt.message, "string");
        assert.equal(typeof rebuilt.stack, "string");
      }
    }),
    { numRuns: 300 },
  );
});
