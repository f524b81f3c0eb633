// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: how library objects that live over shared memory or ports
 * (`SharedLock`, `WorkerChannel`, pipe ends...) cross the worker boundary in
 * task arguments and results. A leaf: it imports nothing.
 *
 * ```text
 *  sender                                         receiver
 *  encodeValues(values)                           reviveValues(values, paths)
 *    copies the containers that hold a              at each path: the marker's
 *    library object, puts a marker in its   clone   reviver (its module loaded
 *    place, and records the marker's path  ------>  on first use) rebuilds the
 *    { values, transfer, paths }                    object in place
 * ```
 *
 * A class registers from its `static {}` block with
 * {@linkcode registerWireClass}: how to encode an instance and how to rebuild
 * one, so the encoding stays out of its public type. The receiver recognises
 * a marker only at the paths the sender recorded, never by its shape, so a
 * user object that looks like a marker crosses untouched.
 *
 * The walker descends into arrays (their indices), plain objects (prototype
 * `Object.prototype` or `null`; own enumerable string keys), Map values and
 * Set members. It does not descend into class instances, Map keys or the
 * non-index properties of arrays: a library object there is not encoded.
 * Each registered class calls {@linkcode refuseStructuredClone} on its
 * instances so that such an object makes the clone throw a `TypeError`
 * naming it, instead of arriving as `{}`. A container that holds a library
 * object is copied (arrays by index, like `slice()`: their non-index
 * properties are left out); the others are shared with the caller.
 *
 * @module
 */

/**
 * Where a marker is: the index into the values, then for each container an
 * array index, a plain object's key, or the position of a Map entry or a Set
 * member.
 */
export type WirePath = readonly (string | number)[];

/** What {@linkcode encodeValues} returns. */
export interface WireEncoded {
  /** The values, with every library object replaced by a cloneable marker (copy-on-write: the caller's arrays and objects are never mutated). */
  values: unknown[];
  /** What the markers transfer (MessagePorts...). */
  transfer: Transferable[];
  /**
   * Where the markers are, one path per marker, starting with the index into
   * `values` (a library object met at several places is encoded once, and
   * its marker has a path for each place).
   */
  paths: WirePath[];
}

/** How a class crosses the worker boundary. */
export interface WireCodec<T> {
  /**
   * Returns a cloneable form of `value`, and what to transfer with it. May
   * throw (a pipe end passed already), which fails the whole encoding.
   */
  encode(value: T): { data: unknown; transfer?: Transferable[] };
  /** Rebuilds an object from the `data` that `encode` returned. */
  revive(data: unknown): T | Promise<T>;
}

/** The cloneable stand-in for a library object. */
export interface WireMarker {
  $seedWire: string;
  data: unknown;
}

interface WireClass {
  type: string;
  encode(value: object): { data: unknown; transfer?: Transferable[] };
}

const classes = new Map<object, WireClass>();
const revivers = new Map<string, (data: unknown) => unknown>();

/**
 * Registers a class whose instances cross the worker boundary as `type`.
 * Call it from the class's `static {}` block, where the codec can read
 * private fields. A later registration of the same type (the module loaded
 * twice) replaces the reviver.
 */
export function registerWireClass<T extends object>(
  cls: { readonly prototype: T },
  type: string,
  codec: WireCodec<T>,
): void {
  classes.set(cls.prototype, {
    type,
    encode: codec.encode as WireClass["encode"],
  });
  revivers.set(type, codec.revive as (data: unknown) => unknown);
}

/**
 * The codec of a class that lives in `length` Int32 cells of shared memory
 * (`cellsOf` reads them): it crosses as the buffer and the offset, and
 * `adopt` makes an instance over the received cells.
 *
 * @throws {TypeError} (revive) If the received buffer is not shared memory.
 */
