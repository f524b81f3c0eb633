// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  deserializeError,
  isSerializedError,
  registerErrorClass,
  type SerializedError,
  serializeError,
} from "./serialize_error.ts";
import { assertInstanceOf, roundTrip } from "./_test_helpers.ts";
import { PoolClosedError } from "./pool_closed_error.ts";
import { WorkerCrashedError } from "./worker_crashed_error.ts";

Deno.test("serializeError() keeps a built-in error's class, message and stack", async (t) => {
  const classes = [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  ];
  for (const ErrorClass of classes) {
    await t.step(ErrorClass.name, () => {
      const error = new ErrorClass(`A ${ErrorClass.name} happened`);
      const copy = roundTrip(error);
      assertInstanceOf(copy, ErrorClass);
      assert.equal(Object.getPrototypeOf(copy), ErrorClass.prototype);
      assert.equal(copy.name, ErrorClass.name);
      assert.equal(copy.message, error.message);
      assert.equal(copy.stack, error.stack);
      assert.equal("cause" in copy, false);
    });
  }
});

Deno.test("serializeError() keeps a custom error's name and own fields", async (t) => {
  class HttpError extends Error {
    override name = "HttpError";
    code = "E_HTTP";
    status: number;
    details = { url: "/a", tries: [1, 2], headers: { accept: "json" } };
    constructor(message: string, status: number) {
      super(message);
      this.status = status;
    }
  }

  await t.step(
    "an unregistered class comes back as an Error with its name and fields",
    () => {
      const error = new HttpError("Not found", 404);
      const copy = roundTrip(error);
      assertInstanceOf(copy, Error);
      assert.equal(copy.name, "HttpError");
      assert.equal(copy.message, "Not found");
      assert.equal(copy.stack, error.stack);
      assert.equal(copy.code, "E_HTTP");
      assert.equal(copy.status, 404);
      assert.deepEqual(copy.details, error.details);
    },
  );

  await t.step("fields added to a built-in error are kept", () => {
    const error = Object.assign(new RangeError("Too big"), {
      code: "E_BIG",
      limit: 10,
      nothing: null,
      missing: undefined,
    });
    const copy = roundTrip(error);
    assertInstanceOf(copy, RangeError);
    assert.equal(copy.code, "E_BIG");
    assert.equal(copy.limit, 10);
    assert.equal(copy.nothing, null);
    assert.equal(Object.hasOwn(copy, "missing"), true);
    assert.equal(copy.missing, undefined);
  });

  await t.step("any JSON-like fields come back deep-equal", () => {
    const reserved = new Set(["name", "message", "stack", "cause", "errors"]);
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((key) =>
            !reserved.has(key) && key !== "__proto__"
          ),
          fc.jsonValue(),
        ),
        (fields) => {
          const error = Object.assign(new Error("with fields"), fields);
          const copy = roundTrip(error);
          for (const [key, value] of Object.entries(fields)) {
            assert.deepEqual(copy[key], value);
          }
        },
      ),
    );
  });
});

Deno.test("serializeError() keeps the cause chain", async (t) => {
  await t.step("a chain of depth 3 ending in a string keeps each class", () => {
    const root = new RangeError("root", { cause: "a string cause" });
    const middle = new TypeError("middle", { cause: root });
    const top = new Error("top", { cause: middle });
    const copy = roundTrip(top);
    assert.equal(copy.message, "top");
    assertInstanceOf(copy.cause, TypeError);
    assert.equal(copy.cause.message, "middle");
    assert.equal(copy.cause.stack, middle.stack);
    assertInstanceOf(copy.cause.cause, RangeError);
    assert.equal(copy.cause.cause.message, "root");
    assert.equal(copy.cause.cause.cause, "a string cause");
  });

  await t.step("a plain-object cause comes back deep-equal", () => {
    const cause = { code: 7, where: { file: "a.ts", line: 3 } };
    const copy = roundTrip(
      new Error("top", { cause: new Error("mid", { cause }) }),
    );
    assert.deepEqual(copy.cause.cause, cause);
  });

  await t.step("a cause present as undefined stays present", () => {
    const error = new Error("top", { cause: undefined });
    const serialized = serializeError(error);
    assert.equal(serialized.hasCause, true);
    const copy = roundTrip(error);
    assert.equal(Object.hasOwn(copy, "cause"), true);
    assert.equal(copy.cause, undefined);
  });

  await t.step("no cause stays absent", () => {
    assert.equal(serializeError(new Error("x")).hasCause, false);
    assert.equal(Object.hasOwn(roundTrip(new Error("x")), "cause"), false);
  });

  await t.step("the cause is not enumerable, as on a fresh error", () => {
    const copy = roundTrip(new Error("top", { cause: new Error("c") }));
    assert.equal(
      Object.getOwnPropertyDescriptor(copy, "cause")?.enumerable,
      false,
    );
  });
});

