// Copyright the @seed/concurrency authors. MIT license.

import {
  refuseStructuredClone,
  registerWireClass,
  sharedBuffer,
} from "../_wire.ts";
import {
  checkAtomic,
  checkElement,
  type KindArray,
  type KindInfo,
  kindInfo,
} from "./_atomics.ts";
import { describe } from "../errors/_describe.ts";
import { sharedLockAt } from "./_shared_lock_internals.ts";
import type { SharedLock } from "./shared_lock.ts";
import type {
  SharedIntegerKind,
  SharedKind,
  SharedKindValue,
} from "./shared_value.ts";
import "./shared_lock.ts"; // registers `sharedLockAt`

// Layout: the lock word at byte 0, the elements from byte 8 (aligned for
// 64-bit kinds).
const DATA_OFFSET = 8;

// Memory for the next constructor call, set only by the reviver.
let adopting: { buffer: SharedArrayBuffer; length: number } | undefined;

/**
 * A fixed-length array of typed numbers in shared memory, with its own
 * {@linkcode SharedLock}: Python's `multiprocessing.Array`.
 * `new SharedArray("i32", [1, 2, 3, 4, 5])` is `Array('i', [1, 2, 3, 4, 5])`,
 * `new SharedArray("f64", 3)` is `Array('d', 3)` (zeros), and `array.lock` is
 * `get_lock()`.
 *
 * Each {@linkcode SharedArray.get} and {@linkcode SharedArray.set} is one
 * step (atomic for the integer kinds), but `a.set(i, a.get(i) + 1)` is two:
 * another thread can write between them, and an update is lost. Do such
 * read-modify-writes, and anything that must see several elements at one
 * moment, under {@linkcode SharedArray.lock}, or use one atomic helper
 * ({@linkcode SharedArray.add}, ...) for a single integer element.
 *
 * - **Fairness:** that of its {@linkcode SharedLock}: not FIFO.
 * - **Cancellation:** the array itself never waits; waits on its lock are
 *   cancelled as {@linkcode SharedLock} describes, leaving nothing behind.
 * - **Misuse:** an index that is not an integer in `[0, length)` throws a
 *   `RangeError` (no negative indexing, no growth); a value of the wrong
 *   type throws a `TypeError`; a number out of the kind's range is stored as
 *   its typed array stores it (wrapped for integers, rounded for `f32`).
 * - **Across workers:** pass the array in a pool task's arguments or result,
 *   at the top level or nested in arrays, plain objects, Map values or Set
 *   members (`pool.run(fn, [{ array }])`): the other side gets a
 *   `SharedArray` over the same memory, lock included. Cloning it any other
 *   way (inside a class instance, as a Map key, in a message) throws
 *   `TypeError`.
 *
 * @typeParam K The element kind.
 *
 * @example The notebook's `Array('i', [1, 2, 3, 4, 5])`, changed by a worker
 * ```ts
 * import { SharedArray } from "@seed/concurrency/sync";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * const numbers = new SharedArray("i32", [1, 2, 3, 4, 5]);
 * await using pool = new WorkerPool({ size: 1 });
 * await pool.run((numbers: SharedArray<"i32">) => {
 *   numbers.lock.runSync(() => {
 *     for (let i = 0; i < numbers.length; i++) {
 *       numbers.set(i, numbers.get(i) + 1);
 *     }
 *   });
 * }, [numbers]);
 * assert.deepEqual(numbers.toArray(), [2, 3, 4, 5, 6]);
 * ```
 */
