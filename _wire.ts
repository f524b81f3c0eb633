// Copyright the @seed/concurrency authors. MIT license.
// Internal: how library objects that live over shared memory or ports (shared
// locks, shared values, worker channels) cross the worker boundary as task
// arguments and results.
//
// Such a class implements `[kToWire]()`, returning a type name, a cloneable
// `data` and what to transfer. The receiving side rebuilds the object with the
// reviver registered for the type. Revivers of the library's own classes are
// loaded on first use from `LOADERS`, so a worker only loads what it receives.

/** The method a class implements to cross the worker boundary. */
export const kToWire: unique symbol = Symbol.for("@seed/concurrency/toWire");

/** What `[kToWire]()` returns. */
export interface WireForm {
  type: string;
  data: unknown;
  transfer?: Transferable[];
}

/** An object that can cross the worker boundary. */
export interface Wireable {
  [kToWire](): WireForm;
}

/** The cloned marker that stands for a wireable object in a message. */
export interface WireMarker {
  $seedWire: string;
  data: unknown;
}

const revivers = new Map<string, (data: unknown) => unknown>();

// Static specifiers, so that `deno publish` can see every module a worker may load.
const LOADERS: Record<string, () => Promise<unknown>> = {
  WorkerChannel: () => import("./channels/worker_channel.ts"),
  PipeEnd: () => import("./channels/pipe.ts"),
  SharedLock: () => import("./sync/shared_lock.ts"),
  SharedEvent: () => import("./sync/shared_event.ts"),
  SharedValue: () => import("./sync/shared_value.ts"),
  SharedArray: () => import("./sync/shared_array.ts"),
};

/** Registers how to rebuild objects of `type` on the receiving side. */
export function registerReviver(
  type: string,
  revive: (data: unknown) => unknown,
): void {
  revivers.set(type, revive);
}

/** Registers where a library type's reviver lives, for lazy loading. */
export function registerLoader(
  type: string,
  load: () => Promise<unknown>,
): void {
  LOADERS[type] = load;
}

/** Tells whether a value must be encoded before it is posted. */
export function isWireable(value: unknown): value is Wireable {
  return typeof value === "object" && value !== null && kToWire in value;
}

/** Tells whether a received value is a marker to revive. */
export function isWireMarker(value: unknown): value is WireMarker {
  return typeof value === "object" && value !== null &&
    typeof (value as { $seedWire?: unknown }).$seedWire === "string";
}

/** Encodes one wireable object, appending what it transfers. */
export function toWire(value: Wireable, transfer: Transferable[]): WireMarker {
  const form = value[kToWire]();
  if (form.transfer !== undefined) transfer.push(...form.transfer);
  return { $seedWire: form.type, data: form.data };
}

/**
 * Returns `values` with every top-level wireable replaced by its marker, and
 * what the markers transfer; `undefined` when none is wireable (the common
 * case, which allocates nothing).
 */
export function encodeAll(
  values: readonly unknown[],
): { values: unknown[]; transfer: Transferable[] } | undefined {
  let out: { values: unknown[]; transfer: Transferable[] } | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (isWireable(value)) {
      out ??= { values: values.slice(), transfer: [] };
      out.values[i] = toWire(value, out.transfer);
    }
  }
  return out;
}

/** Rebuilds the object a marker stands for. */
export async function revive(marker: WireMarker): Promise<unknown> {
  let reviver = revivers.get(marker.$seedWire);
  if (reviver === undefined) {
    const load = LOADERS[marker.$seedWire];
    if (load !== undefined) await load();
    reviver = revivers.get(marker.$seedWire);
  }
  if (reviver === undefined) {
    throw new TypeError(
      `Cannot rebuild a received ${marker.$seedWire} as no module registered it: import the module that defines it in the task module`,
    );
  }
  return reviver(marker.data);
}

/** Rebuilds every top-level marker of `values` in place. */
export async function reviveAll(values: unknown[]): Promise<void> {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (isWireMarker(value)) values[i] = await revive(value);
  }
}