Deno.test("serializeError() rebuilds AggregateError.errors with their classes", async (t) => {
  await t.step("errors of several classes and a non-error value", () => {
    const error = new AggregateError(
      [new TypeError("a"), new RangeError("b"), "c"],
      "Several failed",
    );
    const copy = roundTrip(error);
    assertInstanceOf(copy, AggregateError);
    assert.equal(copy.message, "Several failed");
    assert.equal(copy.stack, error.stack);
    assert.equal(copy.errors.length, 3);
    assertInstanceOf(copy.errors[0], TypeError);
    assert.equal(copy.errors[0].message, "a");
    assertInstanceOf(copy.errors[1], RangeError);
    assert.equal(copy.errors[2], "c");
  });

  await t.step("an AggregateError inside an AggregateError", () => {
    const copy = roundTrip(
      new AggregateError([new AggregateError([new URIError("deep")])]),
    );
    assertInstanceOf(copy.errors[0], AggregateError);
    assertInstanceOf(copy.errors[0].errors[0], URIError);
  });

  await t.step(
    "the same error listed twice keeps its class and fields both times",
    () => {
      class CodedError extends Error {
        override name = "CodedError";
        code = 42;
      }
      const inner = new CodedError("shared");
      const copy = roundTrip(new AggregateError([inner, inner]));
      for (const rebuilt of copy.errors) {
        assert.equal(rebuilt.name, "CodedError");
        assert.equal(rebuilt.code, 42);
      }
      assert.equal(copy.errors[0], copy.errors[1], "shared once rebuilt");
    },
  );
});

Deno.test("serializeError() rebuilds AbortError and TimeoutError as DOMException", async (t) => {
  for (const name of ["AbortError", "TimeoutError"]) {
    await t.step(name, () => {
      const error = new DOMException(`A ${name}`, name);
      const copy = roundTrip(error);
      assertInstanceOf(copy, DOMException);
      assert.equal(copy.name, name);
      assert.equal(copy.message, `A ${name}`);
      assert.equal(copy.code, error.code);
    });
  }

  await t.step("the reason of AbortSignal.timeout() style aborts", () => {
    const reason = AbortSignal.abort().reason;
    const copy = roundTrip(reason);
    assertInstanceOf(copy, DOMException);
    assert.equal(copy.name, "AbortError");
  });
});

