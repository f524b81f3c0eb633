// Copyright the @seed/concurrency authors. MIT license.
// Internal: the code that runs inside every pool worker. It loads the task
// module, runs tasks one at a time in the order they arrive, batches results,
// and reports its own death (uncaught errors, unhandled rejections,
// `self.close()`, `Deno.exit()`) before it happens. See `_protocol.ts`.

import { serializeError } from "./errors/serialize_error.ts";
import { Deque } from "./_deque.ts";
import {
  ABORT,
  CTRL_ANSWER_ID,
  CTRL_ANSWER_RUN_US,
  CTRL_EPOCH,
  CTRL_FAST_FN,
  CTRL_FAST_ID,
  CTRL_RING,
  CTRL_RING_SIZE,
  CTRL_RUNNING,
  CTRL_SEEN,
  CTRL_TAKEN,
  CURRENT_TASK,
  ERROR,
  FATAL,
  FN_SOURCE,
  INIT,
  LOAD_ERROR,
  MODE_CHUNK,
  MODE_F64,
  MODE_FAST,
  MODE_WIRE,
  OK,
  READY,
  RESULT_FIELDS,
  RESULTS,
  SKIPPED,
  TASK_FIELDS,
  TASKS,
} from "./_protocol.ts";
import {
  deserializeError,
  type SerializedError,
} from "./errors/serialize_error.ts";
import { isWireable, reviveAll, toWire } from "./_wire.ts";
import type { TaskContext } from "./task.ts";
import { describe } from "./errors/_describe.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

interface LocksLike {
  request(name: string, callback: () => Promise<unknown>): Promise<unknown>;
}

const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
};

const kTransfer = Symbol.for("@seed/concurrency/transfer");
const MAX_BATCH_MS = 1;
const MAX_BATCH_RESULTS = 4096;

let ctrl: Int32Array = new Int32Array(4);
let moduleUrl: string | null = null;
let tasks: Record<string, unknown> | null = null;
let dead = false;

const fns = new Map<number, AnyFunction | Error>();
const fnLabels = new Map<number, string>();
const fnInline = new Set<number>();
const batches = new Deque<unknown[]>();
/** Where the next task record starts in the first TASKS message. */
let cursor = 2;
let running = false;

let seenEpoch = 0;
const cancelled = new Set<number>();
/** Queue places (seqs) of tasks the pool took back to run elsewhere. */
const stolen = new Set<number>();
let taken = 0;
let currentReason: unknown = undefined;

/** The next RESULTS message: [RESULTS, (id, status, value, runTimeMs)...]. */
let outbox: unknown[] = [RESULTS];
let outboxTransfer: Transferable[] = [];
let outboxMeta: number[] = [];
let outboxSince = 0;

let currentId = 0;
let controller: AbortController | undefined;

function refreshCancels(): void {
  const epoch = Atomics.load(ctrl, CTRL_EPOCH);
  let from = seenEpoch;
  if (epoch - from > CTRL_RING_SIZE) from = epoch - CTRL_RING_SIZE;
  for (let n = from; n < epoch; n++) {
    const mark = Atomics.load(ctrl, CTRL_RING + (n % CTRL_RING_SIZE));
    if (mark >= 0) cancelled.add(mark);
    // A taken-back record, by its place in this worker's queue (a task can be
    // here twice: taken back, then given back to this worker).
    // (Marks for records already started come from steals that lost the
    // race; they are dropped. The record being started now counts.)
    else if (-mark - 1 >= taken - 1) stolen.add(-mark - 1);
  }
  seenEpoch = epoch;
  Atomics.store(ctrl, CTRL_SEEN, epoch);
}

function isCancelled(id: number): boolean {
  if (Atomics.load(ctrl, CTRL_EPOCH) !== seenEpoch) refreshCancels();
  return cancelled.has(id);
}

function abortReason(): unknown {
  return currentReason ??
    new DOMException("The task was cancelled", "AbortError");
}

const context: TaskContext = {
  get id() {
    return currentId;
  },
  get signal() {
    if (controller === undefined) {
      controller = new AbortController();
      if (isCancelled(currentId)) controller.abort(abortReason());
    }
    return controller.signal;
  },
  get aborted() {
    return currentId !== 0 && isCancelled(currentId);
  },
  throwIfAborted() {
    if (currentId !== 0 && isCancelled(currentId)) {
      throw abortReason();
    }
  },
};

(globalThis as Record<symbol, unknown>)[CURRENT_TASK] = () =>
  currentId === 0 ? undefined : context;

