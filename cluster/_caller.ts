// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: one {@linkcode ClusterPool}'s side of a queue.
 *
 * ```
 *  call() --> waiting (RingBuffer) --#flush: room in maxInFlight?--> batch
 *                                                                     |
 *   seed.Q.tasks <--- js.publish(msgID), retried until stored <-------'
 *   seed.Q.results.<id> --consume()--> #onResults: settle by id, once
 *   cancel(): settle now; KV put "<id>.<call>"; delete the message once
 *             every call in it is cancelled
 * ```
 *
 * Calls made in the same tick travel together, a share of what waits per
 * message (so a handful of slow calls still spread over the workers, and
 * thousands go in a few hundred messages); a `map` chunk travels alone.
 * Every call is settled exactly once, by the first of its result, its
 * cancellation or the end of the pool; a later result for it (from a
 * redelivery) is counted in `duplicates` and dropped.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  type ConsumerMessages,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { RingBuffer } from "../_ring_buffer.ts";
import { Summary } from "../_summary.ts";
import { deserializeError } from "../errors/serialize_error.ts";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import {
  type CallKind,
  encodeFrame,
  isWireResult,
  joinFrames,
  splitFrames,
  WIRE_VERSION,
} from "./_frames.ts";
import {
  cancelBucket,
  cancelKey,
  ensureStreams,
  open,
  type QueueNames,
} from "./_setup.ts";
import type { ClusterPoolState, ClusterPoolStats } from "./_types.ts";

/** The checked options of a caller. */
export interface CallerConfig {
  servers: string[];
  names: QueueNames;
  maxInFlight: number;
  maxDeliveries: number;
  name: string;
}

/** Receives a call's outcome, once, with its run time on the worker if known. */
export type Sink = (ok: boolean, value: unknown, runMs?: number) => void;

interface Batch {
  calls: Call[];
  live: number;
  seq: number | undefined;
}

/** One call (a `run`, or one chunk of a `map`). */
export interface Call {
  readonly id: number;
  readonly frame: Uint8Array;
  readonly kind: CallKind;
  state: "waiting" | "sent" | "settled";
  sink: Sink;
  batch: Batch | undefined;
  sentAt: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Thrown by `call()` for a chunk over its byte budget: split it. */
export class ChunkTooLarge extends RangeError {}

const MAX_BATCH = 256;
/**
 * Publishes awaiting the server's acknowledgement at once. Calls made while
 * this many are out wait and go together in the next message: one call per
 * message when calls are rare, large messages when they are many.
 */
const MAX_PUBLISHING = 4;

export class Caller {
  readonly id: string = crypto.randomUUID().replaceAll("-", "");
  readonly config: CallerConfig;
  state: ClusterPoolState = "connecting";
  /** Why the pool is broken, when it is. */
  loadError: unknown;
  readonly ready: Promise<void>;
  #nc: NatsConnection | undefined;
  #js!: JetStreamClient;
  #jsm: JetStreamManager | undefined;
  #kv!: KV;
  #messages: ConsumerMessages | undefined;
  #waiting = new RingBuffer<Call>();
  #pending = new Map<number, Call>();
  #inFlight = 0;
  #publishing = 0;
  #nextId = 0;
  #batches = 0;
  #flushQueued = false;
  #idle: (() => void)[] = [];
  #roundTrip = new Summary();
  #counts = {
    submitted: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    duplicates: 0,
    malformed: 0,
  };

  constructor(config: CallerConfig) {
    this.config = config;
    this.ready = this.#connect();
    this.ready.catch(() => {});
  }