Deno.test("serializeError() handles fields that hold errors or functions", async (t) => {
  await t.step(
    "a field holding an error is rebuilt as an error of its class",
    () => {
      const original = new TypeError("original");
      const error = Object.assign(new Error("wrapper"), { original });
      const copy = roundTrip(error);
      assertInstanceOf(copy.original, TypeError);
      assert.equal(copy.original.message, "original");
      assert.equal(copy.original.stack, original.stack);
    },
  );

  await t.step(
    "a field and the cause holding the same error both keep its class",
    () => {
      class CodedError extends Error {
        override name = "CodedError";
        code = 1;
      }
      const inner = new CodedError("inner");
      const error = Object.assign(new Error("outer", { cause: inner }), {
        inner,
      });
      const copy = roundTrip(error);
      assert.equal(copy.inner.name, "CodedError");
      assert.equal(copy.inner.code, 1);
      assert.equal(copy.cause, copy.inner);
    },
  );

  await t.step(
    "a field that cannot be cloned becomes a description, and the others stay as they were",
    () => {
      function retry() {}
      class Handle {
        #fd = 3;
        get fd(): number {
          return this.#fd;
        }
      }
      const error = Object.assign(new Error("x"), {
        code: "E_RETRY",
        retry,
        anonymous: (() => () => {})(),
        symbol: Symbol("tag"),
        withFunction: { callback: retry },
        handle: new Handle(),
        url: new URL("https://example.com/"),
        tries: [1, 2],
      });
      const serialized = serializeError(error);
      assert.doesNotThrow(() => structuredClone(serialized));
      const copy = roundTrip(error);
      assert.equal(copy.code, "E_RETRY");
      assert.deepEqual(copy.tries, [1, 2]);
      assert.equal(copy.retry, '[not cloneable: a function named "retry"]');
      assert.equal(copy.anonymous, "[not cloneable: a function]");
      assert.equal(copy.symbol, "[not cloneable: a symbol (tag)]");
      assert.equal(copy.withFunction, "[not cloneable: an object]");
      assert.equal(copy.handle, "[not cloneable: an instance of Handle]");
      assert.equal(copy.url, "[not cloneable: an instance of URL]");
      assert.deepEqual(copy.uncloneableFields, [
        "retry",
        "anonymous",
        "symbol",
        "withFunction",
        "handle",
        "url",
      ]);
      assert.equal(
        Object.getOwnPropertyDescriptor(copy, "uncloneableFields")?.enumerable,
        false,
      );
    },
  );

  await t.step(
    "an error whose fields all clone has no uncloneableFields",
    () => {
      const copy = roundTrip(Object.assign(new Error("x"), { code: 1 }));
      assert.equal("uncloneableFields" in copy, false);
    },
  );

  await t.step("a field whose getter throws becomes a description", () => {
    const error = Object.defineProperty(new Error("x"), "port", {
      enumerable: true,
      get() {
        throw new RangeError("closed");
      },
    });
    const copy = roundTrip(error);
    assert.equal(
      copy.port,
      "[not readable: reading it threw RangeError: closed]",
    );
    assert.deepEqual(copy.uncloneableFields, ["port"]);
  });

  await t.step("a non-array errors field is kept as a field", () => {
    class ValidationError extends Error {
      override name = "ValidationError";
      errors = { email: "is missing" };
    }
    const copy = roundTrip(new ValidationError("Invalid"));
    assert.deepEqual(copy.errors, { email: "is missing" });
    assert.equal(copy instanceof AggregateError, false);
  });
});

Deno.test("serializeError() keeps a thrown non-error value as it is", async (t) => {
  const values: [string, unknown][] = [
    ["a string", "just a string"],
    ["a number", 42],
    ["a bigint", 10n],
    ["a boolean", false],
    ["a plain object", { code: 1, nested: { list: [1, "two"] } }],
    ["an array", [1, { a: 2 }]],
    ["undefined", undefined],
    ["null", null],
  ];
  for (const [label, value] of values) {
    await t.step(label, () => {
      const serialized = serializeError(value);
      assert.equal(serialized.kind, "value");
      assert.deepEqual(roundTrip(value), value);
    });
  }

  const uncloneable: [string, unknown, string][] = [
    ["a function", function thrower() {}, 'a function named "thrower"'],
    ["a symbol", Symbol("s"), "a symbol (s)"],
    ["an object holding a function", {
      callback: () => {},
    }, "an object"],
    [
      "a class instance with private state",
      new (class Handle {
        #fd = 3;
        get fd() {
          return this.#fd;
        }
      })(),
      "an instance of Handle",
    ],
  ];
  for (const [label, value, description] of uncloneable) {
    await t.step(`${label} comes back as a TypeError describing it`, () => {
      const copy = roundTrip(value);
      assertInstanceOf(copy, TypeError);
      assert.equal(
        copy.message,
        `Cannot send the thrown value as it cannot be cloned: received ${description}`,
      );
    });
  }
});

