// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the entry of a process worker, run by the pool as
 * `deno run <flags> _proc_child.ts` (or through a generated entry that
 * imports this module and then the task module, see `startChild`). It:
 *
 * - opens the channel on fd 3 (see `_proc_protocol.ts`) and sends LIVE;
 * - on INIT, loads the task module (a dynamic import of the URL INIT gives,
 *   or the module the generated entry imported statically) and sends READY,
 *   or LOAD_ERROR and exits;
 * - runs the pool's tasks (TASKS, ABORT) with the same `Runner` as a
 *   thread, on a control block of its own (no result ring: every result
 *   goes in a message), claiming tasks before they start (CLAIM: see
 *   `_process_worker.ts`); an ABORT for a task that has not started skips
 *   it and answers it at once;
 * - reports an uncaught error, an unhandled rejection or `self.close()` as
 *   FATAL, after the results it has, writes it out, then exits (its exit
 *   code and signal reach the parent through the process's status in any
 *   case; `Deno.exit()` sends what results it has and exits at once);
 * - **exits when the parent goes**: the channel is a socket pair, so when
 *   the parent process ends, however it ends (even by SIGKILL), the child
 *   reads end-of-file and exits with code 0. The parent ending the channel
 *   on purpose is the same graceful stop. A child busy in a synchronous loop
 *   reads nothing until the loop ends, so a watchdog thread (a `data:`
 *   Worker, which needs no read permission) checks `Deno.ppid` every 100 ms
 *   and, once the child has been handed to another parent, kills the
 *   process with `Deno.kill(Deno.pid, "SIGKILL")` (Deno 2.9.6 needs no
 *   permission to signal its own process).
 *
 * Invariants: LIVE is the first message and READY or LOAD_ERROR the second;
 * nothing but CLAIM, RESULTS, PONG, RESULT and FATAL follows READY; FATAL is
 * the last; no task starts before a CLAIM covering it has been written out.
 *
 * Processes load it bundled with the modules it imports, as
 * `_proc_child_bundle.js` (see `tools/bundle_worker.ts`): after editing it,
 * or anything it imports, run `deno task bundle` (`deno task test` fails on
 * a stale bundle).
 *
 * @module
 */

import "./_proc_mark.ts";
import { Socket } from "node:net";
import { ControlBlock } from "./_control.ts";
import { FrameDecoder, FrameError, FrameWriter } from "./_proc_frame.ts";
import { PORT, PortBridge } from "./_proc_ports.ts";
import {
  ABORT,
  CALL,
  CHANNEL_FD,
  CLAIM,
  CURRENT_TASK,
  ERROR,
  FATAL,
  INIT,
  LIVE,
  LOAD_ERROR,
  MODE_WIRE,
  OK,
  PING,
  PONG,
  READY,
  RESULT,
  STARTED,
  TASK_FIELDS,
  TASKS,
} from "./_proc_protocol.ts";
import { TASK_WAITING } from "./_task_waiting.ts";
import { FnRegistry } from "./_worker_fns.ts";
import { Runner } from "./_worker_run.ts";
import {
  deserializeError,
  type SerializedError,
  serializeError,
} from "./errors/serialize_error.ts";

type ChildState = "starting" | "loading" | "ready" | "dying";

/** How long the last words (FATAL, LOAD_ERROR) may take to write, in ms. */
const LAST_WORDS_MS = 2000;

const exit = Deno.exit;
let state: ChildState = "starting";
let module: Record<string, unknown> | undefined;
let resolveStatic: (module: Record<string, unknown>) => void = () => {};
const staticModule = new Promise<Record<string, unknown>>((resolve) => {
  resolveStatic = resolve;
});

const socket = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
const writer = new FrameWriter(
  (bytes) =>
    new Promise<void>((resolve, reject) =>
      socket.write(bytes, (error) => error ? reject(error) : resolve())
    ),
  {
    onUnsendable(message, error) {
      // A result that cannot be cloned fails its own call.
      const m = message as unknown[];
      if (m[0] === RESULT && m[2] === OK) {
        writer.send([RESULT, m[1], ERROR, serializeError(error)]);
      }
    },
  },
);
const decoder = new FrameDecoder();

/**
 * The child's own record of its tasks: a control block no one else shares
 * (the parent keeps its mirror from claims and results), with no result
 * ring, so every result goes in a message.
 */
class LocalControl extends ControlBlock {
  override pushResult(): boolean {
    return false;
  }
}
const control = new LocalControl();
const fns = new FnRegistry();
/** Task records received: the next one's seq. */
let received = 0;
/** Channels and pipe ends passed to or from the parent. */
const ports = new PortBridge((message) => void writer.sendNow(message), 1);
const runner = new Runner(
  control,
  (message, transfer) => {
    if (transfer?.some((item) => item instanceof MessagePort)) {
      ports.exportIn(message as unknown[]);
    }
    writer.sendNow(message);
  },
  fns,
  {
    claim: (through) => {
      writer.send([CLAIM, through]);
      return writer.flush();
    },
  },
);
(globalThis as Record<symbol, unknown>)[CURRENT_TASK] = () =>
  runner.active ? runner.context : undefined;
(globalThis as Record<symbol, unknown>)[TASK_WAITING] = (delta: number) =>
  control.addWaiting(delta);

