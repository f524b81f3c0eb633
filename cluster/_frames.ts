// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the bytes that cross the NATS server, and their checks.
 *
 * A message is a sequence of frames, each a 4-byte little-endian length and
 * that many bytes of V8's serialization format (`node:v8`, the structured
 * clone algorithm: what `postMessage` copies, BigInt, Map, Date and typed
 * arrays included). Each call and each result is serialized on its own, so
 * a value that cannot be cloned fails only its own call, and a message can
 * be cut to fit the server's `max_payload` without serializing twice.
 *
 * ```
 * task message:   [meta: TaskMeta] [call: WireCall]...
 * result message: [result: WireResult]...
 * ```
 *
 * Both sides treat what they receive as untrusted input: a frame that does
 * not decode, or decodes to the wrong shape, is dropped (and counted), never
 * allowed to settle a call that is not its own.
 *
 * @module
 */

import { deserialize, serialize } from "node:v8";
import {
  isSerializedError,
  type SerializedError,
} from "../errors/serialize_error.ts";

/** The version tag every meta frame and result carries. */
export const WIRE_VERSION = 1;

/** What a task message says about all its calls. */
export interface TaskMeta {
  v: typeof WIRE_VERSION;
  /** The caller's id: with a call's `id`, the key of its cancellation. */
  caller: string;
  /** The subject results go to. */
  reply: string;
  /** How many deliveries the message may have before it fails as crashed. */
  max: number;
}

/** `run`: `args` are the arguments. `map`: `args[0]` holds the items. */
export type CallKind = "run" | "map";

/** One call in a task message. */
export interface WireCall {
  id: number;
  task: string;
  kind: CallKind;
  args: unknown[];
}

/** One call's outcome; `ms` is how long it ran on its worker. */
export type WireResult =
  | {
    v: typeof WIRE_VERSION;
    id: number;
    ok: true;
    value: unknown;
    ms?: number;
  }
  | {
    v: typeof WIRE_VERSION;
    id: number;
    ok: false;
    error: SerializedError;
    ms?: number;
  };

/** Serializes one value to a frame's bytes; throws if it cannot be cloned. */
export function encodeFrame(value: unknown): Uint8Array {
  return serialize(value);
}

/** Joins frames into one message body. */
export function joinFrames(frames: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const frame of frames) size += 4 + frame.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const frame of frames) {
    view.setUint32(at, frame.byteLength, true);
    out.set(frame, at + 4);
    at += 4 + frame.byteLength;
  }
  return out;
}

/**
 * Splits a message body into decoded frames. A frame that does not decode
 * is `undefined`; a body whose lengths do not add up yields what it could
 * read before the fault, then `undefined`.
 */
export function splitFrames(body: Uint8Array): unknown[] {
  const out: unknown[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.byteLength) {
    if (at + 4 > body.byteLength) {
      out.push(undefined);
      break;
    }
    const length = view.getUint32(at, true);
    const end = at + 4 + length;
    if (end > body.byteLength) {
      out.push(undefined);
      break;
    }
    try {
      out.push(deserialize(body.subarray(at + 4, end)));
    } catch {
      out.push(undefined);
    }
    at = end;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Checks a decoded meta frame. */
export function isTaskMeta(value: unknown): value is TaskMeta {
  return isRecord(value) && value.v === WIRE_VERSION &&
    typeof value.caller === "string" && typeof value.reply === "string" &&
    Number.isSafeInteger(value.max) && (value.max as number) >= 1;
}

/** Checks a decoded call frame. */
export function isWireCall(value: unknown): value is WireCall {
  return isRecord(value) && isId(value.id) && typeof value.task === "string" &&
    (value.kind === "run" || value.kind === "map") &&
    Array.isArray(value.args) &&
    (value.kind === "run" || value.args.length === 1);
}

/** Checks a decoded result frame. */
export function isWireResult(value: unknown): value is WireResult {
  if (!isRecord(value) || value.v !== WIRE_VERSION || !isId(value.id)) {
    return false;
  }
  if (value.ok === true) return "value" in value;
  return value.ok === false && isSerializedError(value.error);
}

/**
 * Packs a list of numbers as a `Float64Array` (half the bytes of V8's
 * encoding of an array of doubles, and a copy instead of a walk); other
 * lists are returned as they are.
 */
export function packItems(items: readonly unknown[]): unknown {
  for (let i = 0; i < items.length; i++) {
    if (typeof items[i] !== "number") return items;
  }
  return Float64Array.from(items as number[]);
}

/** Turns what {@linkcode packItems} made back into an array. */
export function unpackItems(packed: unknown): unknown[] | undefined {
  if (packed instanceof Float64Array) return Array.from(packed);
  return Array.isArray(packed) ? packed : undefined;
}
