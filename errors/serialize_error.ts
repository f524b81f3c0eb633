// Copyright the @seed/concurrency authors. MIT license.

/**
 * The explicit wire format for errors that cross a worker boundary.
 *
 * Structured clone alone keeps only built-in error classes, `message`, `stack`
 * and `cause`: it turns a custom error into a plain `Error` named `"Error"`,
 * and drops own fields such as `error.code` and an `AggregateError`'s
 * `errors`. This format keeps all of them.
 *
 * {@linkcode serializeError} never throws, whatever it is given: what it
 * cannot clone or cannot read (a field holding a function, a getter that
 * throws, a revoked Proxy) is replaced by a description, and the rebuilt
 * error lists the names of those fields in `uncloneableFields`.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import {
  attempt,
  cloned,
  describeSafely,
  isErrorLike,
  isObject,
  type Read,
  read,
  summarize,
  text,
} from "./_safe_read.ts";
import { PoolClosedError } from "./pool_closed_error.ts";
import { WorkerCrashedError } from "./worker_crashed_error.ts";

/**
 * A thrown value in a form that `postMessage` and `structuredClone` copy
 * without loss. Make it with {@linkcode serializeError}, turn it back with
 * {@linkcode deserializeError}.
 */
export interface SerializedError {
  /**
   * Always `1`: the tag of the format, which {@linkcode isSerializedError}
   * checks to tell a serialized error from other data in a message.
   */
  readonly $seedError: 1;
  /**
   * `"error"` for an `Error` (or `DOMException`) and `"value"` for any other
   * thrown value, which is carried in `value`.
   */
  readonly kind: "error" | "value";
  /** The error's `name`, such as `"TypeError"` or `"ValidationError"`. */
  readonly name: string;
  /** The error's `message`. */
  readonly message: string;
  /** The error's stack as it was where the error was thrown. */
  readonly stack?: string;
  /** Whether the error had a `cause` (a cause may be `undefined`). */
  readonly hasCause: boolean;
  /** The serialized `cause`. */
  readonly cause?: SerializedError;
  /** The serialized `errors` of an `AggregateError`. */
  readonly errors?: readonly SerializedError[];
  /** The error's own enumerable fields, such as `code`, serialized. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /**
   * The name its {@linkcode registerErrorClass registered} class was
   * registered under, when that is not `name` (a class that does not set its
   * own `name`).
   */
  readonly className?: string;
  /**
   * The properties (own fields, or `name`, `message`, `stack`, `cause`,
   * `errors`) whose value could not be cloned or read, and was replaced by a
   * description or left out.
   */
  readonly uncloneable?: readonly string[];
  /** The thrown value when `kind` is `"value"`. */
  readonly value?: unknown;
}

/** A class of errors, as {@linkcode registerErrorClass} takes it. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const BUILT_IN: ReadonlyMap<string, ErrorConstructor> = new Map<
  string,
  ErrorConstructor
>([
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
]);

const registry = new Map<string, ErrorClass>();
/**
 * The wire name of each class by its prototype: the built-in classes and the
 * registered ones. An error's class is found by walking its prototype chain,
 * which runs no getter.
 */
const classNames = new Map<unknown, string>([
  ...[...BUILT_IN].map(([name, builtIn]) => [builtIn.prototype, name] as const),
  [AggregateError.prototype, "AggregateError"],
]);
const RESERVED = new Set(["name", "message", "stack", "cause"]);
/** How deep errors nest (through causes, errors and fields) on the wire. */
const MAX_DEPTH = 32;
/** How many of an `errors` array are sent. */
const MAX_ERRORS = 1000;
/** How far up the prototype chain an error's class is looked for. */
const MAX_PROTOTYPES = 64;

