// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: a pool worker that is a Web Worker thread. It owns the `Worker`
 * and its private port, the shared control block, and how its death is
 * noticed: whichever way comes first, and all end in the scheduler's one
 * `stop` path:
 * - the worker reports it (FATAL, from its bootstrap: an uncaught error, an
 *   unhandled rejection, `self.close()`, `Deno.exit()`);
 * - the `Worker`'s `error` event;
 * - a message that breaks the protocol;
 * - its lifeline (see `_lifeline.ts`), freed when its thread ends however
 *   it ended.
 *
 * `dying`: it died without a word on its port; what it posted before is
 * read until the port goes quiet, then it is stopped. `abandoned`:
 * terminated while a task ran, which Deno cannot stop in a synchronous loop.
 *
 * @module
 */

import { CANCELLED, ControlBlock, STARTED } from "./_control.ts";
import { Doorbell } from "./_doorbell.ts";
import { newLifelineName, watchLifeline } from "./_lifeline.ts";
import { INIT } from "./_protocol.ts";
import {
  type Stopped,
  WorkerHandle,
  type WorkerHost,
  type WorkerSpec,
} from "./_worker_handle.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** How long a dead worker's port must stay quiet before it is stopped, in ms. */
const QUIET_MS = 20;
/** The longest a dead worker's port is read for, in ms. */
const DRAIN_MS = 250;

export class ThreadWorker extends WorkerHandle {
  readonly control: ControlBlock = new ControlBlock();
  readonly fastPath = true;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #lifeline = newLifelineName("pool-worker");
  readonly #door: Doorbell = new Doorbell(
    this.control,
    // Results announced on the doorbell: read as a bare number says.
    () => this.host.onMessage(this, 0),
  );
  #watch: AbortController | undefined = undefined;
  #death: Promise<void> | undefined = undefined;
  /** Messages received on the port, to tell when it has gone quiet. */
  #messages = 0;

  /** @throws {unknown} What `new Worker` throws. */
  constructor(id: number, spec: WorkerSpec, host: WorkerHost) {
    super(id, host);
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
      this.host.onExit(this);
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
    if (this.inService) this.host.onDeath(this, cause);
  }

  /**
   * Terminates the worker and gives back what it held: a task is unstarted
   * if the control block's revoke takes it back.
   */
  stop(): Stopped {
    if (!this.inService) return { unstarted: [], started: [] };
    let running = false;
    const stopped = this.takeAll((seq) => {
      const state = this.control.state(seq);
      if (state === STARTED || state === CANCELLED) running = true;
      return this.control.revoke(seq);
    });
    this.#port.onmessage = null;
    this.#port.close();
    // A parked thread would not end before its park does.
    this.#door.close();
    this.#worker.onmessage = this.#worker.onerror = null;
    this.#worker.terminate();
    this.state = running ? "abandoned" : "stopping";
    // Watching before the worker held its lifeline would end at once, but a
    // terminated worker that never held it has no thread left to wait for.
    this.watch();
    return stopped;
  }

  /** Stops watching its lifeline, so that the process may exit. */
  unwatch(): void {
    this.#watch?.abort();
  }

  /** The name of its lifeline (held while its thread lives). */
  get lifeline(): string {
    return this.#lifeline;
  }

  /**
   * Rings the doorbell if the worker is parked or listening (see
   * `_doorbell.ts`); otherwise posts `value`, and hears the result on the
   * doorbell all the same.
   */
  sendFast(id: number, fnId: number, value: unknown): void {
    this.control.setFastTask(id, fnId);
    if (this.#door.ring(value)) return;
    this.#door.listen();
    this.post(value, undefined);
  }

  /** Posts on the private port (waking the worker if it is parked). */
  post(message: unknown, transfer: Transferable[] | undefined): void {
    this.#door.willPost();
    try {
      // An empty transfer list still costs Deno about a microsecond.
      if (transfer === undefined || transfer.length === 0) {
        this.#port.postMessage(message);
      } else this.#port.postMessage(message, transfer);
    } catch (error) {
      this.#door.unpost();
      throw error;
    }
  }
}