/** Writes `message` out (best effort), then ends the process. */
async function lastWords(message: unknown[], code: number): Promise<never> {
  if (state === "dying") return new Promise<never>(() => {});
  const serving = state === "ready";
  state = "dying";
  // No task starts now; the parent learns which did (the others run
  // elsewhere), after the results there are.
  const started = runner.halt();
  try {
    runner.flush();
  } catch {
    // Results that cannot go are lost with the worker; the pool fails them.
  }
  if (serving) writer.send([STARTED, started]);
  writer.send(message);
  const timer = setTimeout(() => exit(code), LAST_WORDS_MS);
  try {
    await writer.flush();
  } catch {
    // The parent is gone: nobody to tell.
  }
  clearTimeout(timer);
  return exit(code);
}

async function init(moduleUrl: unknown, staticEntry: unknown): Promise<void> {
  state = "loading";
  try {
    if (staticEntry === true) module = await staticModule;
    else if (typeof moduleUrl === "string") module = await import(moduleUrl);
  } catch (error) {
    await lastWords([LOAD_ERROR, serializeError(error)], 1);
  }
  if (module !== undefined) {
    fns.setModule(module, typeof moduleUrl === "string" ? moduleUrl : "");
  }
  state = "ready";
  writer.send([READY]);
  writer.flush().then(startWatchdog, () => {});
}

async function call(id: number, name: unknown, args: unknown): Promise<void> {
  try {
    const fn = module?.[String(name)];
    if (typeof fn !== "function") {
      throw new TypeError(`The task module has no function ${String(name)}`);
    }
    const value = await fn(...(Array.isArray(args) ? args : []));
    writer.send([RESULT, id, OK, value]);
  } catch (error) {
    writer.send([RESULT, id, ERROR, serializeError(error)]);
  }
}

function receive(message: unknown): void {
  if (!Array.isArray(message) || state === "dying") return;
  switch (message[0]) {
    case INIT:
      if (state === "starting") void init(message[1], message[2]);
      return;
    case PING:
      writer.send([PONG, message[1]]);
      return;
    case CALL:
      if (state === "ready") void call(message[1], message[2], message[3]);
      return;
    case TASKS:
      if (state === "ready") receiveTasks(message);
      return;
    case PORT:
      ports.receive(message[1], message[2]);
      return;
    case ABORT:
      if (state === "ready") {
        abort(
          message[1] as number,
          deserializeError(message[2] as SerializedError),
        );
      }
      return;
  }
}

/** [TASKS, defs, ...(id, fnId, payload, mode)], as in a thread. */
function receiveTasks(message: unknown[]): void {
  fns.defineAll(message[1] as unknown[] | null);
  const count = (message.length - 2) / TASK_FIELDS;
  let wire = false;
  for (let k = 0; k < count; k++) {
    control.send(received + k);
    if (((message[5 + k * TASK_FIELDS] as number) & MODE_WIRE) !== 0) {
      wire = true;
    }
  }
  // Channels and pipe ends travel only in encoded (wire) payloads.
  if (wire) ports.importIn(message);
  received += count;
  runner.receive(message);
}

/**
 * The pool cancelled task `seq`: one that has not started is skipped and
 * answered at once; a running one sees the abort.
 */
function abort(seq: number, reason: unknown): void {
  if (control.revoke(seq)) return runner.skip(seq, reason);
  control.cancel(seq);
  runner.abort(seq, reason);
}

const inbox: unknown[] = [];
socket.on("data", (chunk: Uint8Array) => {
  try {
    decoder.push(chunk, inbox);
  } catch (error) {
    // The parent broke the format: nothing it sends can be trusted now.
    const text = error instanceof FrameError ? error.message : String(error);
    console.error(`Process worker ${Deno.pid}: ${text}`);
    exit(70);
  }
  for (let i = 0; i < inbox.length; i++) receive(inbox[i]);
  inbox.length = 0;
});
// End-of-file: the parent stopped this worker or died. Either way, go.
socket.on("end", () => exit(0));
socket.on("error", () => exit(0));

(globalThis as { close?: () => void }).close = () =>
  void lastWords([
    FATAL,
    serializeError(new Error("The worker called self.close()")),
  ], 0);
try {
  const realExit = Deno.exit;
  Object.defineProperty(Deno, "exit", {
    configurable: true,
    writable: true,
    value: (code?: number) => {
      // Results finished before go first, as far as they can.
      try {
        runner.flush();
      } catch {
        // Lost with the worker; the pool fails them.
      }
      realExit(code);
    },
  });
} catch {
  // Deno.exit cannot be wrapped here: the exit code still reaches the pool.
}

globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  void lastWords([FATAL, serializeError(event.error ?? event.message)], 1);
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  void lastWords([FATAL, serializeError(event.reason)], 1);
});

/** How often the watchdog looks for a new parent, in ms. */
const WATCHDOG_MS = 100;
/** The parent now, before it could have gone. */
const watchdog = `const parent = ${Deno.ppid};
setInterval(() => {
  if (Deno.ppid !== parent) Deno.kill(Deno.pid, "SIGKILL");
}, ${WATCHDOG_MS});`;

/**
 * Starts the watchdog thread. Once READY is written: a thread's start costs
 * about a third of the child's time to READY on 2 cores. Until then, the
 * end of the channel ends a child whose parent died (only task module code
 * that never yields at its top level would outlive it, until then).
 */
function startWatchdog(): void {
  new Worker(`data:text/javascript,${encodeURIComponent(watchdog)}`, {
    type: "module",
    name: "process worker watchdog",
  });
}

writer.send([LIVE, Deno.pid]);

/**
 * Hands over the task module that a generated entry imported statically
 * (a sandboxed child cannot import local modules dynamically without read
 * permission; static imports need none). The entry imports this module
 * first, so the channel is open before task code runs.
 */
export function startChild(taskModule: Record<string, unknown>): void {
  resolveStatic(taskModule);
}
