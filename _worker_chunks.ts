// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: running a task function over a chunk of items inside a worker
 * (`map`, `imap`). Synchronous while every item is, switching to async for
 * the rest at the first item that returns a promise. Numeric chunks come and
 * go as Float64Array while every result is a number.
 *
 * @module
 */

import { MODE_F64, MODE_STAR } from "./_protocol.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Runs `fn` on each item (each an argument list, spread, for `MODE_STAR`);
 * returns the results (an array, a Float64Array, or a promise of an array
 * once some item awaited).
 */
export function runChunk(
  fn: AnyFunction,
  self: unknown,
  items: unknown,
  mode: number,
): unknown {
  if ((mode & MODE_F64) !== 0) {
    return runNumbers(fn, self, items as Float64Array);
  }
  if ((mode & MODE_STAR) !== 0) {
    const spread: AnyFunction = function (this: unknown, args: unknown) {
      if (!Array.isArray(args)) {
        throw new TypeError(
          `Cannot starmap an item that is not an array of arguments: received ${typeof args}`,
        );
      }
      return fn.apply(this, args);
    };
    return runItems(spread, self, items as unknown[]);
  }
  return runItems(fn, self, items as unknown[]);
}

async function runAsync(
  fn: AnyFunction,
  self: unknown,
  items: ArrayLike<unknown>,
  out: unknown[],
  from: number,
  pending: PromiseLike<unknown>,
): Promise<unknown[]> {
  out[from] = await pending;
  for (let i = from + 1; i < items.length; i++) {
    let value = fn.call(self, items[i]);
    if (isThenable(value)) value = await value;
    out[i] = value;
  }
  return out;
}

function runItems(fn: AnyFunction, self: unknown, items: unknown[]): unknown {
  // A copy of the items, overwritten: a packed array. `new Array(n)` is holey,
  // and above about 100,000 elements V8 makes it a dictionary, which costs
  // five times more to clone.
  const out = items.slice();
  for (let i = 0; i < items.length; i++) {
    const value = fn.call(self, items[i]);
    if (isThenable(value)) return runAsync(fn, self, items, out, i, value);
    out[i] = value;
  }
  return out;
}

function runNumbers(
  fn: AnyFunction,
  self: unknown,
  items: Float64Array,
): unknown {
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const value = fn.call(self, items[i]);
    if (typeof value === "number") {
      out[i] = value;
      continue;
    }
    // Not every result is a number: go on as a plain array, in order.
    const plain: unknown[] = Array.from(items);
    for (let j = 0; j < i; j++) plain[j] = out[j];
    if (isThenable(value)) return runAsync(fn, self, items, plain, i, value);
    plain[i] = value;
    for (let j = i + 1; j < items.length; j++) {
      const next = fn.call(self, items[j]);
      if (isThenable(next)) return runAsync(fn, self, items, plain, j, next);
      plain[j] = next;
    }
    return plain;
  }
  return out;
}