function post(message: unknown[], transfer?: Transferable[]): void {
  if (dead) return;
  // An empty transfer list still costs Deno about a microsecond.
  if (transfer === undefined || transfer.length === 0) {
    scope.postMessage(message);
  } else scope.postMessage(message, transfer);
}

function die(reason: unknown, close: () => void): void {
  if (dead) return;
  flush();
  post([FATAL, serializeError(reason)]);
  dead = true;
  close();
}

// ---- functions -------------------------------------------------------------

function compile(source: string): AnyFunction {
  let value: unknown;
  try {
    value = (0, eval)(`(${source}\n)`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Method shorthand, such as `square(x) { return x * x; }`.
    const holder = (0, eval)(`({${source}\n})`) as Record<string, unknown>;
    value = Object.values(holder)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError(
      "Cannot run the inline task as its source does not evaluate to a function",
    );
  }
  return value as AnyFunction;
}

function define(fnId: number, kind: number, text: string): void {
  if (kind === FN_SOURCE) {
    fnInline.add(fnId);
    try {
      const fn = compile(text);
      fns.set(fnId, fn);
      fnLabels.set(
        fnId,
        fn.name ? `inline function "${fn.name}"` : "inline function",
      );
    } catch (error) {
      fns.set(fnId, error as Error);
      fnLabels.set(fnId, "inline function");
    }
    return;
  }
  fnLabels.set(fnId, `"${text}"`);
  const value = tasks?.[text];
  if (typeof value === "function") {
    fns.set(fnId, value as AnyFunction);
    return;
  }
  const names = Object.keys(tasks ?? {}).filter((name) =>
    typeof tasks?.[name] === "function"
  );
  fns.set(
    fnId,
    new TypeError(
      `Cannot run task "${text}" as the task module ${moduleUrl ?? ""} ${
        value === undefined
          ? "does not export it"
          : "exports it, but not as a function"
      }: its tasks are ${names.length ? names.join(", ") : "(none)"}`,
    ),
  );
}

function explain(error: unknown, fnId: number): unknown {
  if (fnInline.has(fnId) && error instanceof ReferenceError) {
    const match = /^(\S+) is not defined$/.exec(error.message);
    if (match !== null && !((match[1] as string) in globalThis)) {
      return new ReferenceError(
        `The ${fnLabels.get(fnId)} uses "${
          match[1]
        }" from an enclosing scope, which a worker cannot see: pass it as an argument or move the function into a task module`,
        { cause: error },
      );
    }
  }
  return error;
}

// ---- results ---------------------------------------------------------------

function unwrap(value: unknown): unknown {
  if (typeof value === "object" && value !== null) {
    if ((value as Record<symbol, unknown>)[kTransfer] === true) {
      const wrapped = value as { value: unknown; transfer: Transferable[] };
      outboxTransfer.push(...wrapped.transfer);
      return unwrap(wrapped.value);
    }
    if (isWireable(value)) return toWire(value, outboxTransfer);
  }
  return value;
}

function pushResult(
  id: number,
  status: number,
  value: unknown,
  runTimeMs: number,
  fnId: number,
  mode: number,
  startedAt?: number,
): void {
  if (outbox.length === 1) outboxSince = startedAt ?? performance.now();
  outbox.push(id, status, value, runTimeMs);
  outboxMeta.push(fnId, mode);
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === "number" || type === "string" || type === "boolean";
}

function flush(): void {
  if (outbox.length === 1) return;
  if (
    outbox.length === 1 + RESULT_FIELDS && outbox[2] === OK &&
    ((outboxMeta[1] as number) & MODE_FAST) !== 0 &&
    outboxTransfer.length === 0 && isPrimitive(outbox[3])
  ) {
    // The fast path (see _protocol.ts): the bare result.
    Atomics.store(ctrl, CTRL_ANSWER_ID, outbox[1] as number);
    Atomics.store(
      ctrl,
      CTRL_ANSWER_RUN_US,
      Math.min(0x7fffffff, Math.round((outbox[4] as number) * 1000)),
    );
    const value = outbox[3];
    outbox.length = 1;
    outboxMeta.length = 0;
    post(value as unknown[]);
    return;
  }
  const results = outbox;
  const meta = outboxMeta;
  const transfer = outboxTransfer;
  outbox = [RESULTS];
  outboxMeta = [];
  outboxTransfer = [];
  try {
    post(results, transfer);
  } catch {
    // Some result cannot be cloned: find which, and fail those tasks alone.
    for (let i = 1, m = 0; i < results.length; i += RESULT_FIELDS, m += 2) {
      const cause = cloneError(results[i + 2]);
      if (cause === undefined) continue;
      const fnId = meta[m] as number;
      const what = ((meta[m + 1] as number) & MODE_CHUNK) !== 0
        ? chunkProblem(fnId, results[i + 2] as unknown[])
        : `the result of task ${fnLabels.get(fnId)} (${
          describe(results[i + 2])
        })`;
      results[i + 1] = ERROR;
      results[i + 2] = serializeError(
        new TypeError(`Cannot send ${what} back to the caller`, { cause }),
      );
    }
    post(results, transfer);
  }
}

function cloneError(value: unknown): unknown {
  try {
    structuredClone(value);
    return undefined;
  } catch (error) {
    return error;
  }
}

function chunkProblem(fnId: number, out: unknown[]): string {
  for (let i = 0; i < out.length; i++) {
    if (cloneError(out[i]) !== undefined) {
      return `the result for item ${i} of a chunk of task ${
        fnLabels.get(fnId)
      } (${describe(out[i])})`;
    }
  }
  return `a result of task ${fnLabels.get(fnId)}`;
}

// ---- the run loop ----------------------------------------------------------

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null && typeof (value as { then?: unknown }).then === "function";
}

