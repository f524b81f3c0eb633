// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeFrame,
  FrameDecoder,
  FrameError,
  FrameWriter,
  HEADER_BYTES,
  readFrames,
} from "./_proc_frame.ts";
import { deserializeError, serializeError } from "./errors/serialize_error.ts";

/**
 * Values with structured-clone semantics that deepStrictEqual can compare;
 * each test expects what `structuredClone` makes of them (a null-prototype
 * object arrives as a plain one, as with postMessage).
 */
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.bigInt(),
    ),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 64 }),
    fc.float64Array({ maxLength: 16 }),
    fc.constantFrom(/a+b/g, /x/iu),
    fc.array(tie("v"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie("v"), { maxKeys: 5 }),
    fc.array(fc.tuple(fc.string({ maxLength: 4 }), tie("v")), { maxLength: 4 })
      .map((entries) => new Map(entries)),
    fc.array(fc.integer(), { maxLength: 5 }).map((items) => new Set(items)),
  ),
})).v;

/** Frames, each a non-empty batch of messages. */
const batches = fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), {
  maxLength: 8,
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `bytes` cut at the sorted, distinct points `cuts`. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    // Empty chunks too: a stream may yield them.
    chunks.push(bytes.slice(from, point));
    from = point;
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[]): unknown[] {
  const decoder = new FrameDecoder();
  const out: unknown[] = [];
  for (const chunk of chunks) decoder.push(chunk, out);
  decoder.end();
  return out;
}

