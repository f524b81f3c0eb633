// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one pool worker as the main thread sees it. The handle owns
 * everything about its worker: the `Worker` and its private port, the control
 * block, the tasks it holds (by seq), its lifecycle, and how its death is
 * noticed. The scheduler decides what to do; the handle keeps the books.
 *
 * ```text
 *   starting --ready--> ready --retire--> retiring
 *       \                 |   \ died          |  / died
 *        \                |     `--> dying <--'
 *         `---------------+------stop----+-----+--> stopping --exit--> exited
 *                                               \-> abandoned -exit-^
 * ```
 *
 * - `starting`: created; loading its task module. Holds no task.
 * - `ready`: takes tasks.
 * - `retiring`: takes no new task (recycled, idle, or the pool is closing);
 *   the scheduler stops it once it holds nothing.
 * - `dying`: it died without a word on its port (seen by its `error` event
 *   or its lifeline); what it posted before is read, then it is stopped.
 * - `stopping`: terminated; holds nothing; its thread is ending.
 * - `abandoned`: terminated while a task ran. Deno cannot stop a thread busy
 *   in a synchronous loop, so its thread may run on until the loop ends.
 * - `exited`: its thread has ended (its lifeline was freed).
 *
 * Deaths are noticed whichever way comes first, and all end in the
 * scheduler's one `stop` path: the worker reports it (FATAL, from its
 * bootstrap: an uncaught error, an unhandled rejection, `self.close()`,
 * `Deno.exit()`); the `Worker`'s `error` event; a message that breaks the
 * protocol; or its lifeline (see `_lifeline.ts`), freed when its thread ends
 * however it ended.
 *
 * Invariants: a task is in `#held` exactly while its state is `held` with
 * `task.worker === this`, or while it is settled but started and unanswered;
 * `heldCount` counts the entries; only `ready` and `retiring` handles hold
 * entries; seqs in `#held` lie in `[#low, nextSeq)`, fewer than `SLOTS`.
 *
 * @module
 */

import {
  ARRIVED,
  CANCELLED,
  ControlBlock,
  DONE,
  SENT,
  SLOTS,
  STARTED,
} from "./_control.ts";
import { newLifelineName, watchLifeline } from "./_lifeline.ts";
import { ABORT, INIT } from "./_protocol.ts";
import type { Task } from "./_task.ts";
import { serializeError } from "./errors/serialize_error.ts";

/** A worker's lifecycle state. */
export type WorkerState =
  | "starting"
  | "ready"
  | "retiring"
  | "dying"
  | "stopping"
  | "abandoned"
  | "exited";

/** What the handle reports to the scheduler. */
export interface WorkerHost {
  /** A message on the private port (not yet checked). */
  onMessage(handle: WorkerHandle, data: unknown): void;
  /** The worker died or broke the protocol. */
  onDeath(handle: WorkerHandle, cause: unknown): void;
  /** The worker's thread has ended. */
  onExit(handle: WorkerHandle): void;
}

/** How to start workers. */
export interface WorkerSpec {
  readonly entryUrl: string;
  readonly moduleUrl: string | null;
  readonly permissions: Deno.PermissionOptions | undefined;
  readonly name: string;
  /** Whether the entry imports the task module statically (a sandbox). */
  readonly staticEntry: boolean;
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** How long a dead worker's port must stay quiet before it is stopped, in ms. */
const QUIET_MS = 20;
/** The longest a dead worker's port is read for, in ms. */
const DRAIN_MS = 250;

export class WorkerHandle {
  readonly id: number;
  state: WorkerState = "starting";
  readonly control: ControlBlock = new ControlBlock();
  /** Function ids this worker has been sent. */
  readonly known: Set<number> = new Set<number>();
  readonly createdAt: number = performance.now();
  /** When it last answered, or was given work while idle. */
  lastProgressAt: number = performance.now();
  /** When it last became idle (for `idleTimeoutMs`). */
  idleSince: number = performance.now();
  /** The seq the next task sent to it gets. */
  nextSeq = 0;
  /** Entries in `#held`. */
  heldCount = 0;
  /** Tasks it finished (answered), for `maxTasksPerWorker`. */
  finished = 0;
  /** The cancelled running task its grace timer waits for, or -1. */
  #graceSeq = -1;
  #graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #startTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #host: WorkerHost;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #lifeline = newLifelineName("pool-worker");
  #watch: AbortController | undefined = undefined;
  readonly #held: (Task | undefined)[] = new Array(SLOTS).fill(undefined);
  #low = 0;
  #death: Promise<void> | undefined = undefined;
  /** Messages received on the port, to tell when it has gone quiet. */
  #messages = 0;