/**
 * Registers an error class so that errors of that name are rebuilt as
 * instances of it in this thread (`instanceof` holds here), under
 * `name` (by default the class's name). Registering another class under the
 * same name replaces the first. The library's own error classes are
 * registered already. The class's constructor is not run when an error is
 * rebuilt: its fields are copied over instead.
 *
 * **Which thread registers.** Errors are matched by name. The sending thread
 * writes each error's name: the name its class is registered under there,
 * found on the error's prototype chain (so an instance of a registered class,
 * or of an unregistered subclass of it, goes as that class), or else the
 * error's `name`. The receiving thread rebuilds the error as the class
 * registered under that name there, if any, else as a built-in class or a
 * plain `Error`. So:
 *
 * - For the errors tasks throw (worker to main thread), registering in the
 *   thread that created the pool suffices when the instances' `name` is the
 *   name the class is registered under, as with `override name = "QuotaError"`
 *   on a class `QuotaError` registered by default name. The worker needs no
 *   registration, and even a class of the same name that the task defines
 *   itself comes back as the registered one.
 * - A class that does not set its own `name` (its instances are named
 *   `"Error"`), or one registered under a name its instances do not carry,
 *   must be registered in the worker too, by the task module: otherwise it
 *   arrives as a plain `Error`. Registered on both sides, it comes back as
 *   itself, its `name` still `"Error"` as it was.
 * - An error sent to a worker (the close reason of a `WorkerChannel` closed
 *   in the main thread, say) is rebuilt in the worker, so the worker must
 *   register its class: import the registering module from the task module.
 *
 * @param errorClass The class to rebuild errors as.
 * @param name The error name to match.
 * @default {name} `errorClass.name`
 * @throws {TypeError} If `errorClass` is not a subclass of `Error`.
 *
 * @example Keeping a custom class across the boundary
 * ```ts
 * import {
 *   deserializeError,
 *   registerErrorClass,
 *   serializeError,
 * } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * class QuotaError extends Error {
 *   override name = "QuotaError";
 *   constructor(public limit: number) {
 *     super(`Over the quota of ${limit}`);
 *   }
 * }
 * registerErrorClass(QuotaError);
 *
 * const copy = deserializeError(structuredClone(serializeError(new QuotaError(5))));
 * assert.ok(copy instanceof QuotaError);
 * assert.equal(copy.limit, 5);
 * ```
 *
 * @example Registering in the main thread is enough for a task's error
 * ```ts
 * import { registerErrorClass } from "@seed/concurrency/errors";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * class QuotaError extends Error {
 *   override name = "QuotaError";
 *   limit = 0;
 * }
 * registerErrorClass(QuotaError); // here only, not in the workers
 *
 * await using pool = new WorkerPool({ size: 1 });
 * const error = await pool.run(() => {
 *   // The worker's own class, unregistered there: it crosses by its name.
 *   class QuotaError extends Error {
 *     override name = "QuotaError";
 *     limit = 5;
 *   }
 *   throw new QuotaError("Over the quota of 5");
 * }).catch((error: unknown) => error);
 * assert.ok(error instanceof QuotaError);
 * assert.equal(error.limit, 5);
 * ```
 *
 * @example A class that does not set its name
 * ```ts
 * import {
 *   deserializeError,
 *   registerErrorClass,
 *   serializeError,
 * } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * class RetryError extends Error {} // no `override name`
 * // Across threads: in the thread that throws it (the task module) too.
 * registerErrorClass(RetryError);
 *
 * const copy = deserializeError(structuredClone(serializeError(new RetryError("Try later"))));
 * assert.ok(copy instanceof RetryError);
 * assert.equal(copy.name, "Error"); // as the original's
 * ```
 */
export function registerErrorClass(
  errorClass: ErrorClass,
  name: string = errorClass.name,
): void {
  if (
    typeof errorClass !== "function" ||
    !(errorClass.prototype instanceof Error)
  ) {
    throw new TypeError(
      `Cannot register error class as it does not extend Error: received ${
        describe(errorClass)
      }`,
    );
  }
  const previous = registry.get(name);
  if (previous !== undefined) classNames.delete(previous.prototype);
  registry.set(name, errorClass);
  classNames.set(errorClass.prototype, name);
}

registerErrorClass(PoolClosedError, "PoolClosedError");
registerErrorClass(WorkerCrashedError, "WorkerCrashedError");

