// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the bootstrap of every pool worker. It runs before any task code
 * and:
 * - captures what it needs (the port's `postMessage`, the lock functions in
 *   `_lifeline.ts`, `Atomics` in `_control.ts`), so task code that replaces
 *   globals later cannot reach the pool's channel;
 * - hides the lifelines from `navigator.locks`;
 * - reports the worker's own death before it happens (an uncaught error, an
 *   unhandled rejection, `self.close()`, `Deno.exit()`), results first;
 * - on INIT, holds its lifeline, loads the task module, and serves tasks
 *   over the private port (see `_protocol.ts` and `_worker_run.ts`).
 *
 * Threads load it bundled with the modules it imports, as
 * `_worker_bundle.js` (see `tools/bundle_worker.ts`), one module to load
 * instead of 19: after editing it, or anything it imports, run
 * `deno task bundle` (`deno task test` fails on a stale bundle).
 *
 * @module
 */

import { ControlBlock } from "./_control.ts";
import { DoorbellWorker } from "./_doorbell.ts";
import { hideLifelines, holdLifeline } from "./_lifeline.ts";
import {
  ABORT,
  CURRENT_TASK,
  FATAL,
  INIT,
  LIVE,
  LOAD_ERROR,
  READY,
  TASKS,
  TASKS_NUM,
} from "./_protocol.ts";
import { TASK_WAITING } from "./_task_waiting.ts";
import { FnRegistry } from "./_worker_fns.ts";
import { Runner } from "./_worker_run.ts";
import {
  deserializeError,
  type SerializedError,
  serializeError,
} from "./errors/serialize_error.ts";

const scope = self as unknown as {
  close(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
};
const apply = Reflect.apply;
const bind = Function.prototype.bind;
const portPost = MessagePort.prototype.postMessage;
const originalClose = scope.close.bind(scope);

let port: MessagePort | undefined;
let runner: Runner | undefined;
let door: DoorbellWorker | undefined;
let resolveStatic: (module: Record<string, unknown>) => void = () => {};
const staticModule = new Promise<Record<string, unknown>>((resolve) => {
  resolveStatic = resolve;
});
let dead = false;
const fns = new FnRegistry();

/** The port's own postMessage, bound when INIT brings the port. */
let post: (message: unknown, transfer?: Transferable[]) => void = () => {};

function send(message: unknown, transfer?: Transferable[]): void {
  if (dead) return;
  // An empty transfer list still costs Deno about a microsecond.
  if (transfer === undefined || transfer.length === 0) post(message);
  else post(message, transfer);
}

/** Reports this worker's death, after its pending results, then ends it. */
function die(reason: unknown, end: () => void): void {
  if (dead) return;
  try {
    runner?.flush();
  } catch {
    // Results that cannot go are lost with the worker; the pool fails them.
  }
  send([FATAL, serializeError(reason)]);
  dead = true;
  end();
}

function onPortMessage(event: MessageEvent): void {
  const data = event.data;
  door?.received();
  if (runner === undefined) return;
  if (typeof data !== "object") return runner.receiveFast(data);
  const message = data as unknown[];
  switch (message[0]) {
    case TASKS:
      fns.defineAll(message[1] as unknown[] | null);
      return runner.receive(message);
    case TASKS_NUM:
      fns.defineAll(message[1] as unknown[] | null);
      return runner.receiveNumbers(message[2] as Float64Array);
    case ABORT:
      return runner.abort(
        message[1] as number,
        deserializeError(message[2] as SerializedError),
      );
  }
}

async function init(message: unknown[]): Promise<void> {
  const moduleUrl = message[1] as string | null;
  const control = new ControlBlock(message[2] as SharedArrayBuffer);
  port = message[4] as MessagePort;
  // Bound with functions captured before any task code ran.
  post = apply(bind, portPost, [port]) as typeof post;
  door = new DoorbellWorker(control);
  const active = new Runner(control, send, fns, { door });
  (globalThis as Record<symbol, unknown>)[CURRENT_TASK] = () =>
    active.active ? active.context : undefined;
  (globalThis as Record<symbol, unknown>)[TASK_WAITING] = (delta: number) =>
    control.addWaiting(delta);
  // Held until this thread ends: the pool learns of any death when it is
  // freed.
  await holdLifeline(message[3] as string);
  send([LIVE]);
  let module: Record<string, unknown> | undefined;
  if (message[5] === true) {
    // Imported by the entry (a sandboxed worker): wait for it, in case its
    // top-level await outlasts INIT.
    module = await staticModule;
  } else if (moduleUrl !== null) {
    try {
      module = await import(moduleUrl);
    } catch (error) {
      send([LOAD_ERROR, serializeError(error)]);
      dead = true;
      originalClose();
      return;
    }
  }
  if (module !== undefined) fns.setModule(module, moduleUrl ?? "");
  runner = active;
  port.onmessage = onPortMessage;
  send([READY]);
}

function onInit(event: Event): void {
  const message = (event as MessageEvent).data;
  if (!Array.isArray(message) || message[0] !== INIT) return;
  scope.removeEventListener("message", onInit);
  void init(message);
}

hideLifelines();
scope.close = () =>
  die(new Error("The worker called self.close()"), originalClose);
// Before INIT there is no port to report on: the error then takes its
// default way to the pool, the Worker's `error` event (a task module that
// throws while a sandboxed entry imports it, say).
scope.addEventListener("error", (event) => {
  if (port === undefined) return;
  event.preventDefault();
  const e = event as ErrorEvent;
  die(e.error ?? new Error(e.message), originalClose);
});
scope.addEventListener("unhandledrejection", (event) => {
  if (port === undefined) return;
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
scope.addEventListener("message", onInit);

/**
 * Starts a worker whose task module was imported statically (workers with
 * restricted permissions cannot import it dynamically). The entry imports
 * this module first, so the bootstrap runs before the task module.
 */
export function startWorker(module: Record<string, unknown>): void {
  resolveStatic(module);
}
