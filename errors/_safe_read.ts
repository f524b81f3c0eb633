// Copyright the @seed/concurrency authors. MIT license.
// Internal: reading a thrown value that may fight back.
//
// Anything can be thrown: a revoked Proxy, which throws on every operation
// but `typeof`; a Proxy whose traps throw; an error whose `name` getter
// throws; an object whose `toString` throws. Every read here either returns
// what it read or says that it failed and why, and never throws.
//
// Operations that run no user code are used where they exist: `typeof`,
// `Error.isError` (reads an internal slot, no trap), `Array.isArray` (throws
// only for a revoked Proxy), `Map`/`Set` lookups by identity.

import { describe } from "./_describe.ts";

/** What a read gave: the value, or what reading it threw. */
export type Read =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** Reads `target[key]`, catching whatever a getter or a Proxy trap throws. */
export function read(target: unknown, key: PropertyKey): Read {
  try {
    return { ok: true, value: (target as Record<PropertyKey, unknown>)[key] };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Runs `fn`, catching whatever it throws. */
export function attempt(fn: () => unknown): Read {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Whether `value` is an object or a function (what a Proxy can be): the only
 * values whose reads can run user code.
 */
export function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) ||
    typeof value === "function";
}

/** Whether `value` is a Proxy that has been revoked. */
export function isRevokedProxy(value: unknown): boolean {
  if (!isObject(value)) return false;
  try {
    Array.isArray(value);
    return false;
  } catch {
    return true;
  }
}

const isError = (Error as { isError?: (value: unknown) => boolean }).isError;

/**
 * Whether `value` is an error (an `Error`, a `DOMException`, or an object
 * that inherits from one, such as a Proxy of an error). Fails when walking
 * the prototype chain throws, as it does for a revoked Proxy.
 */
export function isErrorLike(value: unknown): Read {
  if (!isObject(value)) return { ok: true, value: false };
  if (isError !== undefined && isError(value)) return { ok: true, value: true };
  return attempt(() =>
    value instanceof Error ||
    (typeof DOMException !== "undefined" && value instanceof DOMException)
  );
}

/**
 * Turns a value read from an error (its `name` or `message`) into a string:
 * a string as it is, a symbol or number as `String()` gives it, and an
 * object through its `toString`, unless that throws.
 */
export function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

/**
 * Describes any value in a few words, as `describe()` does, without
 * throwing: a revoked Proxy is `"a revoked Proxy"`, and an object whose
 * `constructor` cannot be read is `"an object"`.
 */
export function describeSafely(value: unknown): string {
  if (isRevokedProxy(value)) return "a revoked Proxy";
  try {
    return describe(value);
  } catch {
    return typeof value === "function" ? "a function" : "an object";
  }
}

/** The longest text {@linkcode summarize} returns. */
const MAX_SUMMARY = 120;

/**
 * Names what a failed read threw, for a description: `TypeError: boom` for an
 * error whose name and message are plain strings, else a description such as
 * `a revoked Proxy`.
 */
export function summarize(thrown: unknown): string {
  let summary: string | undefined;
  const errorLike = isErrorLike(thrown);
  if (errorLike.ok && errorLike.value === true) {
    const name = read(thrown, "name");
    const message = read(thrown, "message");
    if (
      name.ok && typeof name.value === "string" && message.ok &&
      typeof message.value === "string"
    ) {
      summary = message.value === ""
        ? name.value
        : `${name.value}: ${message.value}`;
    }
  }
  summary ??= describeSafely(thrown);
  return summary.length > MAX_SUMMARY
    ? summary.slice(0, MAX_SUMMARY - 3) + "..."
    : summary;
}

/**
 * A copy of `value` made by structured clone, or the reason it cannot be
 * cloned. Functions and symbols fail without trying. So does an instance of
 * a class that structured clone would turn into an empty plain object (all
 * its state is private, or held by the engine): such a copy would keep
 * nothing of it, not even its class.
 */
export function cloned(value: unknown): Read {
  const type = typeof value;
  if (type === "function" || type === "symbol") {
    return { ok: false, error: undefined };
  }
  if (value === null || type !== "object") return { ok: true, value };
  const copy = attempt(() => structuredClone(value));
  if (!copy.ok || !keptNothing(value as object, copy.value as object)) {
    return copy;
  }
  return { ok: false, error: undefined };
}

function keptNothing(value: object, copy: object): boolean {
  if (Object.getPrototypeOf(copy) !== Object.prototype) return false;
  if (Object.keys(copy).length > 0) return false;
  const prototype = attempt(() => Object.getPrototypeOf(value));
  return prototype.ok && prototype.value !== Object.prototype &&
    prototype.value !== null;
}