  /** @throws {unknown} What `new Worker` throws. */
  constructor(id: number, spec: WorkerSpec, host: WorkerHost) {
    this.id = id;
    this.#host = host;
    const options: WorkerOptions & { deno?: unknown } = {
      type: "module",
      name: `${spec.name} #${id}`,
    };
    if (spec.permissions !== undefined) {
      options.deno = { permissions: spec.permissions };
    }
    const worker = new Worker(spec.entryUrl, options);
    const { port1, port2 } = new MessageChannel();
    this.#worker = worker;
    this.#port = port1;
    port1.onmessage = (event) => {
      this.#messages++;
      host.onMessage(this, event.data);
    };
    port1.onmessageerror = () =>
      host.onDeath(this, new Error("A message from the worker was unreadable"));
    worker.onmessage = (event) =>
      void this.#died(
        new Error(
          `Task code posted a message on the worker's own channel (${typeof event
            .data}): self.postMessage() is reserved for the pool`,
        ),
      );
    worker.onmessageerror = worker.onmessage;
    worker.onerror = (event) => {
      event.preventDefault();
      const text = String(event.message ?? "").replace(ANSI, "");
      const at = event.filename
        ? ` (at ${event.filename}:${event.lineno}:${event.colno})`
        : "";
      void this.#died(new Error(text + at));
    };
    worker.postMessage(
      [
        INIT,
        spec.moduleUrl,
        this.control.buffer,
        this.#lifeline,
        port2,
        spec.staticEntry,
      ],
      [port2],
    );
  }

  // ---- transitions --------------------------------------------------------