async function runChunk(fn: AnyFunction, items: unknown[]): Promise<unknown[]> {
  const out = items.slice();
  for (let i = 0; i < items.length; i++) {
    let value = fn.call(context, items[i]);
    if (isThenable(value)) value = await value;
    out[i] = value;
  }
  return out;
}

function runChunkSync(
  fn: AnyFunction,
  items: unknown[],
): unknown[] | Promise<unknown[]> {
  // A copy of the items, overwritten: a packed array. `new Array(n)` is holey,
  // and above about 100,000 elements V8 makes it a dictionary, which costs
  // five times more to clone.
  const out = items.slice();
  for (let i = 0; i < items.length; i++) {
    const value = fn.call(context, items[i]);
    if (isThenable(value)) {
      // Switch to the async path for this item and the rest.
      return (async () => {
        out[i] = await value;
        const rest = await runChunk(fn, items.slice(i + 1));
        for (let j = 0; j < rest.length; j++) out[i + 1 + j] = rest[j];
        return out;
      })();
    }
    out[i] = value;
  }
  return out;
}

/** Runs a chunk of numbers; see MODE_F64. */
function runChunkF64(
  fn: AnyFunction,
  items: Float64Array,
): Float64Array | unknown[] | Promise<unknown[]> {
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const value = fn.call(context, items[i]);
    if (typeof value === "number") {
      out[i] = value;
      continue;
    }
    // Not every result is a number: go on as a plain array, in order.
    const head: unknown[] = Array.from(out.subarray(0, i));
    const rest = Array.from(items.subarray(i + 1));
    const append = (tail: unknown[]) => {
      for (let j = 0; j < tail.length; j++) head.push(tail[j]);
      return head;
    };
    if (isThenable(value)) {
      return (async () => {
        head.push(await value);
        return append(await runChunk(fn, rest));
      })();
    }
    head.push(value);
    const tail = runChunkSync(fn, rest);
    return isThenable(tail) ? tail.then(append) : append(tail as unknown[]);
  }
  return out;
}