/**
 * Turns any thrown value into a {@linkcode SerializedError} that survives
 * `postMessage`: the class name, message, stack, `cause` chain (cycles
 * included), an `AggregateError`'s `errors` and the error's own fields.
 *
 * It never throws. An own field whose value cannot be cloned (a function, a
 * symbol, an object holding one) is kept as a description such as
 * `[not cloneable: a function named "onClose"]`, and one whose getter throws
 * as `[not readable: reading it threw TypeError: ...]`; the rebuilt error
 * lists the names of such fields in its non-enumerable `uncloneableFields`.
 * A thrown value that is not an error is kept as it is when it can be cloned;
 * one that cannot be cloned or read (a function, a symbol, a revoked Proxy)
 * comes back as a `TypeError` that describes it. Causes and `errors` nested
 * more than 32 deep, and `errors` past the first 1000, are replaced by a
 * description.
 *
 * @param error The thrown value.
 * @returns Its serialized form: plain data that structured clone copies.
 *
 * @example Sending an error with its code through structured clone
 * ```ts
 * import { deserializeError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * const error = Object.assign(new RangeError("Too big"), { code: "E_BIG" });
 * const copy = deserializeError(structuredClone(serializeError(error)));
 * assert.equal(copy.code, "E_BIG");
 * assert.equal(copy.stack, error.stack);
 * assert.ok(copy instanceof RangeError);
 * ```
 *
 * @example A field that cannot be cloned
 * ```ts
 * import { deserializeError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * const error = Object.assign(new Error("Closed"), {
 *   code: "E_CLOSED",
 *   handler: function onClose() {},
 * });
 * const copy = deserializeError(structuredClone(serializeError(error)));
 * assert.equal(copy.code, "E_CLOSED");
 * assert.equal(copy.handler, '[not cloneable: a function named "onClose"]');
 * assert.deepEqual(copy.uncloneableFields, ["handler"]);
 * ```
 *
 * @example A value that cannot be read
 * ```ts
 * import { deserializeError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * const { proxy, revoke } = Proxy.revocable(new Error("x"), {});
 * revoke();
 * const copy = deserializeError(structuredClone(serializeError(proxy)));
 * assert.ok(copy instanceof TypeError);
 * assert.equal(
 *   copy.message,
 *   "Cannot send the thrown value as it cannot be read: received a revoked Proxy",
 * );
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  const done = new Map<unknown, SerializedError>();
  const errorLike = isErrorLike(error);
  if (!errorLike.ok) {
    return failure("read", error, serialize(errorLike.error, 1, done));
  }
  if (errorLike.value === true) {
    return serializeObject(error as object, 0, done);
  }
  const copy = cloned(error);
  return copy.ok ? valueOf(copy.value) : failure("clone", error, undefined);
}

/** The TypeError that stands for a thrown value that cannot be sent. */
function failure(
  what: "read" | "clone",
  value: unknown,
  cause: SerializedError | undefined,
): SerializedError {
  const result: Mutable<SerializedError> = {
    $seedError: 1,
    kind: "error",
    name: "TypeError",
    message: `Cannot send the thrown value as it cannot be ${
      what === "read" ? "read" : "cloned"
    }: received ${describeSafely(value)}`,
    hasCause: cause !== undefined,
  };
  if (cause !== undefined) result.cause = cause;
  return result;
}

/** A thrown value carried as it is (a clone of it, or a description). */
function valueOf(value: unknown): SerializedError {
  return {
    $seedError: 1,
    kind: "value",
    name: "",
    message: "",
    hasCause: false,
    value,
  };
}

/**
 * Serializes any value met inside an error (or at the top): an error as an
 * error, anything else as a clone or a description. `done` maps each error
 * already met in this call to its result, entered before its parts are
 * serialized: an error reached twice (`new AggregateError([e, e])`, or a
 * cycle of causes) is serialized once and shared, which structured clone
 * keeps.
 */
function serialize(
  value: unknown,
  depth: number,
  done: Map<unknown, SerializedError>,
): SerializedError {
  const known = done.get(value);
  if (known !== undefined) return known;
  const errorLike = isErrorLike(value);
  if (!errorLike.ok) {
    return valueOf(`[not readable: ${describeSafely(value)}]`);
  }
  if (errorLike.value === false) {
    const copy = cloned(value);
    return valueOf(
      copy.ok ? copy.value : `[not cloneable: ${describeSafely(value)}]`,
    );
  }
  if (depth >= MAX_DEPTH) {
    return valueOf(`[not sent: nested more than ${MAX_DEPTH} errors deep]`);
  }
  return serializeObject(value as object, depth, done);
}