  /** starting: the worker holds its lifeline, so watching it now is sound. */
  watch(): void {
    if (this.#watch !== undefined || this.state === "exited") return;
    this.#watch = new AbortController();
    watchLifeline(this.#lifeline, this.#watch.signal, async () => {
      if (this.state === "exited") return;
      if (this.state !== "stopping" && this.state !== "abandoned") {
        // It ended without a word: take it out of service first.
        await this.#died(
          new Error(
            "The worker's thread ended without reporting why (self.close() or Deno.exit() where they could not be intercepted)",
          ),
        );
      }
      this.state = "exited";
      this.#host.onExit(this);
    });
  }

  /**
   * ready/retiring -> dying: the worker died without a word on its port (its
   * `error` event, a stray message, or its lifeline). What it posted before
   * it died may still be on its way through the port: keep reading until the
   * port has been quiet for a moment (a FATAL report, which the worker sends
   * last, ends the wait at once), then report the death.
   */
  #died(cause: unknown): Promise<void> {
    // Reported once, whichever way it was seen first.
    this.#death ??= this.#reportDeath(cause);
    return this.#death;
  }

  async #reportDeath(cause: unknown): Promise<void> {
    if (this.state === "ready" || this.state === "retiring") {
      this.state = "dying";
    }
    // A starting worker stays starting: its LOAD_ERROR may be on its way.
    const until = performance.now() + DRAIN_MS;
    let seen = -1;
    while (
      (this.state === "dying" || this.state === "starting") &&
      seen !== this.#messages && performance.now() < until
    ) {
      seen = this.#messages;
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    }
    // Unless what it posted last (FATAL, LOAD_ERROR) already stopped it.
    if (this.inService) this.#host.onDeath(this, cause);
  }

  /** Whether it has not been taken out of service yet. */
  get inService(): boolean {
    return this.state !== "stopping" && this.state !== "abandoned" &&
      this.state !== "exited";
  }

  /** starting -> ready. */
  markReady(): void {
    this.#clearStartTimer();
    this.state = "ready";
    this.lastProgressAt = this.idleSince = performance.now();
  }

  /** ready -> retiring. */
  retire(): void {
    if (this.state === "ready") this.state = "retiring";
  }

  /**
   * Takes the worker out of service: terminates it and gives back what it
   * held. After this the handle holds nothing and ignores its worker.
   *
   * @returns The tasks it held that never started (taken back: they may run
   *   elsewhere) and those that had started (running, or finished with their
   *   result lost), both in seq order.
   */
  stop(): { unstarted: Task[]; started: Task[] } {
    const unstarted: Task[] = [];
    const started: Task[] = [];
    if (this.inService) {
      let running = false;
      for (let seq = this.#low; seq < this.nextSeq; seq++) {
        const task = this.#held[seq % SLOTS];
        if (task === undefined || task.seq !== seq || task.worker !== this) {
          continue;
        }
        const state = this.control.state(seq);
        if (state === STARTED || state === CANCELLED) running = true;
        if (this.control.revoke(seq)) unstarted.push(task);
        else started.push(task);
        task.worker = undefined;
      }
      this.#held.fill(undefined);
      this.heldCount = 0;
      this.#low = this.nextSeq;
      this.#clearStartTimer();
      this.#clearGrace();
      this.#port.onmessage = null;
      this.#port.close();
      this.#worker.onmessage = this.#worker.onerror = null;
      this.#worker.terminate();
      this.state = running ? "abandoned" : "stopping";
      // Watching before the worker held its lifeline would end at once, but
      // a terminated worker that never held it has no thread left to wait
      // for.
      this.watch();
    }
    return { unstarted, started };
  }

  /** Stops watching its lifeline, so that the process may exit. */
  unwatch(): void {
    this.#watch?.abort();
  }

  /** The name of its lifeline (held while its thread lives). */
  get lifeline(): string {
    return this.#lifeline;
  }

  // ---- what it holds ------------------------------------------------------

  /**
   * Records that `task` is sent to this worker and gives it the next seq;
   * call right before posting it.
   */
  hold(task: Task): void {
    const seq = this.nextSeq++;
    task.state = "held";
    task.worker = this;
    task.seq = seq;
    this.#held[seq % SLOTS] = task;
    this.heldCount++;
    this.control.send(seq);
  }

  /** Undoes `hold` for the tasks from `seq` on: their message was not sent. */
  unhold(seq: number): Task[] {
    const tasks: Task[] = [];
    for (let s = seq; s < this.nextSeq; s++) {
      const task = this.#held[s % SLOTS] as Task;
      this.#held[s % SLOTS] = undefined;
      this.heldCount--;
      task.worker = undefined;
      task.seq = -1;
      tasks.push(task);
    }
    this.nextSeq = seq;
    return tasks;
  }

  /** The task held at `seq`, or `undefined`. */
  at(seq: number): Task | undefined {
    if (!Number.isInteger(seq) || seq < this.#low || seq >= this.nextSeq) {
      return undefined;
    }
    const task = this.#held[seq % SLOTS];
    return task !== undefined && task.seq === seq && task.worker === this
      ? task
      : undefined;
  }

  /** Forgets the task at `seq` (answered, or taken back). */
  release(task: Task): void {
    const seq = task.seq;
    if (this.#held[seq % SLOTS] !== task) return;
    this.#held[seq % SLOTS] = undefined;
    this.heldCount--;
    task.worker = undefined;
    task.seq = -1;
    if (seq === this.#graceSeq) this.#clearGrace();
    while (
      this.#low < this.nextSeq && this.#held[this.#low % SLOTS] === undefined
    ) {
      this.#low++;
    }
  }

  /** How many more tasks it can hold. */
  get room(): number {
    return SLOTS - 1 - (this.nextSeq - this.#low);
  }

  /** Up to `max` tasks it holds that have not started, oldest first. */
  unstarted(max: number): Task[] {
    const out: Task[] = [];
    for (let seq = this.#low; seq < this.nextSeq && out.length < max; seq++) {
      const task = this.at(seq);
      if (task === undefined) continue;
      const state = this.control.state(seq);
      if (state === ARRIVED || state === SENT) out.push(task);
    }
    return out;
  }

  /**
   * How many tasks it holds that have not started. The worker takes tasks in
   * seq order, so the count runs back from the newest to the first that has
   * started.
   */
  get backlog(): number {
    let n = 0;
    for (let seq = this.nextSeq - 1; seq >= this.#low; seq--) {
      if (this.at(seq) === undefined) continue;
      const state = this.control.state(seq);
      if (state !== SENT && state !== ARRIVED) break;
      n++;
    }
    return n;
  }

  /**
   * Tells the worker its running task `seq` was cancelled (its signal
   * aborts with `reason`), and gives it `graceMs` to end before
   * `onExpired` runs.
   */
  abortRunning(
    seq: number,
    reason: unknown,
    graceMs: number,
    onExpired: () => void,
  ): void {
    try {
      this.post([ABORT, seq, serializeError(reason)], undefined);
    } catch {
      // Its port is closed: its death is being handled.
    }
    if (!Number.isFinite(graceMs)) return;
    this.#clearGrace();
    this.#graceSeq = seq;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.#graceSeq === seq && this.control.state(seq) !== DONE) {
        onExpired();
      }
    }, graceMs);
  }

  /** Runs `onExpired` unless the worker is ready within `timeoutMs`. */
  armStartTimer(timeoutMs: number, onExpired: () => void): void {
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      if (this.state === "starting") onExpired();
    }, timeoutMs);
  }

  #clearGrace(): void {
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#graceSeq = -1;
  }

  #clearStartTimer(): void {
    if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
  }

  // ---- messages -----------------------------------------------------------

  /** Posts on the private port. */
  post(message: unknown, transfer: Transferable[] | undefined): void {
    // An empty transfer list still costs Deno about a microsecond.
    if (transfer === undefined || transfer.length === 0) {
      this.#port.postMessage(message);
    } else this.#port.postMessage(message, transfer);
  }
}
