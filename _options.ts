// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: checking a pool's options once, up front, with errors that say
 * what was wrong and what to do.
 *
 * @module
 */

import { assertSandboxSupported, parsePermissions } from "./_sandbox.ts";
import type { SchedulerConfig } from "./_scheduler.ts";
import { describe } from "./errors/_describe.ts";
import type {
  WorkerPoolIMapOptions,
  WorkerPoolMapOptions,
  WorkerPoolOptions,
} from "./pool.ts";
import { labelOf } from "./_fn_table.ts";
import type { Isolation, WorkerSpec } from "./_worker_handle.ts";
import type { IMapConfig } from "./_imap.ts";
import type { MapConfig, MapProgress } from "./_map.ts";

const DEFAULT_NAME = "@seed/concurrency pool";
/**
 * A thread's bootstrap: `_worker.ts` bundled by `tools/bundle_worker.ts`, so
 * a start loads one module instead of 19 (about 3 ms less). A sandboxed
 * worker loads the sources (`_worker_sandbox.ts`): its entry seals the
 * permissions before the bootstrap.
 */
const WORKER_URL = new URL("./_worker_bundle.js", import.meta.url).href;
const SANDBOX_WORKER_URL = new URL("./_worker_sandbox.ts", import.meta.url)
  .href;

/** The longest delay a timer takes: longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Whether `value` is a plain object (not a class instance). */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that option `name` is a number at all (its range is checked
 * apart, with a `RangeError`).
 *
 * @throws {TypeError} If it is not, naming what it was for.
 */
function assertNumber(
  what: string,
  name: string,
  value: unknown,
  noun = "a number",
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what} as '${name}' must be ${noun}: received ${
        describe(value)
      }`,
    );
  }
}

/**
 * Checks a count: a positive integer (or `Infinity` where allowed).
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is not a positive integer.
 */
export function positiveInteger(
  name: string,
  value: unknown,
  allowInfinity = false,
  what = "create pool",
): number {
  assertNumber(what, name, value);
  if (
    !(Number.isInteger(value) || (allowInfinity && value === Infinity)) ||
    value < 1
  ) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a positive integer${
        allowInfinity ? " or Infinity" : ""
      }: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks a duration in milliseconds: from 0 to 2^31-1 (what a timer can
 * wait), or `Infinity` for never.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is out of range.
 */
export function duration(name: string, value: unknown): number {
  assertNumber("create pool", name, value, "a number of milliseconds");
  if (
    Number.isNaN(value) || value < 0 ||
    (value > MAX_TIMER_MS && value !== Infinity)
  ) {
    throw new RangeError(
      `Cannot create pool as '${name}' must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, or Infinity: received ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * Checks the task module's URL.
 *
 * @throws {TypeError} If it is not an absolute URL.
 */
export function moduleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href;
  try {
    return new URL(module).href;
  } catch {
    throw new TypeError(
      `Cannot create pool as the task module must be an absolute URL: received ${
        JSON.stringify(module)
      }; use new URL("${module}", import.meta.url)`,
    );
  }
}

/**
 * Checks the arguments of `new WorkerPool(...)` and builds the scheduler's
 * configuration. A sandboxed pool (any `permissions` but `"inherit"`) starts
 * its workers from a small blob module (restricted workers cannot `import()`
 * local files, but static imports of their entry load) that imports the
 * sandbox bootstrap first, which seals the worker, then the task module.
 *
 * @returns The configuration, and the blob's URL to revoke once closed.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If a number is out of range.
 * @throws {Error} If a sandbox cannot be had here (see `_sandbox.ts`).
 */
export function parsePoolArguments(
  moduleOrOptions: URL | string | WorkerPoolOptions | undefined,
  maybeOptions: WorkerPoolOptions | undefined,
): { config: SchedulerConfig; blobUrl: string | undefined } {
  let url: string | null = null;
  let options: WorkerPoolOptions;
  if (typeof moduleOrOptions === "string" || moduleOrOptions instanceof URL) {
    url = moduleUrl(moduleOrOptions);
    options = maybeOptions ?? {};
  } else if (moduleOrOptions === undefined || isPlainObject(moduleOrOptions)) {
    options = moduleOrOptions ?? {};
  } else {
    throw new TypeError(
      `Cannot create pool as the first argument must be a task module URL or an options object: received ${
        describe(moduleOrOptions)
      }`,
    );
  }
  const config: Omit<SchedulerConfig, "spec"> = {
    size: positiveInteger(
      "size",
      options.size ?? navigator.hardwareConcurrency ?? 1,
    ),
    minSize: 0,
    maxQueue: positiveInteger("maxQueue", options.maxQueue ?? Infinity, true),
    maxTasksPerWorker: positiveInteger(
      "maxTasksPerWorker",
      options.maxTasksPerWorker ?? Infinity,
      true,
    ),
    idleTimeoutMs: duration("idleTimeoutMs", options.idleTimeoutMs ?? 1_000),
    abortGraceMs: duration("abortGraceMs", options.abortGraceMs ?? 1_000),
    startTimeoutMs: duration(
      "startTimeoutMs",
      options.startTimeoutMs ?? 30_000,
    ),
  };
  if (options.minSize !== undefined) {
    const minSize: unknown = options.minSize;
    assertNumber("create pool", "minSize", minSize);
    if (
      !Number.isInteger(minSize) ||
      minSize < 0 || minSize > config.size
    ) {
      throw new RangeError(
        `Cannot create pool as 'minSize' must be an integer from 0 to 'size' (${config.size}): received ${
          describe(minSize)
        }`,
      );
    }
    config.minSize = minSize;
  }
  const isolation = parseIsolation(options.isolation);
  const maxMemoryMb = parseMaxMemory(options.maxMemoryMb, isolation);
  const permissions = parsePermissions(options.permissions);
  let blobUrl: string | undefined;
  // A process gets its permissions as command-line flags (`_proc_args.ts`).
  if (permissions !== undefined && isolation === "thread") {
    assertSandboxSupported(permissions);
    const source =
      `import { startWorker } from ${JSON.stringify(SANDBOX_WORKER_URL)};\n` +
      (url === null
        ? "startWorker({});\n"
        : `import * as tasks from ${
          JSON.stringify(url)
        };\nstartWorker(tasks);\n`);
    blobUrl = URL.createObjectURL(
      new Blob([source], { type: "text/javascript" }),
    );
  }
  const spec: WorkerSpec = {
    isolation,
    entryUrl: blobUrl ?? WORKER_URL,
    moduleUrl: url,
    permissions,
    name: options.name ?? DEFAULT_NAME,
    staticEntry: blobUrl !== undefined,
    maxMemoryMb,
  };
  return { config: { ...config, spec }, blobUrl };
}