/** Serializes an error, reading each part of it safely. */
function serializeObject(
  error: object,
  depth: number,
  done: Map<unknown, SerializedError>,
): SerializedError {
  const result: Mutable<SerializedError> = {
    $seedError: 1,
    kind: "error",
    name: "Error",
    message: "",
    hasCause: false,
  };
  done.set(error, result);
  const lost = new Set<string>();
  const className = classNameOf(error);

  const name = read(error, "name");
  const nameText = name.ok ? text(name.value) : undefined;
  if (nameText === undefined) lost.add("name");
  result.name = nameText ?? className ?? "Error";
  if (className !== undefined && registry.has(className)) {
    if (className !== result.name) result.className = className;
  }

  const message = read(error, "message");
  const messageText = message.ok ? text(message.value) : undefined;
  if (messageText === undefined) lost.add("message");
  result.message = messageText ?? `[not readable: ${notRead(message)}]`;

  const stack = read(error, "stack");
  if (!stack.ok) lost.add("stack");
  else if (typeof stack.value === "string") result.stack = stack.value;

  const hasCause = attempt(() => Object.hasOwn(error, "cause"));
  if (!hasCause.ok) lost.add("cause");
  else if (hasCause.value === true) {
    result.hasCause = true;
    const cause = read(error, "cause");
    if (!cause.ok) lost.add("cause");
    result.cause = cause.ok
      ? serialize(cause.value, depth + 1, done)
      : valueOf(`[not readable: reading it threw ${summarize(cause.error)}]`);
  }

  // An array `errors` (as in AggregateError) is carried as errors; any other
  // `errors` field is an ordinary field.
  const errors = read(error, "errors");
  if (!errors.ok) lost.add("errors");
  const isArray = errors.ok && attempt(() => Array.isArray(errors.value));
  if (isArray !== false && isArray.ok && isArray.value === true) {
    result.errors = serializeList(errors.value as unknown[], depth, done, lost);
  }

  const fields = serializeFields(
    error,
    result.errors !== undefined,
    depth,
    done,
    lost,
  );
  if (fields !== undefined) result.fields = fields;
  if (lost.size > 0) result.uncloneable = [...lost];
  return result;
}

/** Says why a read failed, for a `[not readable: ...]` description. */
function notRead(result: Read): string {
  return result.ok
    ? "it is not a string"
    : `reading it threw ${summarize(result.error)}`;
}

/** Serializes the first {@linkcode MAX_ERRORS} items of an `errors` array. */
function serializeList(
  list: unknown[],
  depth: number,
  done: Map<unknown, SerializedError>,
  lost: Set<string>,
): SerializedError[] {
  const length = read(list, "length");
  if (!length.ok || typeof length.value !== "number" || !(length.value >= 0)) {
    lost.add("errors");
    return [];
  }
  const total = Math.trunc(Math.min(length.value, Number.MAX_SAFE_INTEGER));
  const out: SerializedError[] = [];
  for (let i = 0; i < Math.min(total, MAX_ERRORS); i++) {
    const item = read(list, i);
    out.push(
      item.ok
        ? serialize(item.value, depth + 1, done)
        : valueOf(`[not readable: reading it threw ${summarize(item.error)}]`),
    );
  }
  if (total > MAX_ERRORS) {
    out.push(valueOf(`[not sent: ${total - MAX_ERRORS} more errors]`));
  }
  return out;
}

/**
 * Serializes an error's own enumerable fields but the reserved ones: errors
 * as errors, other values as clones, and values that cannot be cloned or read
 * as descriptions, whose names go to `lost`.
 */
