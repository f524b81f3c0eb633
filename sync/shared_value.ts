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
import { sharedLockAt } from "./_shared_lock_internals.ts";
import type { SharedLock } from "./shared_lock.ts";
import "./shared_lock.ts"; // registers `sharedLockAt`

/**
 * The element kinds of {@linkcode SharedValue} and `SharedArray`, named after
 * their typed arrays: `i32` is an `Int32Array` element (Python's typecode
 * `'i'`), `f64` a `Float64Array` one (`'d'`), `bigint64` a `BigInt64Array`
 * one (`'q'`), and so on.
 */
export type SharedKind =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "f32"
  | "f64"
  | "bigint64"
  | "biguint64";

/** The kinds whose values are bigints. */
export type SharedBigIntKind = "bigint64" | "biguint64";

/**
 * The integer kinds: those with atomic read-modify-write helpers
 * (`add`, `compareExchange`, ...).
 */
export type SharedIntegerKind = Exclude<SharedKind, "f32" | "f64">;

/**
 * The JavaScript type of a kind's values: `bigint` for the 64-bit integer
 * kinds, `number` for the others.
 *
 * @typeParam K The element kind.
 */
export type SharedKindValue<K extends SharedKind> = K extends SharedBigIntKind
  ? bigint
  : number;

// Layout: the lock word at byte 0, the value at byte 8 (aligned for 64-bit
// kinds).
const VALUE_OFFSET = 8;

// Memory for the next constructor call, set only by the reviver.
let adopting: SharedArrayBuffer | undefined;

/**
 * One typed number in shared memory, with its own {@linkcode SharedLock}:
 * Python's `multiprocessing.Value`. `new SharedValue("i32", 0)` is
 * `Value('i', 0)`, and `value.lock` is `get_lock()`.
 *
 * Reading or writing {@linkcode SharedValue.value} is one atomic step for
 * the integer kinds, but `value.value += 1` is two: a load, then a store.
 * Two threads can both load 5 and both store 6, and an update is lost. Do
 * such read-modify-writes under {@linkcode SharedValue.lock}, or, for the
 * integer kinds, with one atomic helper ({@linkcode SharedValue.add},
 * {@linkcode SharedValue.compareExchange}, ...).
 *
 * - **Fairness:** that of its {@linkcode SharedLock}: not FIFO.
 * - **Cancellation:** the value itself never waits; waits on its lock are
 *   cancelled as {@linkcode SharedLock} describes, leaving nothing behind.
 * - **Misuse:** a value of the wrong type (a `number` for a bigint kind, a
 *   string...) throws a `TypeError`; a number out of the kind's range is
 *   stored as its typed array stores it (wrapped for integers, rounded for
 *   `f32`). Reads of `f32`/`f64` values are not atomic: read them under the
 *   lock when another thread may write them.
 * - **Across workers:** pass the value in a pool task's arguments or result,
 *   at the top level or nested in arrays, plain objects, Map values or Set
 *   members (`pool.run(fn, [{ value }])`): the other side gets a
 *   `SharedValue` over the same memory, lock included. Cloning it any other
 *   way (inside a class instance, as a Map key, in a message) throws
 *   `TypeError`.
 *
 * @typeParam K The element kind.
 *
 * @example The notebook's `Value('i', 0)`, incremented by four workers
 * ```ts
 * import { SharedValue } from "@seed/concurrency/sync";
 * import { WorkerPool } from "@seed/concurrency";
 * import assert from "node:assert/strict";
 *
 * const counter = new SharedValue("i32", 0);
 * await using pool = new WorkerPool({ size: 4 });
 * await Promise.all([1, 2, 3, 4].map(() =>
 *   pool.run((counter: SharedValue<"i32">) => {
 *     for (let i = 0; i < 1000; i++) {
 *       const guard = counter.lock.acquireSync();
 *       counter.value += 1;
 *       guard.release();
 *     }
 *   }, [counter])
 * ));
 * assert.equal(counter.value, 4000);
 * ```
 *
 * @example Atomic helpers need no lock
 * ```ts
 * import { SharedValue } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const hits = new SharedValue("bigint64", 0n);
 * hits.add(5n);
 * assert.equal(hits.value, 5n);
 * ```
 */
