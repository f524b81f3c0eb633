// Copyright the @seed/concurrency authors. MIT license.
// A task module for the storm and regression tests of the pool. Every task
// counts its own start (in shared memory with threads, in a file with
// processes: see `Runs`), so a test can tell whether a call ran, and whether
// it ran twice, whatever the pool says.
import { currentTask, transfer } from "../task.ts";

/** Ordinary kinds: they resolve to `expectedValue(index)`. */
export const VALUE_KINDS = [
  "ok",
  "async",
  "slowAsync",
  "slowSync",
  "stubborn",
] as const;
/** Kinds that kill their worker while they run. */
export const CRASH_KINDS = [
  "crashThrow",
  "crashReject",
  "crashClose",
  "crashExit",
  "crashOverflow",
] as const;
/**
 * Kinds that kill their worker process in ways a thread cannot die: a
 * SIGKILL (no last words, results not flushed, as an OOM kill or a native
 * crash would end it). Process mode only: in a thread, the signal would end
 * the whole test.
 */
export const PROCESS_CRASH_KINDS = ["crashKill"] as const;
/**
 * Kinds that attack the pool's protocol from inside a worker thread: its
 * `self.postMessage` and ports, its control block in shared memory, its
 * lifeline Web Locks. Threads only: a process worker has none of these (its
 * channel is a socket the task cannot reopen, its control block is its own).
 */
export const HOSTILE_KINDS = [
  "postString",
  "postForged",
  "postBare",
  "wrapPost",
  "wrapPortPost",
  "patchAtomics",
  "locksSteal",
  "locksHold",
] as const;
/**
 * Kinds that attack a process worker's channel: `garbleChannel` flips the
 * bits of everything the child writes from then on (its own result, later
 * claims and results), so the pool must see a broken frame and retire the
 * worker as crashed. Process mode only (in a thread it touches nothing the
 * pool uses).
 */
export const PROCESS_HOSTILE_KINDS = ["garbleChannel"] as const;
/** Kinds whose result cannot be moved back to the caller. */
export const BAD_RESULT_KINDS = ["badTransfer", "sabTransfer"] as const;

export type ValueKind = (typeof VALUE_KINDS)[number];
export type CrashKind =
  | (typeof CRASH_KINDS)[number]
  | (typeof PROCESS_CRASH_KINDS)[number];
export type HostileKind =
  | (typeof HOSTILE_KINDS)[number]
  | (typeof PROCESS_HOSTILE_KINDS)[number];
export type BadResultKind = (typeof BAD_RESULT_KINDS)[number];
export type Kind =
  | ValueKind
  | CrashKind
  | HostileKind
  | BadResultKind
  | "fail"
  | "block"
  | "spinUntilReleased";

/**
 * Start counters, one per call index: an `Int32Array` in shared memory (one
 * cell per index; threads only, as a process worker cannot be sent shared
 * memory), or the path of a directory where the task of index `i` appends
 * one byte to the file `i` (so the file's size is its count) on every
 * start, which works across processes.
 */
export type Runs = Int32Array | string;

/** One call of {@linkcode step}: which counter it owns and what it does. */
export interface StormItem {
  /** Start counters (see {@linkcode Runs}). */
  runs: Runs;
  /** This call's counter in `runs`; also what its value is derived from. */
  index: number;
  kind: Kind;
  /** How long the slow kinds take, in milliseconds. */
  ms?: number;
  /** `block` and `spinUntilReleased` wait until `gate[0]` is not 0. */
  gate?: Int32Array;
  /** When set, the start order is written here: `order[index] = n`. */
  order?: Int32Array;
}

/** The value a call of index `index` resolves to: wrong values show. */
export function expectedValue(index: number): number {
  return 1_000_000 + index * 7;
}

/** A task's own error, with a field that must survive the trip back. */
export class StormError extends Error {
  override name = "StormError";
  /** The index of the call that threw. */
  index: number;
  constructor(index: number) {
    super(`Storm call ${index} failed on purpose`);
    this.index = index;
  }
}

const never = () => new Promise<never>(() => {});

const ONE_BYTE = new Uint8Array(1);