export function sharedCellsCodec<T>(
  length: number,
  cellsOf: (value: T) => Int32Array,
  adopt: (cells: Int32Array) => T,
): WireCodec<T> {
  return {
    encode(value) {
      const { buffer, byteOffset } = cellsOf(value);
      return { data: { buffer, byteOffset } };
    },
    revive(data) {
      const { buffer, byteOffset } = data as {
        buffer: unknown;
        byteOffset: number;
      };
      return adopt(new Int32Array(sharedBuffer(buffer), byteOffset, length));
    },
  };
}

/**
 * Returns `buffer`, checked to be shared memory: a received buffer comes from
 * the other side, which may be broken.
 *
 * @throws {TypeError} If `buffer` is not a `SharedArrayBuffer`.
 */
export function sharedBuffer(buffer: unknown): SharedArrayBuffer {
  if (buffer instanceof SharedArrayBuffer) return buffer;
  throw new TypeError(
    "Cannot rebuild a received object over shared memory as its buffer is not a SharedArrayBuffer",
  );
}

const CLONE_GUARD: PropertyDescriptor = Object.freeze({
  enumerable: true,
  configurable: false,
  get(this: object): never {
    throw new TypeError(
      `Cannot clone ${this.constructor.name} as it lives in shared memory or on a port: pass it to a pool task in its arguments or result, at the top level or in arrays, plain objects, Map values or Set members`,
    );
  },
});

/**
 * Makes structured clone (and `JSON.stringify`, and spreading) of `instance`
 * throw a `TypeError` naming its class, instead of copying it as `{}`: what
 * happens to a library object the encoder cannot reach. Adds an enumerable
 * accessor, the only kind of property structured clone reads. Call it from
 * the constructor.
 */
export function refuseStructuredClone(instance: object): void {
  Object.defineProperty(instance, "[not cloneable]", CLONE_GUARD);
}

// ---- encoding --------------------------------------------------------------

const ARRAY = 0;
const OBJECT = 1;
const MAP = 2;
const SET = 3;
const LIBRARY = 4;
const LEAF = 5;

function kindOf(value: object): number {
  if (Array.isArray(value)) return ARRAY;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return OBJECT;
  if (proto === Map.prototype) return MAP;
  if (proto === Set.prototype) return SET;
  return classes.has(proto) ? LIBRARY : LEAF;
}

/** Containers the allocation-free first pass visits before giving up. */
const VISIT_BUDGET = 1024;
let budget = 0;
let maybe = false;

/**
 * Encodes every library object in `values`, at the top level or nested in
 * arrays and plain objects (prototype `Object.prototype` or `null`), Map
 * values and Set members; returns `undefined`, allocating nothing, when there
 * is none. Handles cycles and shared references: a library object met twice
 * is encoded once, and its one marker appears at each of its paths.
 *
 * @throws {TypeError} If a class's `encode` refuses (a pipe end passed
 *   already); library objects encoded before it are lost.
 */
export function encodeValues(
  values: readonly unknown[],
): WireEncoded | undefined {
  return holds(values) ? encodeGraph(values) : undefined;
}

/** Whether `values` hold a library object, allocating only for big or cyclic graphs. */
function holds(values: readonly unknown[]): boolean {
  if (classes.size === 0) return false; // no instance can exist
  budget = VISIT_BUDGET;
  maybe = false;
  for (let i = 0; i < values.length && !maybe; i++) {
    const value = values[i];
    if (typeof value === "object" && value !== null) scan(i, value);
  }
  return maybe && (budget >= 0 || holdsWalk(values));
}

/**
 * The first pass: recursive, without a visited set, so allocation-free;
 * sets `maybe` when it finds a library object or runs out of budget (a big
 * graph, or a cycle).
 */
function scan(_key: unknown, value: object): void {
  if (maybe) return;
  const kind = kindOf(value);
  if (kind === LIBRARY || (kind !== LEAF && --budget < 0)) maybe = true;
  else if (kind !== LEAF) forEachSlot(value, kind, scan);
}