export class SharedValue<K extends SharedKind> {
  readonly #kind: K;
  readonly #info: KindInfo;
  readonly #view: KindArray;
  readonly #lock: SharedLock;

  static {
    registerWireClass(SharedValue, "SharedValue", {
      encode: (value) => ({
        data: { kind: value.#kind, buffer: value.#view.buffer },
      }),
      revive(data) {
        const { kind, buffer } = data as {
          kind: SharedKind;
          buffer: SharedArrayBuffer;
        };
        adopting = sharedBuffer(buffer);
        return new SharedValue(kind);
      },
    });
  }

  /**
   * Creates a value of kind `kind` in new shared memory.
   *
   * @param kind The element kind, such as `"i32"`, `"f64"` or `"bigint64"`.
   * @param initial The first value: `0`, or `0n` for the bigint kinds, if
   * left out.
   * @throws {TypeError} If `kind` is not a {@linkcode SharedKind}, or
   * `initial` is not of the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedValue("f64", 1.5).value, 1.5);
   * assert.equal(new SharedValue("bigint64").value, 0n);
   * assert.throws(() => new SharedValue("int" as "i32"), TypeError);
   * ```
   */
  constructor(kind: K, initial?: SharedKindValue<K>) {
    refuseStructuredClone(this);
    let buffer = adopting;
    adopting = undefined;
    const info = kindInfo(kind, "SharedValue");
    const fresh = buffer === undefined;
    if (fresh) {
      if (initial !== undefined) {
        checkElement(info, kind, initial, "create SharedValue", "initial");
      }
      buffer = new SharedArrayBuffer(VALUE_OFFSET + info.bytes);
    }
    this.#kind = kind;
    this.#info = info;
    this.#view = info.view(buffer!, VALUE_OFFSET, 1);
    this.#lock = sharedLockAt(new Int32Array(buffer!, 0, 1), 0);
    if (fresh && initial !== undefined) this.#view[0] = initial;
  }

  /**
   * The element kind given to the constructor.
   *
   * @returns The kind, such as `"i32"`.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new SharedValue("u8").kind, "u8");
   * ```
   */
  get kind(): K {
    return this.#kind;
  }

  /**
   * The lock that guards this value across threads, Python's `get_lock()`.
   * Hold it for any read-modify-write of {@linkcode SharedValue.value}.
   *
   * @returns The value's {@linkcode SharedLock}; the same object every time.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const counter = new SharedValue("i32", 0);
   * await counter.lock.run(() => {
   *   counter.value += 1;
   * });
   * assert.equal(counter.value, 1);
   * ```
   */
  get lock(): SharedLock {
    return this.#lock;
  }

  /**
   * The current value, read from shared memory (atomically for the integer
   * kinds).
   *
   * @returns The value.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const value = new SharedValue("i32", 7);
   * assert.equal(value.value, 7);
   * ```
   */
  get value(): SharedKindValue<K> {
    const view = this.#view as Int32Array;
    return (this.#info.atomic
      ? Atomics.load(view, 0)
      : view[0]) as SharedKindValue<K>;
  }

  /**
   * Writes a new value to shared memory (atomically for the integer kinds).
   *
   * @param value The new value.
   * @throws {TypeError} If `value` is not of the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const value = new SharedValue("f64", 0);
   * value.value = 2.5;
   * assert.equal(value.value, 2.5);
   * assert.throws(() => {
   *   (value as SharedValue<"f64">).value = "3" as unknown as number;
   * }, TypeError);
   * ```
   */
  set value(value: SharedKindValue<K>) {
    const info = this.#info;
    checkElement(info, this.#kind, value, "set SharedValue", "value");
    const view = this.#view as Int32Array;
    if (info.atomic) Atomics.store(view, 0, value as number);
    else view[0] = value as number;
  }

  /**
   * Adds `delta` in one atomic step (no lock needed), like `Atomics.add`.
   *
   * @param delta The amount to add.
   * @returns The value before the addition.
   * @throws {TypeError} If the kind is `f32` or `f64`, or `delta` is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const value = new SharedValue("i32", 1);
   * assert.equal(value.add(2), 1);
   * assert.equal(value.value, 3);
   * ```
   */
  add(
    this: SharedValue<SharedIntegerKind>,
    delta: SharedKindValue<K>,
  ): SharedKindValue<K> {
    return this.#rmw(
      "add to SharedValue",
      "delta",
      delta,
      Atomics.add,
    ) as SharedKindValue<K>;
  }

  /**
   * Subtracts `delta` in one atomic step (no lock needed), like
   * `Atomics.sub`.
   *
   * @param delta The amount to subtract.
   * @returns The value before the subtraction.
   * @throws {TypeError} If the kind is `f32` or `f64`, or `delta` is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const value = new SharedValue("bigint64", 10n);
   * assert.equal(value.sub(4n), 10n);
   * assert.equal(value.value, 6n);
   * ```
   */
  sub(
    this: SharedValue<SharedIntegerKind>,
    delta: SharedKindValue<K>,
  ): SharedKindValue<K> {
    return this.#rmw(
      "subtract from SharedValue",
      "delta",
      delta,
      Atomics.sub,
    ) as SharedKindValue<K>;
  }