Deno.test("FrameDecoder decodes random frames the same however the stream is cut", () => {
  fc.assert(
    fc.property(
      batches,
      fc.array(fc.nat(), { maxLength: 40 }),
      (frames, cuts) => {
        const bytes = concat(frames.map((batch) => encodeFrame(batch)));
        assert.deepStrictEqual(
          decodeAll(cut(bytes, cuts)),
          structuredClone(frames.flat()),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("FrameDecoder decodes a stream fed one byte at a time", () => {
  fc.assert(
    fc.property(batches, (frames) => {
      const bytes = concat(frames.map((batch) => encodeFrame(batch)));
      const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
      assert.deepStrictEqual(decodeAll(chunks), structuredClone(frames.flat()));
    }),
    { numRuns: 50 },
  );
});

Deno.test("readFrames() yields the messages of a ReadableStream cut at random", async () => {
  await fc.assert(
    fc.asyncProperty(
      batches,
      fc.array(fc.nat(), { maxLength: 20 }),
      async (frames, cuts) => {
        const bytes = concat(frames.map((batch) => encodeFrame(batch)));
        const stream = ReadableStream.from(cut(bytes, cuts));
        const seen: unknown[] = [];
        for await (const message of readFrames(stream)) seen.push(message);
        assert.deepStrictEqual(seen, structuredClone(frames.flat()));
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("FrameDecoder keeps a 1 MB frame whole across 64 KiB chunks", () => {
  const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
  const bytes = concat([
    encodeFrame(["a"]),
    encodeFrame([big]),
    encodeFrame([1]),
  ]);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += 65536) {
    chunks.push(bytes.subarray(at, at + 65536));
  }
  assert.deepStrictEqual(decodeAll(chunks), ["a", big, 1]);
});

Deno.test("Decoded typed arrays own fresh memory and keep their buffer, as with postMessage", () => {
  const view = new Uint8Array([1, 2, 3, 4, 5, 6]).subarray(2, 5);
  const chunk = encodeFrame([view, new Float64Array([0.5])]);
  const out: unknown[] = [];
  new FrameDecoder().push(chunk, out);
  chunk.fill(0);
  const [copy, floats] = out as [Uint8Array, Float64Array];
  assert.deepStrictEqual(copy, Uint8Array.of(3, 4, 5));
  assert.equal(copy.byteOffset, 2);
  assert.equal(copy.buffer.byteLength, 6);
  assert.deepStrictEqual(floats, Float64Array.of(0.5));
});

Deno.test("Errors cross a frame through serializeError with their class and fields", () => {
  const error = Object.assign(new TypeError("bad", { cause: new Error("c") }), {
    code: "E_BAD",
  });
  const out: unknown[] = [];
  new FrameDecoder().push(encodeFrame([serializeError(error)]), out);
  const copy = deserializeError(out[0] as ReturnType<typeof serializeError>);
  assert.ok(copy instanceof TypeError);
  assert.equal((copy as TypeError & { code: string }).code, "E_BAD");
  assert.equal(((copy as Error).cause as Error).message, "c");
});

Deno.test("FrameDecoder rejects stray bytes with a FrameError at the frame that broke", () => {
  const good = encodeFrame([1]);
  const out: unknown[] = [];
  const decoder = new FrameDecoder();
  assert.throws(
    () =>
      decoder.push(concat([good, new TextEncoder().encode("hello\n")]), out),
    (e) =>
      e instanceof FrameError &&
      e.message.includes(`at byte ${good.length}`) &&
      e.message.includes("68 65 6c 6c"),
  );
  assert.deepStrictEqual(out, [1]);
});

Deno.test("FrameDecoder rejects an oversized frame from its header alone", () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
  const frame = encodeFrame([new Uint8Array(2048)]);
  // Only the header arrives: the limit is enforced before any body is kept.
  assert.throws(
    () => decoder.push(frame.subarray(0, HEADER_BYTES), []),
    (e) => e instanceof FrameError && /limited to 1024 bytes/.test(e.message),
  );
});

Deno.test("FrameDecoder rejects a body that does not decode or is not a batch", () => {
  const frame = encodeFrame(["x"]);
  frame.fill(0xff, HEADER_BYTES);
  assert.throws(() => new FrameDecoder().push(frame, []), FrameError);
  // A well-formed header around a body that decodes to a string, not an
  // array of messages.
  const text = new TextEncoder().encode("x");
  const body = Uint8Array.of(0xff, 0x0f, 0x22, text.length, ...text);
  const bad = new Uint8Array(HEADER_BYTES + body.length);
  bad.set([0x53, 0x43, 1, 0]);
  new DataView(bad.buffer).setUint32(4, body.length, true);
  bad.set(body, HEADER_BYTES);
  assert.throws(
    () => new FrameDecoder().push(bad, []),
    (e) => e instanceof FrameError && /not a batch/.test(e.message),
  );
});

Deno.test("FrameDecoder.end() rejects a stream that stops inside a frame", () => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame([1, 2, 3]);
  decoder.push(frame.subarray(0, frame.length - 1), []);
  assert.equal(decoder.pendingBytes, frame.length - 1);
  assert.throws(() => decoder.end(), FrameError);
});

/** A sink that records each write. */
function recorder() {
  const writes: Uint8Array[] = [];
  return {
    writes,
    sink: (bytes: Uint8Array) => {
      writes.push(bytes.slice());
    },
  };
}

Deno.test("FrameWriter writes the messages sent in one tick in one write", async () => {
  const { writes, sink } = recorder();
  const writer = new FrameWriter(sink);
  for (let i = 0; i < 100; i++) writer.send({ i });
  await writer.flush();
  assert.equal(writes.length, 1);
  assert.deepStrictEqual(
    decodeAll(writes),
    Array.from({ length: 100 }, (_, i) => ({ i })),
  );
});

Deno.test("FrameWriter gathers messages sent during a write into the next one", async () => {
  const writes: Uint8Array[] = [];
  const gates: (() => void)[] = [];
  const writer = new FrameWriter((bytes) => {
    writes.push(bytes.slice());
    return new Promise<void>((resolve) => gates.push(resolve));
  });
  writer.send(0);
  await Promise.resolve();
  assert.equal(writes.length, 1);
  for (let i = 1; i <= 5; i++) writer.send(i);
  const flushed = writer.flush();
  gates.shift()!();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(writes.length, 2);
  gates.shift()!();
  await flushed;
  assert.deepStrictEqual(decodeAll(writes), [0, 1, 2, 3, 4, 5]);
});

Deno.test("FrameWriter reports an unclonable message alone and sends the rest", async () => {
  const { writes, sink } = recorder();
  const dropped: unknown[] = [];
  const writer = new FrameWriter(sink, {
    onUnsendable: (message) => dropped.push(message),
  });
  const fn = () => 1;
  writer.send(1);
  writer.send(fn);
  writer.send(new Map([[1, 2]]));
  writer.send(new SharedArrayBuffer(8));
  writer.send(3);
  await writer.flush();
  assert.equal(dropped.length, 2);
  assert.equal(dropped[0], fn);
  assert.deepStrictEqual(decodeAll(writes), [1, new Map([[1, 2]]), 3]);
});

Deno.test("FrameWriter splits a batch over maxFrameBytes and drops a lone oversized message", async () => {
  const { writes, sink } = recorder();
  const dropped: unknown[] = [];
  const writer = new FrameWriter(sink, {
    maxFrameBytes: 300,
    onUnsendable: (_, error) => dropped.push(error),
  });
  const items = Array.from(
    { length: 4 },
    (_, i) => new Uint8Array(100).fill(i),
  );
  for (const item of items) writer.send(item);
  writer.send(new Uint8Array(400));
  await writer.flush();
  assert.equal(dropped.length, 1);
  assert.ok(dropped[0] instanceof RangeError);
  assert.deepStrictEqual(decodeAll(writes), items);
});

Deno.test("FrameWriter fails when its sink fails, and close() refuses more", async () => {
  const failing = new FrameWriter(() => Promise.reject(new Error("EPIPE")));
  failing.send(1);
  await assert.rejects(failing.flush(), /EPIPE/);
  assert.equal(failing.state, "failed");
  assert.equal(failing.send(2), false);

  const { writes, sink } = recorder();
  const writer = new FrameWriter(sink);
  writer.send("last");
  await writer.close();
  await writer.close();
  assert.equal(writer.state, "closed");
  assert.throws(() => writer.send("more"), /closed/);
  assert.deepStrictEqual(decodeAll(writes), ["last"]);
});

Deno.test("FrameWriter without onUnsendable fails on an unclonable message", async () => {
  const writer = new FrameWriter(() => {});
  writer.send(Symbol("x"));
  await assert.rejects(writer.flush());
  assert.equal(writer.state, "failed");
});