Deno.test("serializeError() ends on a cyclic cause", async (t) => {
  await t.step("an error that is its own cause", () => {
    const error = new TypeError("loop");
    error.cause = error;
    const serialized = serializeError(error);
    assert.doesNotThrow(() => structuredClone(serialized));
    const copy = deserializeError(structuredClone(serialized));
    assertInstanceOf(copy, TypeError);
    assert.equal(copy.message, "loop");
    assert.equal(copy.cause, copy, "the cycle is kept");
  });

  await t.step("two errors that are each other's cause", () => {
    const a = new Error("a");
    const b = new RangeError("b", { cause: a });
    a.cause = b;
    const copy = roundTrip(a);
    assert.equal(copy.message, "a");
    assertInstanceOf(copy.cause, RangeError);
    assert.equal(copy.cause.cause, copy);
  });

  await t.step("an error whose field holds itself", () => {
    const error = new Error("self");
    Object.assign(error, { self: error });
    const copy = roundTrip(error);
    assert.equal(copy.message, "self");
    assert.equal(copy.self.message, "self");
  });

  await t.step("a very long chain ends and keeps its top", () => {
    let error = new Error("0");
    for (let i = 1; i <= 200; i++) error = new Error(`${i}`, { cause: error });
    let copy = roundTrip(error);
    const messages: string[] = [];
    while (copy instanceof Error && messages.length <= 201) {
      messages.push(copy.message);
      copy = copy.cause;
    }
    assert.deepEqual(
      messages,
      Array.from({ length: 32 }, (_, i) => `${200 - i}`),
    );
    assert.equal(copy, "[not sent: nested more than 32 errors deep]");
  });
});

Deno.test("registerErrorClass() makes rebuilt errors instances of the class", async (t) => {
  await t.step("instanceof holds and fields are copied", () => {
    class QuotaError extends Error {
      override name = "RegisteredQuotaError";
      constructor(public limit: number, options?: ErrorOptions) {
        super(`Over the quota of ${limit}`, options);
      }
    }
    registerErrorClass(QuotaError, "RegisteredQuotaError");
    const error = new QuotaError(5, { cause: new TypeError("why") });
    const copy = roundTrip(error);
    assertInstanceOf(copy, QuotaError);
    assertInstanceOf(copy, Error);
    assert.equal(copy.name, "RegisteredQuotaError");
    assert.equal(copy.limit, 5);
    assert.equal(copy.message, "Over the quota of 5");
    assert.equal(copy.stack, error.stack);
    assertInstanceOf(copy.cause, TypeError);
  });

  await t.step("the name defaults to the class name", () => {
    class DefaultNamedTestError extends Error {
      override name = "DefaultNamedTestError";
    }
    registerErrorClass(DefaultNamedTestError);
    assert.ok(
      roundTrip(new DefaultNamedTestError()) instanceof
        DefaultNamedTestError,
    );
  });

  await t.step(
    "a subclass of a built-in stays an instance of the built-in",
    () => {
      class StrictTypeError extends TypeError {
        override name = "RegisteredStrictTypeError";
      }
      registerErrorClass(StrictTypeError, "RegisteredStrictTypeError");
      const copy = roundTrip(new StrictTypeError("strict"));
      assertInstanceOf(copy, StrictTypeError);
      assertInstanceOf(copy, TypeError);
    },
  );

  await t.step(
    "a registered class with an errors array keeps its class",
    () => {
      class BatchError extends Error {
        override name = "RegisteredBatchError";
        errors: unknown[];
        constructor(errors: unknown[]) {
          super("Batch failed");
          this.errors = errors;
        }
      }
      registerErrorClass(BatchError, "RegisteredBatchError");
      const copy = roundTrip(new BatchError([new RangeError("one"), "two"]));
      assertInstanceOf(copy, BatchError);
      assertInstanceOf(copy.errors[0], RangeError);
      assert.equal(copy.errors[1], "two");
    },
  );

  await t.step(
    "a class whose instances are named Error comes back as the class, named Error",
    () => {
      class ForgotNameTestError extends Error {
        code = "E_FORGOT";
      }
      registerErrorClass(ForgotNameTestError);
      const error = new ForgotNameTestError("no name set");
      assert.equal(error.name, "Error");
      const copy = roundTrip(error);
      assertInstanceOf(copy, ForgotNameTestError);
      assert.equal(copy.name, "Error");
      assert.equal(Object.hasOwn(copy, "name"), false);
      assert.equal(copy.message, "no name set");
      assert.equal(copy.code, "E_FORGOT");
    },
  );

  await t.step(
    "a subclass of a built-in named after the built-in comes back as the class",
    () => {
      class ForgotNameTypeError extends TypeError {}
      registerErrorClass(ForgotNameTypeError);
      const copy = roundTrip(new ForgotNameTypeError("x"));
      assertInstanceOf(copy, ForgotNameTypeError);
      assert.equal(copy.name, "TypeError");
    },
  );

  await t.step(
    "an unregistered subclass of a registered class comes back as the registered class",
    () => {
      class BaseTestError extends Error {
        override name = "BaseTestError";
      }
      class ChildTestError extends BaseTestError {
        override name = "ChildTestError";
      }
      registerErrorClass(BaseTestError);
      const copy = roundTrip(new ChildTestError("x"));
      assertInstanceOf(copy, BaseTestError);
      assert.equal(copy.name, "ChildTestError");
    },
  );

  await t.step("an unregistered name comes back as a plain Error", () => {
    class UnregisteredTestError extends Error {
      override name = "UnregisteredTestError";
    }
    const copy = roundTrip(new UnregisteredTestError("x"));
    assert.equal(Object.getPrototypeOf(copy), Error.prototype);
    assert.equal(copy.name, "UnregisteredTestError");
  });
});

