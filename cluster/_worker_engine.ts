// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one worker process's side of a queue.
 *
 * ```
 *  consumer "workers" --next()--> `prefetch` slots --> #handle(message)
 *       ^  working() every ackWait/3 for each held message    |
 *       |  ack() once every call's result is stored           v
 *       '------------------------------------------- local WorkerPool
 *  KV seed_Q_cancel --watch--> abort running / skip queued     |
 *                                                               v
 *                                    ResultSender --> seed.Q.results.<caller>
 * ```
 *
 * A message is acknowledged only after the results of all its calls are
 * stored by the server, so a process that dies at any point leaves its
 * messages unacknowledged; once its heartbeats stop, `ack_wait` later, the
 * server hands them to another worker. A message delivered more times than
 * its caller allows is not run again: each of its calls fails with
 * `WorkerCrashedError`.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import {
  type Consumer,
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { WorkerPool } from "../pool.ts";
import { serializeError } from "../errors/serialize_error.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import {
  isTaskMeta,
  isWireCall,
  packItems,
  splitFrames,
  type TaskMeta,
  unpackItems,
  WIRE_VERSION,
  type WireCall,
  type WireResult,
} from "./_frames.ts";
import { ResultSender } from "./_result_sender.ts";
import {
  cancelBucket,
  cancelKey,
  ensureStreams,
  ensureWorkersConsumer,
  open,
  type QueueNames,
} from "./_setup.ts";

/** A worker's lifecycle. */
export type ClusterWorkerState = "serving" | "draining" | "closed";

/** The checked options of a worker. */
export interface EngineConfig {
  servers: string[];
  names: QueueNames;
  module: URL | string;
  size: number;
  /** Checked by the local pool's constructor. */
  isolation: "thread" | "process" | undefined;
  maxMemoryMb: number | undefined;
  prefetch: number;
  ackWaitMs: number;
  name: string;
}

/** A snapshot of a worker's activity. */
export interface ClusterWorkerStats {
  /** Task messages held now (running, or waiting for the local pool). */
  held: number;
  /** Calls that succeeded here and whose results are stored. */
  completed: number;
  /** Calls that failed here (their errors are sent to the caller). */
  failed: number;
  /** Calls cancelled by their caller, skipped or aborted here. */
  cancelled: number;
  /** Messages received that had been delivered to a worker before. */
  redelivered: number;
  /** Messages over their delivery limit, failed as crashed. */
  overDelivered: number;
  /** Messages or calls dropped because they did not decode. */
  malformed: number;
}

const CANCEL_MEMORY_MS = 3600 * 1000;

export class WorkerEngine {
  state: ClusterWorkerState = "serving";
  readonly config: EngineConfig;
  readonly stats: ClusterWorkerStats = {
    held: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    redelivered: 0,
    overDelivered: 0,
    malformed: 0,
  };
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #nc!: NatsConnection;
  #js!: JetStreamClient;
  #kv!: KV;
  // deno-lint-ignore no-explicit-any
  #pool!: WorkerPool<Record<string, (...args: any[]) => unknown>>;
  #held = new Set<JsMsg>();
  #running = new Map<string, AbortController>();
  #cancelled = new Map<string, number>();
  #senders = new Map<string, ResultSender>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #wake = Promise.withResolvers<void>();
  #idle: (() => void) | undefined;
  #msgCount = 0;
  #msgPrefix = `${Date.now().toString(36)}-${crypto.randomUUID()}`;

  constructor(config: EngineConfig) {
    this.config = config;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** Connects, creates what is missing, loads the task module, and serves. */
  async start(): Promise<void> {
    const { names } = this.config;
    const { isolation, maxMemoryMb } = this.config;
    this.#pool = new WorkerPool(this.config.module, {
      size: this.config.size,
      minSize: this.config.size,
      name: this.config.name,
      ...(isolation === undefined ? {} : { isolation }),
      ...(maxMemoryMb === undefined ? {} : { maxMemoryMb }),
    });
    try {
      await this.#pool.ready();
      this.#nc = await open(this.config.servers, this.config.name);
      const jsm = await jetstreamManager(this.#nc);
      await ensureStreams(jsm, names);
      await ensureWorkersConsumer(jsm, names, this.config.ackWaitMs);
      this.#js = jetstream(this.#nc);
      this.#kv = await cancelBucket(this.#nc, names);
      void this.#watchCancels(await this.#kv.watch());
      const consumer = await this.#js.consumers.get(
        names.taskStream,
        names.workers,
      );
      this.#heartbeat = setInterval(
        () => this.#beat(),
        Math.max(1, Math.floor(this.config.ackWaitMs / 3)),
      );
      for (let i = 0; i < this.config.prefetch; i++) void this.#loop(consumer);
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  #beat(): void {
    const now = Date.now();
    for (const msg of this.#held) msg.working();
    for (const [key, seen] of this.#cancelled) {
      if (now - seen < CANCEL_MEMORY_MS) break;
      this.#cancelled.delete(key);
    }
  }