/** Counts one start of the task of index `index`. */
export function countStart(runs: Runs, index: number): void {
  if (typeof runs === "string") {
    // One write(2) on a file opened with O_APPEND: done before the task does
    // anything else, and kept if its process dies a moment later.
    Deno.writeFileSync(`${runs}/${index}`, ONE_BYTE, {
      append: true,
      create: true,
    });
    return;
  }
  Atomics.add(runs, index, 1);
  Atomics.notify(runs, index);
}

/** How many times the task of index `index` has started. */
export function startsOf(runs: Runs, index: number): number {
  if (typeof runs !== "string") return Atomics.load(runs, index);
  try {
    return Deno.statSync(`${runs}/${index}`).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/**
 * Kinds a fast call can have: a call of {@linkcode stepFast} with one number
 * argument, which takes the pool's fast path and doorbell (see
 * `_doorbell.ts`) when it goes alone to an idle worker thread.
 */
export const FAST_KINDS = [
  "ok",
  "async",
  "fail",
  "slowSync",
  "stubborn",
  "crashThrow",
  "crashReject",
  "crashClose",
  "crashExit",
] as const;
/** The environment variable naming the directory `stepFast` counts in. */
export const FAST_RUNS_ENV = "STORM_FAST_RUNS";
const FAST_CODES = 16;

/** The one number argument of a fast call of index `index`. */
export function encodeFast(
  index: number,
  kind: (typeof FAST_KINDS)[number],
): number {
  return index * FAST_CODES + FAST_KINDS.indexOf(kind);
}

/**
 * {@linkcode step} for a call that carries only a number (see `encodeFast`):
 * it counts its starts in files, in the directory `STORM_FAST_RUNS` names.
 */
export function stepFast(n: number): unknown {
  const runs = Deno.env.get(FAST_RUNS_ENV);
  if (runs === undefined) throw new Error(`${FAST_RUNS_ENV} is not set`);
  const kind = FAST_KINDS[n % FAST_CODES];
  if (kind === undefined) throw new Error(`Not a fast call: ${n}`);
  return step({ runs, index: Math.floor(n / FAST_CODES), kind });
}

/** Runs one storm call: counts its start, then does what its kind says. */
export function step(item: StormItem): unknown {
  const { runs, index } = item;
  countStart(runs, index);
  if (item.order !== undefined) {
    // Cell 0 is the clock; the call's start number goes to its own cell.
    Atomics.store(item.order, index + 1, Atomics.add(item.order, 0, 1) + 1);
  }
  const value = expectedValue(index);
  const ms = item.ms ?? 5;
  switch (item.kind) {
    case "ok":
      return value;
    case "async":
      return new Promise((resolve) => setTimeout(() => resolve(value), 0));
    case "fail":
      throw new StormError(index);
    case "slowAsync":
      return slowAsync(value, ms);
    case "slowSync": {
      const task = currentTask();
      const end = performance.now() + ms;
      while (performance.now() < end) task.throwIfAborted();
      return value;
    }
    case "stubborn": {
      // Ignores its cancellation: its worker may be abandoned.
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // busy
      }
      return value;
    }
    case "block": {
      const gate = item.gate as Int32Array;
      while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0, 20);
      return value;
    }
    case "spinUntilReleased": {
      // Busy, ignoring its cancellation, until the test releases it.
      const gate = item.gate as Int32Array;
      while (Atomics.load(gate, 0) === 0) {
        // busy
      }
      return value;
    }
    case "crashThrow":
      setTimeout(() => {
        throw new RangeError(`Storm call ${index} threw outside any task`);
      });
      return never();
    case "crashReject":
      Promise.reject(new TypeError(`Storm call ${index}: nobody handles this`));
      return never();
    case "crashClose":
      self.close();
      return never();
    case "crashExit":
      Deno.exit(1 + (index % 5));
      return never();
    case "crashOverflow":
      setTimeout(() => recurse(0));
      return never();
    case "crashKill":
      Deno.kill(Deno.pid, "SIGKILL");
      return never();
    case "badTransfer":
      return transfer({ value }, [{} as unknown as Transferable]);
    case "sabTransfer": {
      const shared = new SharedArrayBuffer(8);
      return transfer(shared, [shared as unknown as Transferable]);
    }
    default:
      return hostile(item.kind as HostileKind, value);
  }
}

