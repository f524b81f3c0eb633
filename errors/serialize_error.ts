// Copyright the @seed/concurrency authors. MIT license.

/**
 * The explicit wire format for errors that cross a worker boundary.
 *
 * Structured clone alone keeps only built-in error classes, `message`, `stack`
 * and `cause`: it turns a custom error into a plain `Error` named `"Error"`,
 * and drops own fields such as `error.code` and an `AggregateError`'s
 * `errors`. This format keeps all of them.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import { PoolClosedError } from "./pool_closed_error.ts";
import { WorkerCrashedError } from "./worker_crashed_error.ts";

/**
 * A thrown value in a form that `postMessage` and `structuredClone` copy
 * without loss. Make it with {@linkcode serializeError}, turn it back with
 * {@linkcode deserializeError}.
 */
export interface SerializedError {
  /** Marks the object as a serialized error. */
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
  /** The thrown value when `kind` is `"value"`. */
  readonly value?: unknown;
}

/** A class of errors, as {@linkcode registerErrorClass} takes it. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

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

const registry = new Map<string, ErrorClass>([
  ["PoolClosedError", PoolClosedError],
  ["WorkerCrashedError", WorkerCrashedError],
]);
const RESERVED = new Set(["name", "message", "stack", "cause"]);
const MAX_DEPTH = 32;

/**
 * Registers an error class so that errors of that name are rebuilt as
 * instances of it on the receiving side (`instanceof` holds there).
 *
 * Both sides of the boundary must register the class: a worker's task module
 * and the main thread each import the module that calls this. The library's
 * own error classes are registered by their modules. The class's constructor is
 * not run when an error is rebuilt: its fields are copied over instead.
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
  registry.set(name, errorClass);
}

/**
 * Turns any thrown value into a {@linkcode SerializedError} that survives
 * `postMessage`: the class name, message, stack, `cause` chain, an
 * `AggregateError`'s `errors` and the error's own fields. Field values that
 * cannot be cloned are replaced by a string describing them. A thrown value
 * that is not an error is kept as it is when it can be cloned, or described as
 * a string.
 *
 * @param error The thrown value.
 * @returns Its serialized form.
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
 */
export function serializeError(error: unknown): SerializedError {
  return serialize(error, 0, { path: new Set(), done: new Map() });
}

/**
 * What one {@linkcode serializeError} call has seen: the errors on the path
 * from the root (a cycle back to one of them is cut) and the errors already
 * serialized (an error reached twice, as in `new AggregateError([e, e])`, is
 * serialized once and shared, which structured clone keeps).
 */
interface Visited {
  path: Set<unknown>;
  done: Map<unknown, SerializedError>;
}

function serialize(
  error: unknown,
  depth: number,
  visited: Visited,
): SerializedError {
  const known = visited.done.get(error);
  if (known !== undefined) return known;
  const isErrorLike = error instanceof Error ||
    (typeof DOMException !== "undefined" && error instanceof DOMException);
  if (!isErrorLike || depth >= MAX_DEPTH || visited.path.has(error)) {
    return {
      $seedError: 1,
      kind: "value",
      name: "",
      message: "",
      hasCause: false,
      value: cloneable(error) ? error : describe(error),
    };
  }
  visited.path.add(error);
  const e = error as Error & { errors?: unknown };
  const hasCause = Object.hasOwn(e, "cause");
  // An array `errors` (as in AggregateError) is carried as errors; any other
  // `errors` field is an ordinary field.
  const errors = Array.isArray(e.errors) ? e.errors : undefined;
  let fields: Record<string, unknown> | undefined;
  for (const key of Object.keys(e)) {
    if (RESERVED.has(key) || (key === "errors" && errors !== undefined)) {
      continue;
    }
    fields ??= {};
    fields[key] = serializeField(
      (e as unknown as Record<string, unknown>)[key],
      depth,
      visited,
    );
  }
  const result: {
    -readonly [K in keyof SerializedError]: SerializedError[K];
  } = {
    $seedError: 1,
    kind: "error",
    name: String(e.name),
    message: String(e.message),
    hasCause,
  };
  if (typeof e.stack === "string") result.stack = e.stack;
  if (hasCause) result.cause = serialize(e.cause, depth + 1, visited);
  if (errors !== undefined) {
    result.errors = errors.map((inner) => serialize(inner, depth + 1, visited));
  }
  if (fields !== undefined) result.fields = fields;
  visited.path.delete(error);
  visited.done.set(error, result);
  return result;
}

function serializeField(
  value: unknown,
  depth: number,
  visited: Visited,
): unknown {
  if (value instanceof Error) return serialize(value, depth + 1, visited);
  return cloneable(value) ? value : describe(value);
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
  return rebuild(data, new Map());
}

/**
 * Rebuilds `data`; `done` maps each serialized error already rebuilt to its
 * result, so an error shared in the serialized form is shared once rebuilt.
 */
function rebuild(
  data: SerializedError,
  done: Map<SerializedError, unknown>,
): unknown {
  if (data.kind === "value") return data.value;
  if (done.has(data)) return done.get(data);
  let error: Error;
  const registered = registry.get(data.name);
  const builtIn = BUILT_IN.get(data.name);
  if (registered !== undefined) {
    error = Reflect.construct(Error, [data.message], registered) as Error;
  } else if (data.name === "AggregateError" || data.errors !== undefined) {
    error = new AggregateError([], data.message);
  } else if (builtIn !== undefined) {
    error = new builtIn(data.message);
  } else if (
    typeof DOMException !== "undefined" && data.fields === undefined &&
    DOM_EXCEPTION_NAMES.has(data.name)
  ) {
    error = new DOMException(data.message, data.name);
  } else {
    error = new Error(data.message);
  }
  done.set(data, error);
  if (error.name !== data.name) {
    Object.defineProperty(error, "name", {
      value: data.name,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  Object.defineProperty(error, "stack", {
    value: data.stack ?? `${data.name}: ${data.message}`,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  if (data.errors !== undefined) {
    Object.defineProperty(error, "errors", {
      value: data.errors.map((inner) => rebuild(inner, done)),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  if (data.hasCause) {
    Object.defineProperty(error, "cause", {
      value: data.cause === undefined ? undefined : rebuild(data.cause, done),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  if (data.fields !== undefined) {
    for (const [key, value] of Object.entries(data.fields)) {
      (error as unknown as Record<string, unknown>)[key] =
        isSerializedError(value) ? rebuild(value, done) : value;
    }
  }
  return error;
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

function cloneable(value: unknown): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === "function" || type === "symbol") return false;
  if (type !== "object") return true;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
