// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the receiving side of `_wire.ts`, with the table of the library's
 * own wire classes, whose modules load on first use so that a worker loads
 * only what it receives. The worker side of the pool and its result path
 * import this module; the classes import only `_wire.ts`, so no module
 * imports this one back.
 *
 * @module
 */

import {
  formatPath,
  getSlot,
  NO_SLOT,
  putSlot,
  reviverOf,
  type WirePath,
} from "./_wire.ts";

// Specifiers the module graph cannot see: a worker starts without reading
// these modules (Deno fetches and parses every statically named dynamic
// import when it loads a worker's graph: about 1.5 ms of each start here),
// and loads one only when it receives one of its objects.
const LOADERS = new Map<string, string>([
  ["WorkerChannel", "./channels/worker_channel.ts"],
  ["PipeEnd", "./channels/pipe.ts"],
  ["SharedLock", "./sync/shared_lock.ts"],
  ["SharedEvent", "./sync/shared_event.ts"],
  ["SharedValue", "./sync/shared_value.ts"],
  ["SharedArray", "./sync/shared_array.ts"],
]);

/**
 * Rebuilds in place the library objects at `paths` of `values` (received from
 * the other side), loading their modules on first use. A marker is
 * recognised ONLY at the given paths, never by shape; one met at several
 * paths (the same object sent twice) is rebuilt once.
 *
 * @throws {TypeError} (rejects) If a path does not lead to a marker (the
 *   other side broke the protocol), or a marker's type is neither the
 *   library's nor registered by a module the task module imports.
 */
export async function reviveValues(
  values: unknown[],
  paths: readonly WirePath[],
): Promise<void> {
  if (!Array.isArray(paths)) {
    throw new TypeError(
      "Cannot revive the received values as their paths are not an array",
    );
  }
  let revived: Map<object, unknown> | undefined;
  for (const path of paths) {
    if (!Array.isArray(path) || path.length === 0) {
      throw new TypeError(
        "Cannot revive the received values as a path is not a non-empty array",
      );
    }
    let container: unknown = values;
    for (let i = 0; i < path.length - 1; i++) {
      container = getSlot(container, path[i]);
    }
    const key = path[path.length - 1];
    const marker = getSlot(container, key);
    if (
      marker === NO_SLOT || typeof marker !== "object" || marker === null ||
      typeof (marker as { $seedWire?: unknown }).$seedWire !== "string"
    ) {
      throw new TypeError(
        `Cannot revive the received value at ${
          formatPath(path)
        } as the path does not lead to a marker`,
      );
    }
    revived ??= new Map();
    let value = revived.get(marker);
    if (value === undefined && !revived.has(marker)) {
      const { $seedWire: type, data } = marker as {
        $seedWire: string;
        data: unknown;
      };
      value = await reviveOne(type, data);
      revived.set(marker, value);
    }
    putSlot(container as object, key, value);
  }
}

async function reviveOne(type: string, data: unknown): Promise<unknown> {
  let reviver = reviverOf(type);
  if (reviver === undefined) {
    const path = LOADERS.get(type);
    if (path !== undefined) await import(new URL(path, import.meta.url).href);
    reviver = reviverOf(type);
  }
  if (reviver === undefined) {
    throw new TypeError(
      `Cannot rebuild a received ${type} as no module registered it: import the module that defines it in the task module`,
    );
  }
  return await reviver(data);
}
