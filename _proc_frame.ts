// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: messages over a byte stream, for process workers. A process
 * cannot post a message to another; it can only write bytes to a pipe. This
 * module turns values into frames and back.
 *
 * ```text
 * frame:  magic "SC" | version 1 | 0 | body length: u32 LE | body
 *         (2 bytes)    (1 byte)  (1)   (4 bytes)            (length bytes)
 * body:   node:v8 serialize([message, message, ...])   one or more messages
 * ```
 *
 * **Semantics.** A body is V8's own structured-clone format, so a message
 * keeps what `postMessage` keeps: typed arrays (with their whole buffer and
 * offset), `Map`, `Set`, `Date`, `BigInt`, `RegExp`, nested and cyclic
 * objects. Like `postMessage`, it throws for functions, symbols and
 * `SharedArrayBuffer` (memory cannot be shared between processes). Errors go
 * into messages as `SerializedError` objects (`errors/serialize_error.ts`),
 * never as raw `Error`s, which V8 would send without their own fields or
 * their class.
 *
 * It uses the base `Serializer` and `Deserializer` of `node:v8`, not
 * `v8.serialize()`/`v8.deserialize()`: those (Node's `DefaultSerializer`)
 * send a typed array as a host object, only its view's bytes, and decode it
 * as a view into the input bytes (or, unaligned, into `Buffer`'s shared
 * pool), so a decoded `Uint8Array` would alias the stream's memory and lose
 * its buffer's other bytes. The base classes decode into fresh memory.
 *
 * **Batching.** One `node:v8` call costs some 10 µs whatever its size (on
 * the 2-core development machine), against well under a microsecond per
 * small message inside a batch. So {@linkcode FrameWriter} queues the
 * messages sent in the same tick and encodes them as one body in one frame
 * with one write; while a write is in flight, messages gather for the next.
 * A batch that cannot be encoded is encoded again message by message, so one
 * message that cannot be cloned is reported alone (`onUnsendable`) and the
 * others go.
 *
 * **Reading.** {@linkcode FrameDecoder} takes chunks as they come, cut
 * anywhere: a partial header or body is kept until the rest arrives, a frame
 * wholly inside a chunk is decoded in place, and a large frame is gathered
 * into one buffer of its exact size. It checks each header as soon as it is
 * whole: bad magic bytes (stray bytes in the stream), a length over
 * `maxFrameBytes`, a body that does not decode to a non-empty array, and a
 * stream that ends inside a frame are each a {@linkcode FrameError}. A peer
 * that sends one is broken: the stream cannot be trusted past it.
 *
 * @module
 */

import { Deserializer, Serializer } from "node:v8";

const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x43; // "C"
const VERSION = 1;
const MAGIC = [MAGIC_0, MAGIC_1, VERSION, 0];
/** Bytes in a frame header. */
export const HEADER_BYTES = 8;
/** The default largest frame body, in bytes (1 GiB). */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 30;
/** Bodies at least this large are written apart from their header. */
const LARGE_BODY = 64 * 1024;

/** A frame that breaks the format; the stream is unusable past it. */
export class FrameError extends Error {
  /**
   * @param message What is wrong with the frame.
   * @param options Standard error options.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
  }
}

function checkMax(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > 0xffff_ffff) {
    throw new RangeError(
      `Cannot use frames as 'maxFrameBytes' must be an integer from 1 to 2^32 - 1: received ${max}`,
    );
  }
  return max;
}

/** A message encoded by `sendNow`, waiting in the queue. */
class Encoded {
  readonly body: Uint8Array;
  constructor(body: Uint8Array) {
    this.body = body;
  }
}

/** Encodes `messages` (at least one) as the body of one frame. */
function encodeBody(messages: readonly unknown[]): Uint8Array {
  const serializer = new Serializer();
  serializer.writeHeader();
  serializer.writeValue(messages);
  return serializer.releaseBuffer();
}

function decodeBody(body: Uint8Array): unknown {
  const deserializer = new Deserializer(body);
  deserializer.readHeader();
  return deserializer.readValue();
}

function header(bodyBytes: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes[0] = MAGIC_0;
  bytes[1] = MAGIC_1;
  bytes[2] = VERSION;
  new DataView(bytes.buffer).setUint32(4, bodyBytes, true);
  return bytes;
}

/**
 * Encodes `messages` (at least one) as one frame.
 *
 * @throws {Error} If a message cannot be cloned.
 * @throws {RangeError} If the body would exceed `maxFrameBytes`.
 */
export function encodeFrame(
  messages: readonly unknown[],
  maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
): Uint8Array {
  const body = encodeBody(messages);
  if (body.length > maxFrameBytes) throw tooLarge(body.length, maxFrameBytes);
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  frame.set(header(body.length));
  frame.set(body, HEADER_BYTES);
  return frame;
}

function tooLarge(bytes: number, max: number): RangeError {
  return new RangeError(
    `Cannot send a message of ${bytes} bytes: frames are limited to ${max} bytes`,
  );
}

/** Options of a {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame body accepted, in bytes; a header that announces more
   * is a {@linkcode FrameError} before any of its body is buffered.
   *
   * @default {1073741824}
   */
  maxFrameBytes?: number;
}

/**
 * Decodes frames from chunks of a byte stream, however the stream was cut.
 *
 * Invariant: `#pending[0, #length)` holds the bytes of exactly one partial
 * frame (a partial header, or a whole header and part of its body), or
 * nothing; once its header is whole, `#pending` is at least the frame's size.
 */
export class FrameDecoder {
  readonly #max: number;
  #pending: Uint8Array = new Uint8Array(HEADER_BYTES);
  #length = 0;
  /** Bytes consumed so far, for error messages. */
  #offset = 0;

  /** @throws {RangeError} If `maxFrameBytes` is not an integer in range. */
  constructor(options: FrameDecoderOptions = {}) {
    this.#max = checkMax(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  /** Bytes of a partial frame held back, waiting for the rest. */
  get pendingBytes(): number {
    return this.#length;
  }

  /**
   * Takes the next chunk of the stream and appends the messages of every
   * frame it completes to `out`, in order.
   *
   * @throws {FrameError} If the stream breaks the format; the decoder must
   *   not be used again.
   */
  push(chunk: Uint8Array, out: unknown[]): void {
    let at = 0;
    if (this.#length > 0) {
      at = this.#fill(chunk, out);
      if (this.#length > 0) return;
    }
    while (chunk.length - at >= HEADER_BYTES) {
      const size = HEADER_BYTES + this.#bodyBytes(chunk, at);
      if (chunk.length - at < size) break;
      this.#decode(chunk.subarray(at + HEADER_BYTES, at + size), out);
      at += size;
    }
    const rest = chunk.length - at;
    if (rest === 0) return;
    this.#checkMagic(chunk, at, rest);
    // Partial: the header was checked above when it is whole.
    const size = rest >= HEADER_BYTES
      ? HEADER_BYTES + this.#bodyBytes(chunk, at)
      : HEADER_BYTES;
    if (this.#pending.length < size) this.#pending = new Uint8Array(size);
    this.#pending.set(chunk.subarray(at));
    this.#length = rest;
  }

  /**
   * Says the stream has ended.
   *
   * @throws {FrameError} If it ended inside a frame.
   */
  end(): void {
    if (this.#length === 0) return;
    const length = this.#length;
    this.#length = 0;
    throw new FrameError(
      `The stream ended inside a frame, after ${length} of its bytes (at byte ${this.#offset})`,
    );
  }

  /** Adds bytes from `chunk` to the partial frame; returns where it stopped. */
  #fill(chunk: Uint8Array, out: unknown[]): number {
    let at = 0;
    if (this.#length < HEADER_BYTES) {
      at = Math.min(HEADER_BYTES - this.#length, chunk.length);
      this.#pending.set(chunk.subarray(0, at), this.#length);
      this.#length += at;
      this.#checkMagic(this.#pending, 0, this.#length);
      if (this.#length < HEADER_BYTES) return at;
      const size = HEADER_BYTES + this.#bodyBytes(this.#pending, 0);
      if (this.#pending.length < size) {
        const grown = new Uint8Array(size);
        grown.set(this.#pending.subarray(0, HEADER_BYTES));
        this.#pending = grown;
      }
    }
    const size = HEADER_BYTES + this.#bodyBytes(this.#pending, 0);
    const take = Math.min(size - this.#length, chunk.length - at);
    this.#pending.set(chunk.subarray(at, at + take), this.#length);
    this.#length += take;
    at += take;
    if (this.#length === size) {
      this.#length = 0;
      const pending = this.#pending;
      // A large buffer is not kept for the small frames that follow.
      if (pending.length > LARGE_BODY) {
        this.#pending = new Uint8Array(HEADER_BYTES);
      }
      this.#decode(pending.subarray(HEADER_BYTES, size), out);
    }
    return at;
  }

  /**
   * Checks the first `available` bytes (up to 4) of the header at
   * `bytes[at]`, so that stray bytes are caught before a header is whole.
   */
  #checkMagic(bytes: Uint8Array, at: number, available: number): void {
    const n = Math.min(available, 4);
    for (let i = 0; i < n; i++) {
      if (bytes[at + i] === MAGIC[i]) continue;
      const seen = Array.from(
        bytes.subarray(at, at + n),
        (b) => b.toString(16).padStart(2, "0"),
      ).join(" ");
      throw new FrameError(
        `Corrupt frame at byte ${this.#offset}: expected a header 53 43 01 00, found ${seen}`,
      );
    }
  }

  /** Checks the header at `bytes[at]` and returns its body length. */
  #bodyBytes(bytes: Uint8Array, at: number): number {
    this.#checkMagic(bytes, at, 4);
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 4, 4)
      .getUint32(0, true);
    if (length > this.#max) {
      throw new FrameError(
        `Frame at byte ${this.#offset} announces ${length} bytes: frames are limited to ${this.#max} bytes`,
      );
    }
    if (length === 0) {
      throw new FrameError(`Corrupt frame at byte ${this.#offset}: empty`);
    }
    return length;
  }

  #decode(body: Uint8Array, out: unknown[]): void {
    let messages: unknown;
    try {
      messages = decodeBody(body);
    } catch (error) {
      throw new FrameError(
        `Corrupt frame at byte ${this.#offset}: its body does not decode`,
        { cause: error },
      );
    }
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new FrameError(
        `Corrupt frame at byte ${this.#offset}: its body is not a batch of messages`,
      );
    }
    this.#offset += HEADER_BYTES + body.length;
    for (const message of messages) out.push(message);
  }
}

/**
 * Yields the messages of the frames in `source`, in order.
 *
 * @throws {FrameError} If the stream breaks the format or ends inside a frame.
 */
export async function* readFrames(
  source: AsyncIterable<Uint8Array>,
  options: FrameDecoderOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const decoder = new FrameDecoder(options);
  const out: unknown[] = [];
  for await (const chunk of source) {
    decoder.push(chunk, out);
    for (let i = 0; i < out.length; i++) yield out[i];
    out.length = 0;
  }
  decoder.end();
}

/** Where a {@linkcode FrameWriter} writes: a write that settles when done. */
export type ByteSink = (bytes: Uint8Array) => Promise<void> | void;

/** Options of a {@linkcode FrameWriter}. */
export interface FrameWriterOptions {
  /**
   * The largest frame body to write, in bytes. A message that alone would
   * exceed it is unsendable; a batch that would is split.
   *
   * @default {1073741824}
   */
  maxFrameBytes?: number;
  /**
   * Called with each message that cannot be sent (it cannot be cloned, or it
   * is too large), after the other messages of its batch were queued for
   * writing. Without it, such a message fails the writer.
   */
  onUnsendable?: (message: unknown, error: unknown) => void;
}

/** A writer's lifecycle state. */
export type FrameWriterState = "open" | "closed" | "failed";

/**
 * Writes messages as frames, batching those sent in the same tick.
 *
 * - **Order**: messages are written in the order they were sent.
 * - **Batching**: the messages sent before the writer's microtask runs, or
 *   while a write is in flight, go in one frame and one write.
 * - **Close**: `close()` writes what is queued, then refuses more; calling it
 *   again is fine.
 * - **Failure**: a write that rejects fails the writer: what is queued is
 *   dropped, `flush()` rejects with the write's error, and `send()` returns
 *   `false` (the peer is gone; its death is for the owner to handle).
 * - **Misuse**: `send()` after `close()` throws.
 */
export class FrameWriter {
  readonly #sink: ByteSink;
  readonly #max: number;
  readonly #onUnsendable: ((message: unknown, error: unknown) => void) | null;
  #state: FrameWriterState = "open";
  #error: unknown = undefined;
  #queue: unknown[] = [];
  #writing = false;
  #scheduled = false;
  /** Messages sent, and messages written (or dropped as unsendable). */
  #sent = 0;
  #done = 0;
  #waiters: {
    until: number;
    resolve: () => void;
    reject: (error: unknown) => void;
  }[] = [];

  /**
   * @param sink Writes bytes; the writer never calls it again before the
   *   previous write has settled.
   * @throws {RangeError} If `maxFrameBytes` is not an integer in range.
   */
  constructor(sink: ByteSink, options: FrameWriterOptions = {}) {
    this.#sink = sink;
    this.#max = checkMax(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    this.#onUnsendable = options.onUnsendable ?? null;
  }

  /** Its lifecycle state. */
  get state(): FrameWriterState {
    return this.#state;
  }

  /**
   * Queues `message` for the next frame.
   *
   * @returns `false` if the writer failed (the message is dropped).
   * @throws {Error} If the writer was closed.
   */
  send(message: unknown): boolean {
    return this.#queueItem(message);
  }

  /**
   * Encodes `message` now and queues it for the next write, in order with
   * the messages `send` queues: like `postMessage`, a message that cannot be
   * cloned throws here, and nothing of it is sent.
   *
   * @returns `false` if the writer failed (the message is dropped).
   * @throws {Error} If the writer was closed, or `message` cannot be cloned.
   * @throws {RangeError} If it would exceed `maxFrameBytes`.
   */
  sendNow(message: unknown): boolean {
    if (this.#state !== "open") return this.#queueItem(message);
    const body = encodeBody([message]);
    if (body.length > this.#max) throw tooLarge(body.length, this.#max);
    return this.#queueItem(new Encoded(body));
  }

  #queueItem(message: unknown): boolean {
    if (this.#state === "failed") return false;
    if (this.#state === "closed") {
      throw new Error("Cannot send a message as the frame writer is closed");
    }
    this.#queue.push(message);
    this.#sent++;
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        void this.#pump();
      });
    }
    return true;
  }

  /**
   * Resolves once every message sent before the call is written.
   *
   * @throws {unknown} What the failed write threw, if the writer failed.
   */
  flush(): Promise<void> {
    if (this.#state === "failed") return Promise.reject(this.#error);
    if (this.#done >= this.#sent) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#waiters.push({ until: this.#sent, resolve, reject });
    return promise;
  }

  /** Writes what is queued, then refuses more messages. */
  close(): Promise<void> {
    if (this.#state === "open") this.#state = "closed";
    return this.flush();
  }

  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && this.#state !== "failed") {
        const batch = this.#queue;
        this.#queue = [];
        for (const bytes of this.#encode(batch)) await this.#sink(bytes);
        this.#done += batch.length;
        this.#wake();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = false;
    }
  }

  /** The chunks to write for `batch`, in order. */
  #encode(batch: unknown[]): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    const bodies: Uint8Array[] = [];
    let run: unknown[] = [];
    for (const item of batch) {
      if (!(item instanceof Encoded)) {
        run.push(item);
        continue;
      }
      if (run.length > 0) bodies.push(...this.#bodies(run));
      run = [];
      bodies.push(item.body);
    }
    if (run.length > 0) bodies.push(...this.#bodies(run));
    let small: Uint8Array[] = [];
    let smallBytes = 0;
    const flushSmall = () => {
      if (small.length === 0) return;
      const joined = new Uint8Array(smallBytes);
      let at = 0;
      for (const part of small) {
        joined.set(part, at);
        at += part.length;
      }
      chunks.push(joined);
      small = [];
      smallBytes = 0;
    };
    for (const body of bodies) {
      if (body.length >= LARGE_BODY) {
        // Not copied into a joined buffer: two writes cost less than a copy.
        small.push(header(body.length));
        smallBytes += HEADER_BYTES;
        flushSmall();
        chunks.push(body);
      } else {
        small.push(header(body.length), body);
        smallBytes += HEADER_BYTES + body.length;
      }
    }
    flushSmall();
    return chunks;
  }

  /** Bodies for `batch`: one if it encodes within the limit, else split. */
  #bodies(batch: unknown[]): Uint8Array[] {
    let body: Uint8Array;
    try {
      body = encodeBody(batch);
    } catch (error) {
      if (batch.length === 1) {
        this.#unsendable(batch[0], error);
        return [];
      }
      return this.#split(batch);
    }
    if (body.length <= this.#max) return [body];
    if (batch.length === 1) {
      this.#unsendable(batch[0], tooLarge(body.length, this.#max));
      return [];
    }
    return this.#split(batch);
  }

  #split(batch: unknown[]): Uint8Array[] {
    const half = batch.length >> 1;
    return [
      ...this.#bodies(batch.slice(0, half)),
      ...this.#bodies(batch.slice(half)),
    ];
  }

  #unsendable(message: unknown, error: unknown): void {
    if (this.#onUnsendable === null) throw error;
    this.#onUnsendable(message, error);
  }

  #wake(): void {
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiting) {
      if (waiter.until <= this.#done) waiter.resolve();
      else this.#waiters.push(waiter);
    }
  }

  #fail(error: unknown): void {
    this.#state = "failed";
    this.#error = error;
    this.#queue = [];
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiting) waiter.reject(error);
  }
}