/** Calls `fn` with the key and item of each slot the walker descends into. */
function forEachSlot(
  value: object,
  kind: number,
  fn: (key: string | number, item: object) => void,
): void {
  if (kind === ARRAY) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (typeof item === "object" && item !== null) fn(i, item);
    }
  } else if (kind === OBJECT) {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) fn(key, item);
    }
  } else if (kind === MAP || kind === SET) {
    let i = 0;
    const items = kind === MAP
      ? (value as Map<unknown, unknown>).values()
      : (value as Set<unknown>).values();
    for (const item of items) {
      if (typeof item === "object" && item !== null) fn(i, item);
      i++;
    }
  }
}

/** The second pass, for graphs over budget: a walk with a visited set. */
function holdsWalk(values: readonly unknown[]): boolean {
  const seen = new Set<object>();
  const stack: object[] = [values];
  const push = (_key: unknown, item: object) => stack.push(item);
  while (stack.length > 0) {
    const value = stack.pop() as object;
    const kind = kindOf(value);
    if (kind === LIBRARY) return true;
    if (kind === LEAF || seen.has(value)) continue;
    seen.add(value);
    forEachSlot(value, kind, push);
  }
  return false;
}

/** A container of the graph `encodeGraph` builds. */
interface Node {
  value: object;
  kind: number;
  parent: Node | undefined;
  key: string | number;
  /** Pairs of key and child container, for every slot holding one. */
  children: (string | number | Node)[];
  /** Pairs of key and library object. */
  libraries: (string | number | object)[];
  /** The containers with a slot holding this one. */
  holders: Node[];
  copy: object | undefined;
}

/**
 * The third pass, once a library object is (likely) there: builds the graph
 * of containers, copies those from which a library object can be reached
 * (through cycles and shared references too), puts markers in the copies.
 */
function encodeGraph(values: readonly unknown[]): WireEncoded | undefined {
  const nodes = new Map<object, Node>();
  const node = (
    value: object,
    kind: number,
    parent?: Node,
    key: string | number = 0,
  ) => {
    const made: Node = {
      value,
      kind,
      parent,
      key,
      children: [],
      libraries: [],
      holders: [],
      copy: undefined,
    };
    nodes.set(value, made);
    return made;
  };
  const root = node(values, ARRAY);
  const stack = [root];
  const holding: Node[] = [];
  while (stack.length > 0) {
    const current = stack.pop() as Node;
    forEachSlot(current.value, current.kind, (key, item) => {
      const kind = kindOf(item);
      if (kind === LIBRARY) {
        current.libraries.push(key, item);
      } else if (kind !== LEAF) {
        let child = nodes.get(item);
        if (child === undefined) {
          child = node(item, kind, current, key);
          stack.push(child);
        }
        current.children.push(key, child);
        child.holders.push(current);
      }
    });
    if (current.libraries.length > 0) holding.push(current);
  }
  if (holding.length === 0) return undefined;
  // Copy every container from which a library object can be reached.
  const copied: Node[] = [];
  for (const held of holding) {
    const reach = [held];
    while (reach.length > 0) {
      const at = reach.pop() as Node;
      if (at.copy !== undefined) continue;
      at.copy = shallowCopy(at.value, at.kind);
      copied.push(at);
      for (const holder of at.holders) reach.push(holder);
    }
  }
  const markers = new Map<object, WireMarker>();
  const transfer: Transferable[] = [];
  const paths: WirePath[] = [];
  for (const current of copied) {
    const copy = current.copy as object;
    const { children, libraries } = current;
    for (let i = 0; i < children.length; i += 2) {
      const child = children[i + 1] as Node;
      if (child.copy !== undefined) {
        setSlot(copy, current.kind, children[i] as string, child.copy);
      }
    }
    for (let i = 0; i < libraries.length; i += 2) {
      const key = libraries[i] as string | number;
      const library = libraries[i + 1] as object;
      let marker = markers.get(library);
      if (marker === undefined) {
        const wire = classes.get(Object.getPrototypeOf(library)) as WireClass;
        const form = wire.encode(library);
        if (form.transfer !== undefined) transfer.push(...form.transfer);
        marker = { $seedWire: wire.type, data: form.data };
        markers.set(library, marker);
      }
      setSlot(copy, current.kind, key, marker);
      paths.push(pathOf(current, key));
    }
  }
  return { values: root.copy as unknown[], transfer, paths };
}