  /**
   * Writes `value` and returns the old value in one atomic step, like
   * `Atomics.exchange`.
   *
   * @param value The new value.
   * @returns The value before the write.
   * @throws {TypeError} If the kind is `f32` or `f64`, or `value` is not of
   * the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const value = new SharedValue("u8", 1);
   * assert.equal(value.exchange(9), 1);
   * assert.equal(value.value, 9);
   * ```
   */
  exchange(
    this: SharedValue<SharedIntegerKind>,
    value: SharedKindValue<K>,
  ): SharedKindValue<K> {
    return this.#rmw(
      "exchange SharedValue",
      "value",
      value,
      Atomics.exchange,
    ) as SharedKindValue<K>;
  }

  /**
   * Writes `replacement` if the value is `expected`, in one atomic step, like
   * `Atomics.compareExchange`.
   *
   * @param expected The value the write depends on.
   * @param replacement The value to write.
   * @returns The value before the call: equal to `expected` if the write
   * happened.
   * @throws {TypeError} If the kind is `f32` or `f64`, or an argument is not
   * of the kind's JavaScript type.
   *
   * @example Usage
   * ```ts
   * import { SharedValue } from "@seed/concurrency/sync";
   * import assert from "node:assert/strict";
   *
   * const state = new SharedValue("i32", 0);
   * assert.equal(state.compareExchange(0, 1), 0); // written
   * assert.equal(state.compareExchange(0, 2), 1); // not written
   * assert.equal(state.value, 1);
   * ```
   */
  compareExchange(
    this: SharedValue<SharedIntegerKind>,
    expected: SharedKindValue<K>,
    replacement: SharedKindValue<K>,
  ): SharedKindValue<K> {
    const info = this.#info;
    const kind = this.#kind;
    const what = "compareExchange SharedValue";
    checkAtomic(info, kind, what);
    checkElement(info, kind, expected, what, "expected");
    checkElement(info, kind, replacement, what, "replacement");
    return Atomics.compareExchange(
      this.#view as Int32Array,
      0,
      expected as number,
      replacement as number,
    ) as SharedKindValue<K>;
  }

  #rmw(
    what: string,
    name: string,
    operand: unknown,
    op: (view: Int32Array, index: number, value: number) => number,
  ): unknown {
    const info = this.#info;
    const kind = this.#kind;
    checkAtomic(info, kind, what);
    checkElement(info, kind, operand, what, name);
    return op(this.#view as Int32Array, 0, operand as number);
  }
}