Deno.test("registerErrorClass() throws TypeError for a class that does not extend Error", () => {
  class NotAnError {}
  assert.throws(
    () => registerErrorClass(NotAnError as never),
    {
      name: "TypeError",
      message:
        'Cannot register error class as it does not extend Error: received a function named "NotAnError"',
    },
  );
  for (const value of [null, undefined, {}, "Error", () => {}]) {
    assert.throws(
      () => registerErrorClass(value as never, "BadRegistration"),
      TypeError,
    );
  }
  // Nothing was registered under the name.
  const copy = roundTrip(
    Object.assign(new Error("x"), { name: "BadRegistration" }),
  );
  assert.equal(Object.getPrototypeOf(copy), Error.prototype);
});

Deno.test("PoolClosedError and WorkerCrashedError round-trip as their own classes", async (t) => {
  await t.step("PoolClosedError", () => {
    const error = new PoolClosedError("Cannot run task as the pool is closed");
    const copy = roundTrip(error);
    assertInstanceOf(copy, PoolClosedError);
    assert.equal(copy.name, "PoolClosedError");
    assert.equal(copy.message, error.message);
    assert.equal(copy.stack, error.stack);
  });

  await t.step("WorkerCrashedError with workerId and cause", () => {
    const cause = new RangeError("out of memory");
    const error = new WorkerCrashedError("Worker 3 died", {
      workerId: 3,
      cause,
    });
    const copy = roundTrip(error);
    assertInstanceOf(copy, WorkerCrashedError);
    assert.equal(copy.name, "WorkerCrashedError");
    assert.equal(copy.message, "Worker 3 died");
    assert.equal(copy.workerId, 3);
    assertInstanceOf(copy.cause, RangeError);
    assert.equal(copy.cause.message, "out of memory");
    assert.equal(copy.cause.stack, cause.stack);
  });
});

Deno.test("isSerializedError() is true only for serializeError() output", () => {
  const samples: unknown[] = [
    new Error("x"),
    "text",
    undefined,
    null,
    () => {},
  ];
  for (const sample of samples) {
    assert.equal(isSerializedError(serializeError(sample)), true);
  }
  const others: unknown[] = [
    null,
    undefined,
    "x",
    1,
    new Error("x"),
    { message: "x", name: "Error" },
    { $seedError: 2 },
    { $seedError: "1" },
  ];
  for (const other of others) assert.equal(isSerializedError(other), false);
});

Deno.test("serializeError() output is plain data that JSON and structuredClone copy", () => {
  const error = Object.assign(
    new AggregateError([new TypeError("a")], "agg", {
      cause: new Error("c"),
    }),
    { code: "E" },
  );
  const serialized: SerializedError = serializeError(error);
  const viaJson = JSON.parse(JSON.stringify(serialized));
  const copy = deserializeError(viaJson);
  assertInstanceOf(copy, AggregateError);
  assertInstanceOf(copy.errors[0], TypeError);
  assert.equal(copy.cause.message, "c");
  assert.equal(copy.code, "E");
});