async function runLoop(): Promise<void> {
  running = true;
  while (batches.length > 0) {
    const batch = batches.peek() as unknown[];
    const id = batch[cursor] as number;
    const fnId = batch[cursor + 1] as number;
    const payload = batch[cursor + 2] as unknown[];
    const mode = batch[cursor + 3] as number;
    cursor += TASK_FIELDS;
    if (cursor >= batch.length) {
      batches.shift();
      cursor = 2;
    }
    const seq = taken;
    Atomics.store(ctrl, CTRL_TAKEN, ++taken);
    Atomics.store(ctrl, CTRL_RUNNING, id);
    if (Atomics.load(ctrl, CTRL_EPOCH) !== seenEpoch) refreshCancels();
    if (stolen.size > 64) {
      for (const old of stolen) if (old < seq) stolen.delete(old);
    }
    if (stolen.size > 0 && stolen.delete(seq)) {
      Atomics.store(ctrl, CTRL_RUNNING, 0);
      cancelled.delete(id);
      pushResult(id, SKIPPED, undefined, 0, fnId, mode);
      continue;
    }
    if (cancelled.size > 0 && cancelled.delete(id)) {
      Atomics.store(ctrl, CTRL_RUNNING, 0);
      pushResult(id, SKIPPED, undefined, 0, fnId, mode);
      continue;
    }
    currentId = id;
    controller = undefined;
    currentReason = undefined;
    const start = performance.now();
    let status = OK;
    let value: unknown;
    try {
      const fn = fns.get(fnId);
      if (fn === undefined) {
        throw new Error(`Internal error: function ${fnId} was not defined`);
      }
      if (fn instanceof Error) throw fn;
      if ((mode & MODE_WIRE) !== 0) {
        flush();
        await reviveAll(payload);
      }
      value = (mode & MODE_CHUNK) === 0
        ? fn.apply(context, payload)
        : (mode & MODE_F64) !== 0
        ? runChunkF64(fn, payload as unknown as Float64Array)
        : runChunkSync(fn, payload);
      if (isThenable(value)) {
        flush();
        value = await value;
      }
      if ((mode & MODE_CHUNK) === 0) {
        value = unwrap(value);
      } else if (value instanceof Float64Array) {
        outboxTransfer.push(value.buffer as ArrayBuffer);
      }
    } catch (error) {
      status = ERROR;
      value = serializeError(explain(error, fnId));
    }
    Atomics.store(ctrl, CTRL_RUNNING, 0);
    currentId = 0;
    if (cancelled.size > 0) cancelled.delete(id);
    const end = performance.now();
    pushResult(id, status, value, end - start, fnId, mode, start);
    // Results of short tasks travel together; a result that took a while, or
    // one that waited a while for company, goes at once.
    if (
      end - outboxSince >= MAX_BATCH_MS ||
      outbox.length > MAX_BATCH_RESULTS * RESULT_FIELDS
    ) {
      flush();
    }
  }
  flush();
  running = false;
}

// ---- messages and lifecycle -----------------------------------------------

async function init(message: unknown[]): Promise<void> {
  moduleUrl = message[1] as string | null;
  ctrl = new Int32Array(message[2] as SharedArrayBuffer);
  const lifeline = message[3] as string;
  // Held until this thread ends: the pool learns of any death when it is freed.
  const locks = (navigator as unknown as { locks: LocksLike }).locks;
  await new Promise<void>((held) => {
    locks.request(lifeline, () => {
      held();
      return new Promise(() => {});
    });
  });
  if (tasks === null && moduleUrl !== null) {
    try {
      tasks = await import(moduleUrl);
    } catch (error) {
      post([LOAD_ERROR, serializeError(error)]);
      dead = true;
      originalClose();
      return;
    }
  }
  post([READY]);
}

function onMessage(event: MessageEvent): void {
  const message = event.data as unknown[];
  if (typeof message !== "object") {
    // The fast path (see _protocol.ts): a bare argument.
    batches.push([
      TASKS,
      null,
      Atomics.load(ctrl, CTRL_FAST_ID),
      Atomics.load(ctrl, CTRL_FAST_FN),
      [message],
      MODE_FAST,
    ]);
    if (!running) void runLoop();
    return;
  }
  switch (message[0]) {
    case TASKS: {
      const defs = message[1] as unknown[] | null;
      if (defs !== null) {
        for (let i = 0; i < defs.length; i += 3) {
          define(
            defs[i] as number,
            defs[i + 1] as number,
            defs[i + 2] as string,
          );
        }
      }
      if (message.length > 2) batches.push(message);
      if (!running) void runLoop();
      break;
    }
    case ABORT: {
      const id = message[1] as number;
      if (id === currentId) {
        currentReason = deserializeError(message[2] as SerializedError);
        refreshCancels();
        if (controller !== undefined && !controller.signal.aborted) {
          controller.abort(currentReason);
        }
      }
      break;
    }
    case INIT:
      void init(message);
      break;
  }
}

const originalClose = scope.close.bind(scope);
scope.close = () =>
  die(new Error("The worker called self.close()"), originalClose);
scope.addEventListener("error", (event) => {
  event.preventDefault();
  const e = event as ErrorEvent;
  die(e.error ?? new Error(e.message), originalClose);
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  die((event as PromiseRejectionEvent).reason, originalClose);
});
try {
  const exit = Deno.exit;
  Object.defineProperty(Deno, "exit", {
    configurable: true,
    writable: true,
    value: (code?: number) => {
      die(new Error(`The worker called Deno.exit(${code ?? ""})`), () => {});
      exit(code);
    },
  });
} catch {
  // Deno.exit cannot be wrapped here: the pool still sees the death through
  // the lifeline lock, with a less precise cause.
}
scope.addEventListener("message", onMessage as (event: Event) => void);

/**
 * Starts a worker whose task module was imported statically (workers with
 * restricted permissions cannot import it dynamically).
 */
export function startWorker(module: Record<string, unknown>): void {
  tasks = module;
}