function pathOf(node: Node, key: string | number): WirePath {
  const path = [key];
  for (let at = node; at.parent !== undefined; at = at.parent) {
    path.push(at.key);
  }
  return path.reverse();
}

function shallowCopy(value: object, kind: number): object {
  switch (kind) {
    case ARRAY:
      return (value as unknown[]).slice();
    case MAP:
      return new Map(value as Map<unknown, unknown>);
    case SET:
      return new Set(value as Set<unknown>);
  }
  const copy = Object.create(Object.getPrototypeOf(value));
  for (const key of Object.keys(value)) {
    setOwn(copy, key, (value as Record<string, unknown>)[key]);
  }
  return copy;
}

/** Sets a slot by key (array, object) or position (Map value, Set member). */
function setSlot(
  container: object,
  kind: number,
  key: string | number,
  item: unknown,
): void {
  if (kind === MAP) {
    const map = container as Map<unknown, unknown>;
    let i = 0;
    for (const entryKey of map.keys()) {
      if (i++ === key) return void map.set(entryKey, item);
    }
  } else if (kind === SET) {
    const set = container as Set<unknown>;
    const members = [...set];
    members[key as number] = item;
    set.clear();
    for (const member of members) set.add(member);
  } else {
    setOwn(container, key, item);
  }
}

/** Sets an own data property, even one named `__proto__`. */
function setOwn(target: object, key: string | number, item: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value: item,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else (target as Record<string | number, unknown>)[key] = item;
}

/** `[0].a[1]["odd key"]`, for messages. */
export function formatPath(path: WirePath): string {
  return path.map((key) =>
    typeof key === "number"
      ? `[${key}]`
      : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `.${key}`
      : `[${JSON.stringify(key)}]`
  ).join("");
}

// ---- reviving -------------------------------------------------------------

/**
 * The reviver registered for `type` in this thread, if any (for a library
 * type, `_wire_revive.ts` then loads its module).
 */
export function reviverOf(
  type: string,
): ((data: unknown) => unknown) | undefined {
  return revivers.get(type);
}

/** What {@linkcode getSlot} returns for a slot the encoder would not use. */
export const NO_SLOT: unique symbol = Symbol("no slot");

/**
 * Reads slot `key` of a received container: an array index, a plain
 * object's own key, or the position of a Map value or Set member.
 */
export function getSlot(container: unknown, key: unknown): unknown {
  if (typeof container !== "object" || container === null) return NO_SLOT;
  const kind = kindOf(container);
  if (kind === OBJECT) {
    return typeof key === "string" && Object.hasOwn(container, key)
      ? (container as Record<string, unknown>)[key]
      : NO_SLOT;
  }
  if (typeof key !== "number" || !Number.isInteger(key) || key < 0) {
    return NO_SLOT;
  }
  if (kind === ARRAY) {
    const array = container as unknown[];
    return key < array.length ? array[key] : NO_SLOT;
  }
  if (kind === MAP || kind === SET) {
    let i = 0;
    const items = kind === MAP
      ? (container as Map<unknown, unknown>).values()
      : (container as Set<unknown>).values();
    for (const item of items) if (i++ === key) return item;
  }
  return NO_SLOT;
}

/** Puts `item` in slot `key` of a container {@linkcode getSlot} read. */
export function putSlot(
  container: object,
  key: string | number,
  item: unknown,
): void {
  setSlot(container, kindOf(container), key, item);
}