async function slowAsync(value: number, ms: number): Promise<number> {
  const { signal } = currentTask();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return value;
}

function recurse(depth: number): number {
  return recurse(depth + 1) + 1;
}

// ---- hostile task code -----------------------------------------------------

type Post = (message: unknown, transfer?: Transferable[]) => void;

/** Rewrites anything that looks like a result, so a forwarded result is wrong. */
function rewrite(message: unknown): unknown {
  if (typeof message === "number") return message >= 1_000_000 ? -1 : message;
  if (typeof message !== "object" || message === null) return "forged";
  if (!Array.isArray(message)) return message;
  return message.map((part) =>
    typeof part === "number"
      ? (part >= 1_000_000 ? -1 : part)
      : typeof part === "string"
      ? "forged"
      : part
  );
}

interface Locks {
  query(): Promise<
    { held?: { name?: string }[]; pending?: { name?: string }[] }
  >;
  request(
    name: string,
    options: { steal?: boolean },
    callback: () => unknown,
  ): Promise<unknown>;
}

async function hostile(kind: HostileKind, value: number): Promise<unknown> {
  const scope = self as unknown as { postMessage: Post };
  switch (kind) {
    case "postString":
      scope.postMessage("hello from a task");
      break;
    case "postForged":
      // Results for ids the pool may have given to other callers, and
      // messages of every other type the protocol knows or does not.
      for (let id = 0; id < 64; id++) {
        scope.postMessage([13, id, 0, "forged", 0]);
      }
      for (
        const message of [[10], [11, {}], [12, "x"], [13], null, {}, [99, 1]]
      ) scope.postMessage(message);
      break;
    case "postBare":
      scope.postMessage(value + 1);
      break;
    case "wrapPost": {
      const original = scope.postMessage.bind(scope);
      scope.postMessage = (message, list) => original(rewrite(message), list);
      break;
    }
    case "wrapPortPost": {
      const proto = MessagePort.prototype as unknown as { postMessage: Post };
      const original = proto.postMessage;
      proto.postMessage = function (this: MessagePort, message, list) {
        return original.call(this, rewrite(message), list);
      };
      break;
    }
    case "patchAtomics": {
      const store = Atomics.store;
      (Atomics as { store: unknown }).store = (
        array: Int32Array,
        at: number,
        _v: number,
      ) => store(array, at, 0);
      break;
    }
    case "garbleChannel": {
      // The child writes its channel (fd 3) through node:net's Socket.
      const { Socket } = await import("node:net");
      type Write = (this: unknown, chunk: unknown, ...rest: unknown[]) => void;
      const proto = Socket.prototype as unknown as { write: Write };
      const write = proto.write;
      proto.write = function (chunk, ...rest) {
        const garbled = chunk instanceof Uint8Array
          ? chunk.map((byte) => byte ^ 0x5a)
          : chunk;
        return write.call(this, garbled, ...rest);
      };
      break;
    }
    case "locksSteal":
    case "locksHold": {
      const locks = (navigator as unknown as { locks: Locks }).locks;
      const { held = [], pending = [] } = await locks.query();
      const names = new Set(
        [...held, ...pending].map((lock) => lock.name).filter((name) =>
          name !== undefined
        ) as string[],
      );
      const taken: Promise<unknown>[] = [];
      for (const name of names) {
        const got = new Promise((granted) => {
          locks.request(name, { steal: kind === "locksSteal" }, () => {
            granted(name);
            return never();
          }).catch(granted);
        });
        // A stolen lock is granted at once; a held one only when freed.
        if (kind === "locksSteal") taken.push(got);
      }
      await Promise.all(taken);
      break;
    }
  }
  return value;
}

/** A value of `bytes` length summed at a few places, to check big arguments. */
export function probe(runs: Runs, index: number, bytes: Uint8Array) {
  countStart(runs, index);
  return bytes.byteLength + bytes[0]! + bytes[bytes.byteLength - 1]!;
}