function serializeFields(
  error: object,
  skipErrors: boolean,
  depth: number,
  done: Map<unknown, SerializedError>,
  lost: Set<string>,
): Record<string, unknown> | undefined {
  const keys = attempt(() => Object.keys(error));
  if (!keys.ok) return undefined;
  let fields: Record<string, unknown> | undefined;
  for (const key of keys.value as string[]) {
    if (RESERVED.has(key) || (key === "errors" && skipErrors)) continue;
    fields ??= {};
    const field = read(error, key);
    let value: unknown;
    let description: string | undefined;
    if (!field.ok) {
      description = `[not readable: reading it threw ${
        summarize(field.error)
      }]`;
    } else {
      const errorLike = isErrorLike(field.value);
      if (!errorLike.ok) {
        description = `[not readable: ${describeSafely(field.value)}]`;
      } else if (errorLike.value === true) {
        value = serialize(field.value, depth + 1, done);
      } else {
        const copy = cloned(field.value);
        if (copy.ok) value = copy.value;
        else description = `[not cloneable: ${describeSafely(field.value)}]`;
      }
    }
    if (description !== undefined) {
      lost.add(key);
      value = description;
    }
    // Defined, not assigned, so that a key such as `__proto__` stays a field.
    Object.defineProperty(fields, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return fields;
}

/**
 * The wire name of the nearest built-in or registered class on the error's
 * prototype chain, or `undefined`.
 */
function classNameOf(error: object): string | undefined {
  let current: unknown = error;
  for (let i = 0; i < MAX_PROTOTYPES; i++) {
    const prototype = attempt(() => Object.getPrototypeOf(current));
    if (!prototype.ok || !isObject(prototype.value)) return undefined;
    const name = classNames.get(prototype.value);
    if (name !== undefined) return name;
    current = prototype.value;
  }
  return undefined;
}

/**
 * Tells whether a value is a {@linkcode SerializedError}.
 *
 * @param value Any value, such as a message received from a worker.
 * @returns `true` if the value was made by {@linkcode serializeError}.
 *
 * @example Checking a message
 * ```ts
 * import { isSerializedError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isSerializedError(serializeError(new Error("x"))));
 * assert.ok(!isSerializedError({ message: "x" }));
 * ```
 */
export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === "object" && value !== null &&
    (value as { $seedError?: unknown }).$seedError === 1;
}

/**
 * Rebuilds a thrown value from its {@linkcode SerializedError} form: built-in
 * classes (`TypeError`, `AggregateError`, `DOMException`, ...) and
 * {@linkcode registerErrorClass registered} classes come back as instances of
 * their class; any other error comes back as an `Error` with the original
 * `name`. Message, stack, cause chain, `errors` and own fields are restored.
 *
 * Fields whose value could not be cloned or read arrive as a description
 * string, such as `[not cloneable: a function named "onClose"]`; their names
 * are listed in the rebuilt error's non-enumerable `uncloneableFields` array,
 * which is absent when every field arrived as it was.
 *
 * @param data The serialized form.
 * @returns The rebuilt error (typed loosely so fields such as `code` can be
 * read), or the original thrown value if it was not an error.
 *
 * @example A custom error keeps its name and fields
 * ```ts
 * import { deserializeError, serializeError } from "@seed/concurrency/errors";
 * import assert from "node:assert/strict";
 *
 * class HttpError extends Error {
 *   override name = "HttpError";
 *   status = 404;
 * }
 * const copy = deserializeError(structuredClone(serializeError(new HttpError("Not found"))));
 * assert.equal(copy.name, "HttpError");
 * assert.equal(copy.status, 404);
 * assert.equal(copy.message, "Not found");
 * ```
 */
// deno-lint-ignore no-explicit-any
export function deserializeError(data: SerializedError): any {
  return rebuild(data, 0, new Map());
}

/**
 * Rebuilds `data`; `done` maps each serialized error already rebuilt to its
 * result, so an error shared in the serialized form (or a cycle of causes)
 * is shared once rebuilt. The data may come from a worker: each part is
 * checked before use, and nesting is bounded.
 */
function rebuild(
  data: SerializedError,
  depth: number,
  done: Map<SerializedError, unknown>,
): unknown {
  if (data.kind !== "error") return data.value;
  if (done.has(data)) return done.get(data);
  const name = typeof data.name === "string" ? data.name : "Error";
  const message = typeof data.message === "string" ? data.message : "";
  const errors = Array.isArray(data.errors) ? data.errors : undefined;
  const fields = typeof data.fields === "object" && data.fields !== null
    ? data.fields
    : undefined;
  const registered =
    (typeof data.className === "string"
      ? registry.get(data.className)
      : undefined) ?? registry.get(name);
  const builtIn = BUILT_IN.get(name);
  let error: Error;
  if (registered !== undefined) {
    error = Reflect.construct(Error, [message], registered) as Error;
  } else if (name === "AggregateError" || errors !== undefined) {
    error = new AggregateError([], message);
  } else if (builtIn !== undefined) {
    error = new builtIn(message);
  } else if (
    typeof DOMException !== "undefined" && fields === undefined &&
    DOM_EXCEPTION_NAMES.has(name)
  ) {
    error = new DOMException(message, name);
  } else {
    error = new Error(message);
  }
  done.set(data, error);
  const inherited = attempt(() => error.name);
  if (!inherited.ok || inherited.value !== name) define(error, "name", name);
  define(
    error,
    "stack",
    typeof data.stack === "string" ? data.stack : `${name}: ${message}`,
  );
  const inner = (item: unknown): unknown =>
    !isSerializedError(item)
      ? item
      : depth >= MAX_DEPTH * 2
      ? `[not sent: nested more than ${MAX_DEPTH * 2} errors deep]`
      : rebuild(item, depth + 1, done);
  if (errors !== undefined) define(error, "errors", errors.map(inner));
  if (data.hasCause === true) define(error, "cause", inner(data.cause));
  if (Array.isArray(data.uncloneable) && data.uncloneable.length > 0) {
    define(error, "uncloneableFields", [...data.uncloneable]);
  }
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) {
      Object.defineProperty(error, key, {
        value: inner(value),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
  return error;
}

/** Defines a non-enumerable own property, as `name`, `stack` and `cause` are. */
function define(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, {
    value,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

const DOM_EXCEPTION_NAMES = new Set([
  "AbortError",
  "TimeoutError",
  "DataCloneError",
  "InvalidStateError",
  "NotSupportedError",
  "NotFoundError",
  "SecurityError",
  "NetworkError",
  "SyntaxError",
  "QuotaExceededError",
  "OperationError",
]);