  async #watchCancels(
    watch: AsyncIterable<{ key: string; operation: string }>,
  ) {
    try {
      for await (const entry of watch) {
        if (entry.operation !== "PUT") continue;
        this.#cancelled.set(entry.key, Date.now());
        const reason = new DOMException(
          "The call was cancelled by its caller",
          "AbortError",
        );
        if (entry.key.endsWith(".all")) {
          const prefix = entry.key.slice(0, -3);
          for (const [key, controller] of this.#running) {
            if (key.startsWith(prefix)) controller.abort(reason);
          }
        } else {
          this.#running.get(entry.key)?.abort(reason);
        }
      }
    } catch {
      // The connection closed: the worker is ending.
    }
  }

  /** Waits `ms`, or less if the worker stops serving. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake.promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #loop(consumer: Consumer): Promise<void> {
    while (this.state === "serving") {
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: 5000 });
      } catch {
        if (this.state !== "serving") break;
        await this.pause(250);
        continue;
      }
      if (msg === null) continue;
      if (this.state !== "serving") {
        msg.nak();
        break;
      }
      await this.#handle(msg);
    }
  }

  async #handle(msg: JsMsg): Promise<void> {
    this.#held.add(msg);
    this.stats.held = this.#held.size;
    try {
      const [meta, ...frames] = splitFrames(msg.data);
      if (!isTaskMeta(meta)) {
        this.stats.malformed++;
        msg.term("malformed task message");
        return;
      }
      const calls = frames.filter(isWireCall);
      this.stats.malformed += frames.length - calls.length;
      const deliveries = msg.info.deliveryCount;
      if (deliveries > 1) this.stats.redelivered++;
      const sender = this.#sender(meta.reply);
      if (deliveries > meta.max) {
        this.stats.overDelivered++;
        await Promise.all(
          calls.map((call) =>
            sender.send(failure(call.id, overDelivered(call, deliveries, meta)))
          ),
        );
      } else {
        await Promise.all(calls.map((call) => this.#run(meta, call, sender)));
      }
      // Terminated meanwhile: leave the message for another worker.
      if (this.state !== "closed") msg.ack();
    } catch {
      // A result could not be stored because the worker is ending: leave the
      // message unacknowledged for another worker.
    } finally {
      this.#held.delete(msg);
      this.stats.held = this.#held.size;
      if (this.#held.size === 0) this.#idle?.();
    }
  }

  async #run(meta: TaskMeta, call: WireCall, sender: ResultSender) {
    const key = cancelKey(meta.caller, call.id);
    if (
      this.#cancelled.has(key) || this.#cancelled.has(`${meta.caller}.all`)
    ) {
      this.stats.cancelled++;
      return;
    }
    const controller = new AbortController();
    this.#running.set(key, controller);
    let result: WireResult;
    const started = performance.now();
    try {
      const options = { signal: controller.signal };
      let value: unknown;
      if (call.kind === "run") {
        value = await this.#pool.run(call.task, call.args, options);
      } else {
        const items = unpackItems(call.args[0]);
        if (items === undefined) {
          throw new TypeError(
            `Cannot map ${call.task} as its items are not a list`,
          );
        }
        value = packItems(await this.#pool.map(call.task, items, options));
      }
      const ms = performance.now() - started;
      result = { v: WIRE_VERSION, id: call.id, ok: true, value, ms };
      this.stats.completed++;
    } catch (error) {
      if (controller.signal.aborted) {
        this.stats.cancelled++;
        return;
      }
      result = failure(call.id, error);
      this.stats.failed++;
    } finally {
      this.#running.delete(key);
    }
    if (this.state !== "closed") await sender.send(result);
  }

  #sender(subject: string): ResultSender {
    let sender = this.#senders.get(subject);
    if (sender === undefined) {
      sender = new ResultSender({
        js: this.#js,
        maxPayload: this.#nc.info?.max_payload ?? 1024 * 1024,
        live: () => this.state !== "closed",
        pause: (ms) => this.pause(ms),
        nextMsgId: () => `${this.#msgPrefix}.${this.#msgCount++}`,
      }, subject);
      this.#senders.set(subject, sender);
    }
    return sender;
  }

  /** Stops taking tasks, finishes and acknowledges the held ones, ends. */
  async drain(): Promise<void> {
    if (this.state !== "serving") return this.closed;
    this.state = "draining";
    this.#wake.resolve();
    if (this.#held.size > 0) {
      await new Promise<void>((resolve) => this.#idle = resolve);
    }
    try {
      await this.#nc.flush();
    } catch {
      // Closed under us: what was not acknowledged is redelivered.
    }
    await this.#end(false);
  }

  /** Ends now: held messages are left for other workers. */
  async terminate(): Promise<void> {
    if (this.state === "closed") return this.closed;
    await this.#end(true);
  }

  async #end(now: boolean): Promise<void> {
    this.state = "closed";
    this.#wake.resolve();
    clearInterval(this.#heartbeat);
    for (const controller of this.#running.values()) {
      controller.abort(new DOMException("The worker is ending", "AbortError"));
    }
    await (now ? this.#pool?.terminate() : this.#pool?.close());
    await this.#nc?.close().catch(() => {});
    this.#resolveClosed();
  }
}

function failure(id: number, error: unknown): WireResult {
  return { v: WIRE_VERSION, id, ok: false, error: serializeError(error) };
}

function overDelivered(
  call: WireCall,
  deliveries: number,
  meta: TaskMeta,
): WorkerCrashedError {
  return new WorkerCrashedError(
    `Cannot run task "${call.task}" again as it was delivered ${
      deliveries - 1
    } times and each worker holding it stopped before it finished (the limit is ${meta.max})`,
  );
}
