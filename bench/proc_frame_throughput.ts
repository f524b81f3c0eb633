// Copyright the @seed/concurrency authors. MIT license.
// Throughput of the process-worker frame codec (`_proc_frame.ts`) within one
// process: FrameWriter -> bytes -> FrameDecoder, so the figures are the
// codec's own cost, without a pipe. Small messages are measured as the pool
// would send them (many in one tick, one frame per batch) and one per tick
// (a frame each); 1 MB Uint8Arrays as MB/s. structuredClone of the same
// values is the baseline.
//
//   deno run bench/proc_frame_throughput.ts [--json]

import { FrameDecoder, FrameWriter } from "../_proc_frame.ts";

const json = Deno.args.includes("--json");
const results: Record<string, number> = {};

function report(name: string, value: number, unit: string): void {
  results[name] = value;
  if (!json) console.log(`${name}: ${value.toFixed(1)} ${unit}`);
}

/** Sends `count` messages made by `make`, `perTick` per tick; returns ms. */
async function pump(
  count: number,
  perTick: number,
  make: (i: number) => unknown,
): Promise<number> {
  const decoder = new FrameDecoder();
  const out: unknown[] = [];
  let received = 0;
  const writer = new FrameWriter((bytes) => {
    decoder.push(bytes, out);
    received += out.length;
    out.length = 0;
  });
  const start = performance.now();
  for (let i = 0; i < count; i += perTick) {
    for (let j = i; j < Math.min(i + perTick, count); j++) writer.send(make(j));
    await writer.flush();
  }
  const ms = performance.now() - start;
  if (received !== count) throw new Error(`Lost messages: ${received}`);
  return ms;
}

const small = (i: number) => [14, i, 0, i * 0.5, 0.25];
const megabyte = new Uint8Array(1 << 20).fill(7);

// Warm up the JIT on every path first.
await pump(20_000, 1000, small);
await pump(2_000, 1, small);
await pump(20, 1, () => megabyte);

const N = 200_000;
report(
  "small messages, 1000 per tick (msg/s)",
  N / (await pump(N, 1000, small)) * 1000,
  "msg/s",
);
report(
  "small messages, 1 per tick (msg/s)",
  20_000 / (await pump(20_000, 1, small)) * 1000,
  "msg/s",
);
const M = 200;
report(
  "1 MB Uint8Array, 1 per tick (MB/s)",
  M / (await pump(M, 1, () => megabyte)) * 1000,
  "MB/s",
);

let t = performance.now();
for (let i = 0; i < N; i++) structuredClone(small(i));
report(
  "baseline: structuredClone of one small message (msg/s)",
  N / (performance.now() - t) * 1000,
  "msg/s",
);
t = performance.now();
for (let i = 0; i < M; i++) structuredClone(megabyte);
report(
  "baseline: structuredClone of 1 MB (MB/s)",
  M / (performance.now() - t) * 1000,
  "MB/s",
);
if (json) console.log(JSON.stringify(results));
