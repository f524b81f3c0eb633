// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: a worker's results to one caller, batched.
 *
 * One publish to a subject is in flight at a time; results that finish
 * meanwhile wait and go together in the next one (as many as fit in the
 * server's `max_payload`), so an idle worker answers at once and a busy one
 * sends few large messages. A publish that fails (the server is restarting)
 * is retried with the same message id, which JetStream's duplicate window
 * turns into one stored message.
 *
 * @module
 */

import type { JetStreamClient } from "@nats-io/jetstream";
import { serializeError } from "../errors/serialize_error.ts";
import {
  encodeFrame,
  joinFrames,
  WIRE_VERSION,
  type WireResult,
} from "./_frames.ts";

interface Pending {
  frame: Uint8Array;
  resolve(): void;
  reject(reason: unknown): void;
}

/** What a sender needs from its worker. */
export interface SenderHost {
  js: JetStreamClient;
  /** The largest message the server takes, in bytes. */
  maxPayload: number;
  /** Whether retrying still makes sense (the worker has not ended). */
  live(): boolean;
  /** Waits a little before a retry; resolves early when the worker ends. */
  pause(ms: number): Promise<void>;
  /** A fresh message id, unique to this worker process. */
  nextMsgId(): string;
}

export class ResultSender {
  readonly #host: SenderHost;
  readonly #subject: string;
  #queue: Pending[] = [];
  #busy = false;

  constructor(host: SenderHost, subject: string) {
    this.#host = host;
    this.#subject = subject;
  }

  /** Sends a result; resolves once the server has stored it. */
  send(result: WireResult): Promise<void> {
    const frame = this.#encode(result);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ frame, resolve, reject });
      if (!this.#busy) void this.#flush();
    });
  }

  /** Encodes a result, or an error saying why it could not be. */
  #encode(result: WireResult): Uint8Array {
    const limit = this.#host.maxPayload - 64;
    let reason: unknown;
    try {
      const frame = encodeFrame(result);
      if (frame.byteLength <= limit) return frame;
      reason = new RangeError(
        `Cannot send the result of call ${result.id} as it takes ${frame.byteLength} bytes, more than the server's max_payload of ${this.#host.maxPayload}`,
      );
    } catch (error) {
      reason = new TypeError(
        `Cannot send the result of call ${result.id} as it cannot be cloned`,
        { cause: error },
      );
    }
    return encodeFrame({
      v: WIRE_VERSION,
      id: result.id,
      ok: false,
      error: serializeError(reason),
    });
  }

  async #flush(): Promise<void> {
    this.#busy = true;
    const limit = this.#host.maxPayload - 64;
    while (this.#queue.length > 0) {
      let bytes = 0;
      let count = 0;
      for (const item of this.#queue) {
        if (count > 0 && bytes + item.frame.byteLength + 4 > limit) break;
        bytes += item.frame.byteLength + 4;
        count++;
      }
      const batch = this.#queue.splice(0, count);
      const body = joinFrames(batch.map((item) => item.frame));
      const msgID = this.#host.nextMsgId();
      for (;;) {
        try {
          await this.#host.js.publish(this.#subject, body, { msgID });
          for (const item of batch) item.resolve();
          break;
        } catch (error) {
          if (!this.#host.live()) {
            for (const item of [...batch, ...this.#queue.splice(0)]) {
              item.reject(error);
            }
            break;
          }
          await this.#host.pause(250);
        }
      }
    }
    this.#busy = false;
  }
}