function parseIsolation(value: unknown): Isolation {
  if (value === undefined || value === "thread") return "thread";
  if (value === "process") return value;
  throw new TypeError(
    `Cannot create pool as 'isolation' must be "thread" or "process": received ${
      describe(value)
    }`,
  );
}

function parseMaxMemory(
  value: unknown,
  isolation: Isolation,
): number | undefined {
  if (value === undefined) return undefined;
  assertNumber("create pool", "maxMemoryMb", value);
  if (isolation !== "process") {
    throw new TypeError(
      "Cannot create pool as 'maxMemoryMb' needs isolation: \"process\" (Deno cannot limit the heap of a worker thread)",
    );
  }
  if (!Number.isInteger(value) || value < 1 || value > 1 << 20) {
    throw new RangeError(
      `Cannot create pool as 'maxMemoryMb' must be an integer from 1 to 1048576: received ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * `value`, if it is a function or undefined.
 *
 * @throws {TypeError} Otherwise, naming `method` and the option.
 */
export function checkFunction<F>(
  method: string,
  name: string,
  value: F | undefined,
): F | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new TypeError(
    `Cannot ${method} as '${name}' must be a function: received ${
      describe(value)
    }`,
  );
}

/** Whether `value` is an async iterable. */
export function isAsyncIterable(
  value: unknown,
): value is AsyncIterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
      "function";
}

/**
 * Checks the arguments of `map` or `starmap` (`label`) of `task`.
 *
 * @throws {TypeError} If `items` is not iterable, or an option has the
 *   wrong type.
 * @throws {RangeError} If `chunkSize` is not a positive integer.
 * @throws {unknown} `signal.reason`, if it has aborted.
 */
export function parseMapArguments(
  label: "map" | "starmap",
  task: unknown,
  items: Iterable<unknown>,
  options: WorkerPoolMapOptions<never>,
): { array: unknown[]; config: MapConfig } {
  if (
    items === null || items === undefined ||
    typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `Cannot ${label} ${labelOf(task)} as 'items' is not iterable: received ${
        describe(items)
      }${
        isAsyncIterable(items)
          ? " (an async iterable: use imap() for those)"
          : ""
      }`,
    );
  }
  const { signal } = options;
  signal?.throwIfAborted();
  return {
    array: Array.isArray(items) ? items : Array.from(items),
    config: {
      chunkSize: options.chunkSize === undefined
        ? undefined
        : positiveInteger("chunkSize", options.chunkSize, false, label),
      signal,
      star: label === "starmap",
      transfer: checkFunction(label, "transfer", options.transfer),
      onProgress: checkFunction(label, "onProgress", options.onProgress) as
        | MapProgress
        | undefined,
      label: `${label} ${labelOf(task)}`,
    },
  };
}

/**
 * Checks the arguments of `imap` or `imapUnordered` (`label`) of `task` on
 * a pool of `size` workers.
 *
 * @throws {TypeError} If `items` is neither iterable nor async iterable, or
 *   an option has the wrong type.
 * @throws {RangeError} If `chunkSize` or `maxInFlight` is not a positive
 *   integer.
 * @throws {unknown} `signal.reason`, if it has aborted.
 */
export function parseIMapArguments(
  label: "imap" | "imapUnordered",
  task: unknown,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  options: WorkerPoolIMapOptions<never>,
  size: number,
): {
  source: Iterator<unknown> | AsyncIterator<unknown>;
  isAsync: boolean;
  config: IMapConfig;
} {
  let source: Iterator<unknown> | AsyncIterator<unknown>;
  const isAsync = isAsyncIterable(items);
  if (isAsync) {
    source = items[Symbol.asyncIterator]();
  } else if (
    items !== null && items !== undefined &&
    typeof (items as Iterable<unknown>)[Symbol.iterator] === "function"
  ) {
    source = (items as Iterable<unknown>)[Symbol.iterator]();
  } else {
    throw new TypeError(
      `Cannot ${label} ${
        labelOf(task)
      } as 'items' is not iterable or async iterable: received ${
        describe(items)
      }`,
    );
  }
  const config: IMapConfig = {
    fixedChunk: options.chunkSize === undefined
      ? undefined
      : positiveInteger("chunkSize", options.chunkSize, false, label),
    maxInFlight: options.maxInFlight === undefined
      ? size * 2
      : positiveInteger("maxInFlight", options.maxInFlight, false, label),
    signal: options.signal,
    ordered: label === "imap",
    label: `${label} of ${labelOf(task)}`,
    star: false,
    transfer: checkFunction(label, "transfer", options.transfer),
    onProgress: checkFunction(label, "onProgress", options.onProgress),
    total: Array.isArray(items) ? items.length : undefined,
  };
  options.signal?.throwIfAborted();
  return { source, isAsync, config };
}