  /** Reads the state afresh (TypeScript narrows a field across awaits). */
  #ended(): boolean {
    return this.state === "closed";
  }

  get subject(): string {
    return `${this.config.names.resultPrefix}.${this.id}`;
  }

  async #connect(): Promise<void> {
    const { names } = this.config;
    try {
      this.#nc = await open(this.config.servers, this.config.name);
      if (this.state === "closed") {
        await this.#nc.close();
        return;
      }
      const jsm = await jetstreamManager(this.#nc);
      this.#jsm = jsm;
      await ensureStreams(jsm, names);
      await jsm.consumers.add(names.resultStream, {
        durable_name: `caller_${this.id}`,
        filter_subject: this.subject,
        ack_policy: AckPolicy.Explicit,
        inactive_threshold: 3600 * 1e9,
      });
      this.#js = jetstream(this.#nc);
      this.#kv = await cancelBucket(this.#nc, names);
    } catch (error) {
      if (this.state === "closed") return;
      this.state = "broken";
      this.loadError = new Error(
        `Cannot use queue ${names.queue} on ${this.config.servers.join(", ")}`,
        { cause: error },
      );
      for (const call of [...this.#pending.values()]) {
        this.#settle(call, false, this.loadError, "failed");
      }
      void this.#nc?.close().catch(() => {});
      throw this.loadError;
    }
    if (this.state === "connecting") this.state = "open";
    void this.#consume();
    this.#scheduleFlush();
  }

  async #consume(): Promise<void> {
    const { names } = this.config;
    while (this.state !== "closed") {
      try {
        const consumer = await this.#js.consumers.get(
          names.resultStream,
          `caller_${this.id}`,
        );
        this.#messages = await consumer.consume({ max_messages: 512 });
        for await (const msg of this.#messages) {
          this.#onResults(msg.data);
          msg.ack();
        }
      } catch {
        // The server went away or the consumer was lost; try again below.
      }
      if (this.#ended()) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  #onResults(data: Uint8Array): void {
    for (const frame of splitFrames(data)) {
      if (!isWireResult(frame)) {
        this.#counts.malformed++;
        continue;
      }
      const call = this.#pending.get(frame.id);
      if (call === undefined || call.state !== "sent") {
        this.#counts.duplicates++;
        continue;
      }
      this.#roundTrip.record(performance.now() - call.sentAt);
      const ms = typeof frame.ms === "number" ? frame.ms : undefined;
      if (frame.ok) this.#settle(call, true, frame.value, "completed", ms);
      else this.#settle(call, false, deserializeError(frame.error), "failed");
    }
  }

  /**
   * Queues a call.
   *
   * @throws {TypeError} If an argument cannot be cloned.
   * @throws {ChunkTooLarge} If it encodes to more than `maxBytes`.
   */
  call(
    task: string,
    kind: CallKind,
    args: unknown[],
    sink: Sink,
    signal: AbortSignal | undefined,
    maxBytes?: number,
  ): Call {
    const id = this.#nextId;
    let frame: Uint8Array;
    try {
      frame = encodeFrame({ id, task, kind, args });
    } catch (error) {
      throw new TypeError(
        `Cannot ${kind} ${task} as an argument cannot be cloned`,
        { cause: error },
      );
    }
    if (maxBytes !== undefined && frame.byteLength > maxBytes) {
      throw new ChunkTooLarge();
    }
    this.#nextId++;
    const call: Call = {
      id,
      frame,
      kind,
      state: "waiting",
      sink,
      batch: undefined,
      sentAt: 0,
      signal,
      onAbort: undefined,
    };
    this.#counts.submitted++;
    if (this.state === "broken") {
      this.#settle(call, false, this.loadError, "failed");
      return call;
    }
    this.#pending.set(id, call);
    this.#waiting.push(call);
    if (signal !== undefined) {
      call.onAbort = () => this.cancel(call, signal.reason);
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
    this.#scheduleFlush();
    return call;
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.state !== "open" && this.state !== "closing") return;
    const maxPayload = (this.#nc?.info?.max_payload ?? 1 << 20) - 256;
    while (this.#waiting.length > 0) {
      const room = this.config.maxInFlight - this.#inFlight;
      if (room <= 0 || this.#publishing >= MAX_PUBLISHING) return;
      const share = Math.ceil(this.#waiting.length / MAX_PUBLISHING);
      const limit = Math.min(room, MAX_BATCH, share);
      const calls: Call[] = [];
      let bytes = 0;
      while (calls.length < limit && this.#waiting.length > 0) {
        const call = this.#waiting.peek() as Call;
        if (call.state !== "waiting") {
          this.#waiting.shift();
          continue;
        }
        const size = call.frame.byteLength + 4;
        if (size > maxPayload) {
          this.#waiting.shift();
          this.#settle(
            call,
            false,
            new RangeError(
              `Cannot send call ${call.id} as it takes ${size} bytes, more than the server's max_payload of ${maxPayload}`,
            ),
            "failed",
          );
          continue;
        }
        if (
          calls.length > 0 && (call.kind === "map" || bytes + size > maxPayload)
        ) {
          break;
        }
        this.#waiting.shift();
        calls.push(call);
        bytes += size;
        if (call.kind === "map") break;
      }
      if (calls.length === 0) continue;
      const batch: Batch = { calls, live: calls.length, seq: undefined };
      const now = performance.now();
      for (const call of calls) {
        call.state = "sent";
        call.batch = batch;
        call.sentAt = now;
      }
      this.#inFlight += calls.length;
      this.#publishing++;
      void this.#publish(batch).finally(() => {
        this.#publishing--;
        if (this.#waiting.length > 0) this.#scheduleFlush();
      });
    }
  }

  async #publish(batch: Batch): Promise<void> {
    const meta = encodeFrame({
      v: WIRE_VERSION,
      caller: this.id,
      reply: this.subject,
      max: this.config.maxDeliveries,
    });
    const body = joinFrames([meta, ...batch.calls.map((call) => call.frame)]);
    const msgID = `${this.id}.${this.#batches++}`;
    while (this.state !== "closed" && batch.live > 0) {
      try {
        const ack = await this.#js.publish(
          this.config.names.taskSubject,
          body,
          {
            msgID,
          },
        );
        batch.seq = ack.seq;
        if (batch.live === 0) this.#deleteMessage(ack.seq);
        return;
      } catch {
        // The server is away (restarting): retry; the id keeps it stored once.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  #deleteMessage(seq: number): void {
    this.#jsm?.streams.deleteMessage(this.config.names.taskStream, seq, false)
      .catch(() => {});
  }

  /** Cancels a call: settles it now, and stops it wherever it is. */
  cancel(call: Call, reason: unknown): void {
    if (call.state === "settled") return;
    const sent = call.state === "sent";
    this.#settle(call, false, reason, "cancelled");
    if (!sent) return;
    this.#kv.put(cancelKey(this.id, call.id), "").catch(() => {});
    const batch = call.batch as Batch;
    if (batch.live === 0 && batch.seq !== undefined) {
      this.#deleteMessage(batch.seq);
    }
  }

  #settle(
    call: Call,
    ok: boolean,
    value: unknown,
    outcome: "completed" | "failed" | "cancelled",
    runMs?: number,
  ): void {
    if (call.state === "settled") return;
    if (call.state === "sent") {
      this.#inFlight--;
      (call.batch as Batch).live--;
    }
    call.state = "settled";
    this.#pending.delete(call.id);
    this.#counts[outcome]++;
    if (call.onAbort !== undefined) {
      call.signal?.removeEventListener("abort", call.onAbort);
    }
    call.sink(ok, value, runMs);
    if (this.#waiting.length > 0) this.#scheduleFlush();
    if (this.#pending.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  stats(): ClusterPoolStats {
    let waiting = this.#pending.size - this.#inFlight;
    if (waiting < 0) waiting = 0;
    return {
      state: this.state,
      waiting,
      inFlight: this.#inFlight,
      ...this.#counts,
      roundTripMs: this.#roundTrip.snapshot(),
    };
  }

  /** Finishes every call, then ends. */
  async close(): Promise<void> {
    if (this.state === "connecting" || this.state === "open") {
      this.state = "closing";
    }
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    await this.#end();
  }

  /** Ends now: pending calls fail, sent ones are cancelled remotely. */
  async terminate(): Promise<void> {
    if (this.state === "closed") return;
    const wasReady = this.state === "open" || this.state === "closing";
    this.state = "closed";
    const error = new PoolClosedError(
      "Cannot finish the call as the pool was terminated",
    );
    const sent = [...this.#pending.values()].some((c) => c.state === "sent");
    for (const call of [...this.#pending.values()]) {
      this.#settle(call, false, error, "failed");
    }
    if (wasReady && sent) {
      await this.#kv.put(`${this.id}.all`, "").catch(() => {});
    }
    await this.#end();
  }

  async #end(): Promise<void> {
    const wasClosed = this.state === "closed" && this.#nc === undefined;
    this.state = "closed";
    if (wasClosed) return;
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc === undefined || nc.isClosed()) return;
    this.#messages?.stop();
    const { names } = this.config;
    if (this.#jsm !== undefined) {
      await this.#jsm.consumers.delete(names.resultStream, `caller_${this.id}`)
        .catch(() => {});
      await this.#jsm.streams.purge(names.resultStream, {
        filter: this.subject,
      }).catch(() => {});
    }
    await nc.close().catch(() => {});
  }
}