export class SharedArray<K extends SharedKind> implements
  Iterable<
    SharedKindValue<K>
  > {
  readonly #kind: K;
  readonly #info: KindInfo;
  readonly #view: KindArray;
  readonly #lock: SharedLock;

  static {
    registerWireClass(SharedArray, "SharedArray", {
      encode: (array) => ({
        data: {
          kind: array.#kind,
          buffer: array.#view.buffer,
          length: array.#view.length,
        },
      }),
      revive(data) {
        const { kind, buffer, length } = data as {
          kind: SharedKind;
          buffer: SharedArrayBuffer;
          length: number;
        };
        adopting = { buffer: sharedBuffer(buffer), length };
        return new SharedArray(kind, 0);
      },
    });
  }

  /**
   * Creates an array of `values`, or of `length` zeros, in new shared memory.
   *
   * @param kind The element kind, such as `"i32"`, `"f64"` or `"bigint64"`.
   * @param values The elements, or the length of an array of zeros (`0n`
   * for the bigint kinds).
   * @throws {TypeError} If `kind` is not a {@linkcode SharedKind}, `values`
   * is neither a number nor an iterable, or an element is not of the kind's
   * JavaScript type.
   * @throws {RangeError} If a length is not a non-negative integer.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new SharedArray("f64", [0.5, 1.5]).toArray(), [0.5, 1.5]);
   * assert.deepEqual(new SharedArray("bigint64", 2).toArray(), [0n, 0n]);
   * assert.throws(() => new SharedArray("i32", -1), RangeError);
   * ```
   */
  constructor(kind: K, values: Iterable<SharedKindValue<K>> | number) {
    refuseStructuredClone(this);
    const adopted = adopting;
    adopting = undefined;
    const info = kindInfo(kind, "SharedArray");
    this.#kind = kind;
    this.#info = info;
    if (adopted !== undefined) {
      this.#view = info.view(adopted.buffer, DATA_OFFSET, adopted.length);
      this.#lock = sharedLockAt(new Int32Array(adopted.buffer, 0, 1), 0);
      return;
    }
    let items: unknown[] | undefined;
    let length: number;
    if (typeof values === "number") {
      if (!Number.isSafeInteger(values) || values < 0) {
        throw new RangeError(
          `Cannot create SharedArray as its length must be a non-negative integer: received ${values}`,
        );
      }
      length = values;
    } else if (
      typeof values === "object" && values !== null &&
      typeof (values as Iterable<unknown>)[Symbol.iterator] === "function"
    ) {
      items = Array.isArray(values) ? values : [...values];
      length = items.length;
      for (let i = 0; i < length; i++) {
        checkElement(
          info,
          kind,
          items[i],
          "create SharedArray",
          `values[${i}]`,
        );
      }
    } else {
      throw new TypeError(
        `Cannot create SharedArray as 'values' must be an iterable or a length: received ${
          describe(values)
        }`,
      );
    }
    const buffer = new SharedArrayBuffer(DATA_OFFSET + length * info.bytes);
    this.#view = info.view(buffer, DATA_OFFSET, length);
    this.#lock = sharedLockAt(new Int32Array(buffer, 0, 1), 0);
    if (items !== undefined) (this.#view as Int32Array).set(items as number[]);
  }

  /**
   * Creates an array of the elements of `values` in new shared memory; the
   * same as `new SharedArray(kind, values)`.
   *
   * @typeParam K The element kind.
   * @param kind The element kind, such as `"i32"`, `"f64"` or `"bigint64"`.
   * @param values The elements.
   * @returns The new array.
   * @throws {TypeError} If `kind` is not a {@linkcode SharedKind}, or an
   * element is not of the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const squares = SharedArray.from("u16", [1, 2, 3].map((x) => x * x));
   * assert.deepEqual(squares.toArray(), [1, 4, 9]);
   * ```
   */
  static from<K extends SharedKind>(
    kind: K,
    values: Iterable<SharedKindValue<K>>,
  ): SharedArray<K> {
    if (typeof values === "number") {
      throw new TypeError(
        `Cannot create SharedArray as 'values' must be an iterable: received ${values}; use new SharedArray(kind, length) for zeros`,
      );
    }
    return new SharedArray(kind, values);
  }

  /**
   * The element kind given to the constructor.
   *
   * @returns The kind, such as `"i32"`.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedArray("f32", 1).kind, "f32");
   * ```
   */
  get kind(): K {
    return this.#kind;
  }

  /**
   * The number of elements, fixed at creation.
   *
   * @returns The length.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedArray("i32", [1, 2, 3]).length, 3);
   * ```
   */
  get length(): number {
    return this.#view.length;
  }

  /**
   * The lock that guards this array across threads, Python's `get_lock()`.
   * Hold it for read-modify-writes and for reads that must agree.
   *
   * @returns The array's {@linkcode SharedLock}; the same object every time.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const pair = new SharedArray("i32", [1, 2]);
   * await pair.lock.run(() => {
   *   const [a, b] = pair.toArray();
   *   pair.set(0, b!);
   *   pair.set(1, a!);
   * });
   * assert.deepEqual(pair.toArray(), [2, 1]);
   * ```
   */
  get lock(): SharedLock {
    return this.#lock;
  }

  /**
   * Reads element `index` (atomically for the integer kinds).
   *
   * @param index An integer from `0` to `length - 1`.
   * @returns The element.
   * @throws {RangeError} If `index` is out of range or not an integer.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const array = new SharedArray("i32", [10, 20]);
   * assert.equal(array.get(1), 20);
   * assert.throws(() => array.get(2), RangeError);
   * ```
   */
  get(index: number): SharedKindValue<K> {
    const view = this.#view as Int32Array;
    this.#checkIndex(index, "read");
    return (this.#info.atomic
      ? Atomics.load(view, index)
      : view[index]) as SharedKindValue<K>;
  }

  /**
   * Writes element `index` (atomically for the integer kinds).
   *
   * @param index An integer from `0` to `length - 1`.
   * @param value The new element.
   * @throws {RangeError} If `index` is out of range or not an integer.
   * @throws {TypeError} If `value` is not of the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const array = new SharedArray("bigint64", 2);
   * array.set(0, 5n);
   * assert.deepEqual(array.toArray(), [5n, 0n]);
   * ```
   */
  set(index: number, value: SharedKindValue<K>): void {
    const info = this.#info;
    this.#checkIndex(index, "write");
    checkElement(info, this.#kind, value, "write SharedArray element", "value");
    const view = this.#view as Int32Array;
    if (info.atomic) Atomics.store(view, index, value as number);
    else view[index] = value as number;
  }

  /**
   * Adds `delta` to element `index` in one atomic step (no lock needed), like
   * `Atomics.add`.
   *
   * @param index An integer from `0` to `length - 1`.
   * @param delta The amount to add.
   * @returns The element before the addition.
   * @throws {RangeError} If `index` is out of range or not an integer.
   * @throws {TypeError} If the kind is `f32` or `f64`, or `delta` is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const counts = new SharedArray("i32", 3);
   * counts.add(1, 5);
   * assert.deepEqual(counts.toArray(), [0, 5, 0]);
   * ```
   */
  add(
    this: SharedArray<SharedIntegerKind>,
    index: number,
    delta: SharedKindValue<K>,
  ): SharedKindValue<K> {
    return this.#rmw(
      "add to",
      index,
      delta,
      Atomics.add,
    ) as SharedKindValue<K>;
  }

  /**
   * Subtracts `delta` from element `index` in one atomic step (no lock
   * needed), like `Atomics.sub`.
   *
   * @param index An integer from `0` to `length - 1`.
   * @param delta The amount to subtract.
   * @returns The element before the subtraction.
   * @throws {RangeError} If `index` is out of range or not an integer.
   * @throws {TypeError} If the kind is `f32` or `f64`, or `delta` is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const stock = new SharedArray("i32", [10, 10]);
   * assert.equal(stock.sub(0, 3), 10);
   * assert.deepEqual(stock.toArray(), [7, 10]);
   * ```
   */
  sub(
    this: SharedArray<SharedIntegerKind>,
    index: number,
    delta: SharedKindValue<K>,
  ): SharedKindValue<K> {
    return this.#rmw(
      "subtract from",
      index,
      delta,
      Atomics.sub,
    ) as SharedKindValue<K>;
  }

  /**
   * Writes `value` to element `index` if it is `expected`, in one atomic
   * step, like `Atomics.compareExchange`.
   *
   * @param index An integer from `0` to `length - 1`.
   * @param expected The element the write depends on.
   * @param replacement The value to write.
   * @returns The element before the call: equal to `expected` if the write
   * happened.
   * @throws {RangeError} If `index` is out of range or not an integer.
   * @throws {TypeError} If the kind is `f32` or `f64`, or a value is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const slots = new SharedArray("i32", [0, 0]);
   * assert.equal(slots.compareExchange(1, 0, 7), 0); // written
   * assert.equal(slots.compareExchange(1, 0, 8), 7); // not written
   * assert.deepEqual(slots.toArray(), [0, 7]);
   * ```
   */
  compareExchange(
    this: SharedArray<SharedIntegerKind>,
    index: number,
    expected: SharedKindValue<K>,
    replacement: SharedKindValue<K>,
  ): SharedKindValue<K> {
    const info = this.#info;
    const kind = this.#kind;
    const what = "compareExchange SharedArray element";
    checkAtomic(info, kind, what);
    this.#checkIndex(index, "compareExchange");
    checkElement(info, kind, expected, what, "expected");
    checkElement(info, kind, replacement, what, "replacement");
    return Atomics.compareExchange(
      this.#view as Int32Array,
      index,
      expected as number,
      replacement as number,
    ) as SharedKindValue<K>;
  }

  /**
   * Copies the elements into a new plain array, one element at a time. To
   * see every element at one moment, call it under
   * {@linkcode SharedArray.lock}.
   *
   * @returns A plain array of the elements.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new SharedArray("u8", [1, 2]).toArray(), [1, 2]);
   * ```
   */
  toArray(): SharedKindValue<K>[] {
    return [...this];
  }

  /**
   * Iterates over the elements, reading each from shared memory when it is
   * reached.
   *
   * @returns An iterator of the elements.
   *
   * @example Usage
   * ```ts
   * import { SharedArray } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * let sum = 0;
   * for (const x of new SharedArray("f64", [0.5, 1, 1.5])) sum += x;
   * assert.equal(sum, 3);
   * ```
   */
  *[Symbol.iterator](): IterableIterator<SharedKindValue<K>> {
    const view = this.#view as Int32Array;
    const atomic = this.#info.atomic;
    for (let i = 0; i < view.length; i++) {
      yield (atomic ? Atomics.load(view, i) : view[i]) as SharedKindValue<K>;
    }
  }

  #checkIndex(index: number, what: string): void {
    const length = this.#view.length;
    if (!Number.isInteger(index) || index < 0 || index >= length) {
      throw new RangeError(
        `Cannot ${what} SharedArray element as 'index' must be ${
          length === 0
            ? "in range, and the array is empty"
            : `an integer from 0 to ${length - 1}`
        }: received ${describe(index)}`,
      );
    }
  }

  #rmw(
    verb: string,
    index: number,
    operand: unknown,
    op: (view: Int32Array, index: number, value: number) => number,
  ): unknown {
    const info = this.#info;
    const kind = this.#kind;
    const what = `${verb} SharedArray element`;
    checkAtomic(info, kind, what);
    this.#checkIndex(index, verb);
    checkElement(info, kind, operand, what, "delta");
    return op(this.#view as Int32Array, index, operand as number);
  }
}
