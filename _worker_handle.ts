// Copyright the @seed/concurrency authors. MIT license.
// Internal: one pool worker as the main thread sees it: the Worker, its
// control block, the tasks sent to it (in the order it runs them), and how its
// death is noticed.
//
// Deaths are noticed three ways, whichever comes first:
// - the worker reports it (FATAL: uncaught error, unhandled rejection,
//   `self.close()`, `Deno.exit()`), with the error as the cause;
// - the Worker's `error` event (an error the worker could not report);
// - its lifeline: a Web Lock the worker holds for as long as its thread lives.
//   The main thread queues a request for the same lock; when it is granted,
//   the thread has ended, however it ended. This also tells when a terminated
//   worker that was stuck in a synchronous loop has really stopped.

import { Deque } from "./_deque.ts";
import { CTRL_LENGTH, INIT } from "./_protocol.ts";
import type { Task } from "./_task.ts";

interface LocksLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown>;
}

/** What the handle reports to its owner. */
export interface WorkerHost {
  onMessage(handle: WorkerHandle, message: unknown[]): void;
  onDeath(handle: WorkerHandle, cause: unknown): void;
  onExit(handle: WorkerHandle): void;
}

/** How to start workers. */
export interface WorkerSpec {
  entryUrl: string;
  moduleUrl: string | null;
  permissions: Deno.PermissionOptions | undefined;
  name: string;
}

export type WorkerState = "starting" | "ready" | "retiring" | "dead";

let lifelines = 0;
const lifelinePrefix = `@seed/concurrency/lifeline/${crypto.randomUUID()}/`;

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export class WorkerHandle {
  readonly id: number;
  state: WorkerState = "starting";
  readonly worker: Worker;
  readonly ctrl: Int32Array;
  readonly inflight: Deque<Task> = new Deque<Task>();
  /** Function ids this worker has been sent. */
  readonly known: Set<number> = new Set<number>();
  /** When it was created (performance.now()). */
  readonly createdAt: number = performance.now();
  /** When it last answered, or was given work while idle (performance.now()). */
  lastProgressAt = 0;
  /** The `seq`s of tasks taken back from it that it has not skipped yet. */
  readonly stolenSeqs: number[] = [];
  /** Records it has answered (the `seq` of the next answer). */
  answered = 0;
  /** Tasks sent to it in all (the next task's `seq`). */
  dispatched = 0;
  /** Tasks sent to it that it has not finished, skipped or given away. */
  assigned = 0;
  /** Tasks this worker finished, for `maxTasksPerWorker`. */
  finished = 0;
  /** When it last became idle (for `idleTimeoutMs`). */
  idleSince = 0;
  /** Whether its thread has ended. */
  exited = false;
  /** Set when it was terminated while a task ignored its cancellation. */
  abandoned = false;
  /** The cancelled running task the grace timer waits for. */
  graceTaskId = 0;
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Whether its lifeline is watched. */
  watched = false;
  /** Cancellations written to the control block. */
  epoch = 0;
  readonly #host: WorkerHost;
  readonly #lifeline: string;
  readonly #watch = new AbortController();

  constructor(id: number, spec: WorkerSpec, host: WorkerHost) {
    this.id = id;
    this.#host = host;
    this.ctrl = new Int32Array(
      new SharedArrayBuffer(CTRL_LENGTH * Int32Array.BYTES_PER_ELEMENT),
    );
    this.#lifeline = lifelinePrefix + (++lifelines);
    const options: WorkerOptions & { deno?: unknown } = {
      type: "module",
      name: `${spec.name} #${id}`,
    };
    if (spec.permissions !== undefined) {
      options.deno = { permissions: spec.permissions };
    }
    this.worker = new Worker(spec.entryUrl, options);
    this.worker.onmessage = (event) => {
      this.#host.onMessage(this, event.data as unknown[]);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      const text = String(event.message ?? "").replace(ANSI, "");
      const at = event.filename
        ? ` (at ${event.filename}:${event.lineno}:${event.colno})`
        : "";
      this.#host.onDeath(this, new Error(text + at));
    };
    this.worker.onmessageerror = (event) => {
      this.#host.onDeath(
        this,
        new Error(
          `A message from the worker could not be read: ${String(event.data)}`,
        ),
      );
    };
    this.worker.postMessage([
      INIT,
      spec.moduleUrl,
      this.ctrl.buffer,
      this.#lifeline,
    ]);
  }

  /** Starts watching the lifeline; call once the worker holds it (READY). */
  watch(): void {
    this.watched = true;
    const locks = (navigator as unknown as { locks: LocksLike }).locks;
    locks.request(this.#lifeline, { signal: this.#watch.signal }, () => {
      this.exited = true;
      this.#host.onExit(this);
    }).catch(() => {
      // The watch was dropped (pool closed while the thread was stuck).
    });
  }

  /** Stops watching the lifeline, so that the process may exit. */
  unwatch(): void {
    this.#watch.abort();
  }

  /** Ends the worker now. */
  terminate(): void {
    this.worker.terminate();
  }

  /**
   * Posts a message, or with `bare`, the first element of `message` alone
   * (the fast path in _protocol.ts).
   */
  post(message: unknown[], transfer: Transferable[], bare = false): void {
    // An empty transfer list still costs Deno about a microsecond.
    if (bare) this.worker.postMessage(message[0]);
    else if (transfer.length === 0) this.worker.postMessage(message);
    else this.worker.postMessage(message, transfer);
  }
}

interface LockInfo {
  name?: string;
  clientId?: string;
}

/**
 * How many pool worker threads (of any pool in this module instance) are
 * alive: the lifeline locks held by a client other than this thread.
 */
export async function liveWorkerThreads(): Promise<number> {
  const locks = (navigator as unknown as {
    locks: {
      query(): Promise<{ held?: LockInfo[] }>;
      request(name: string, callback: () => Promise<unknown>): Promise<unknown>;
    };
  }).locks;
  const probe = lifelinePrefix + "probe";
  const self = await locks.request(probe, async () => {
    const { held = [] } = await locks.query();
    return held.find((lock) => lock.name === probe)?.clientId;
  });
  const { held = [] } = await locks.query();
  return held.filter((lock) =>
    lock.name?.startsWith(lifelinePrefix) && lock.name !== probe &&
    lock.clientId !== self
  ).length;
}
