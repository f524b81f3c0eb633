// Copyright the @seed/concurrency authors. MIT license.
// A real program: gzip 32 buffers of 1 MB of seeded text-like bytes with the
// npm library fflate (bench/_compress_task.ts), at pool size 2, beside raw
// Workers and piscina in the same run. Read the results as ratios within a
// group.
//
//   deno bench -A bench/payload_bench.ts        (about a minute on 2 cores)
//
// What is timed. The "warm" group measures scheduling and data movement,
// not start-up: every pool is created once, outside the bench functions,
// with all its workers started and kept (WorkerPool's `minSize` and
// `ready()`, piscina's `minThreads`), then given one full pass so that every
// worker has loaded fflate and the JIT has seen the code. The "cold" group,
// for information, times what a script that gzips once would see: create
// the workers, gzip everything, close.
//
// What moves. Every runner copies each 1 MB buffer to a worker (structured
// clone, no transfer) and copies the compressed bytes (about 490 KB) back,
// so each does the same copying and differs only in how it schedules.
// Every result is checked against the expected total compressed length.
//
// piscina runs on Deno's node:worker_threads layer, whose postMessage of a
// 1 MB Uint8Array took about 150 ms each way on a 2-core development
// machine (December 2026; a raw Worker's took about 2 ms). Its figures here
// measure that layer far more than piscina's scheduling.
import { gunzipSync } from "fflate";
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { gzip } from "./_compress_task.ts";
import { RawQueue } from "./_raw_queue.ts";
import { seededRandom, textLike } from "./_seeded.ts";

type Tasks = typeof import("./_compress_task.ts");

const SIZE = 2;
const COUNT = 32;
const BYTES = 1 << 20;
const TASKS = new URL("./_compress_task.ts", import.meta.url);
const WARM = "gzip 32 x 1 MB, size 2, warm workers";
const COLD = "gzip 32 x 1 MB, size 2, cold: start + gzip + close";

const random = seededRandom(0x5eed);
const buffers = Array.from({ length: COUNT }, () => textLike(BYTES, random));

function totalLength(results: readonly Uint8Array[]): number {
  let total = 0;
  for (const result of results) total += result.byteLength;
  return total;
}

// The reference: the raw baseline's output, each buffer checked by
// decompressing it. Every entry below must produce the same total.
const raw = new RawQueue(SIZE);
const reference = await raw.run<Uint8Array, Uint8Array>(buffers);
for (let i = 0; i < COUNT; i++) {
  const back = gunzipSync(reference[i] as Uint8Array);
  const original = buffers[i] as Uint8Array;
  if (
    back.byteLength !== original.byteLength ||
    back[BYTES - 1] !== original[BYTES - 1]
  ) {
    throw new Error(`Buffer ${i} did not survive gzip and gunzip`);
  }
}
const EXPECTED = totalLength(reference);

function check(results: readonly Uint8Array[]): void {
  if (results.length !== COUNT || totalLength(results) !== EXPECTED) {
    throw new Error(
      `Wrong results: ${results.length} buffers, ${
        totalLength(results)
      } bytes, expected ${COUNT} and ${EXPECTED}`,
    );
  }
}

// Warm pools: every worker started up front and kept however idle, so that
// none stops and restarts inside a timed run; unload ends them.
const pool = new WorkerPool<Tasks>(TASKS, { size: SIZE, minSize: SIZE });
const piscina = new Piscina({
  filename: TASKS.href,
  minThreads: SIZE,
  maxThreads: SIZE,
  idleTimeout: Infinity,
});
await pool.ready();
// One full pass each (the raw workers had theirs above).
check(await pool.map("gzip", buffers));
check(
  await Promise.all(
    buffers.map((b) => piscina.run(b, { name: "gzip" }) as Promise<Uint8Array>),
  ),
);
if (pool.stats.workers !== SIZE) {
  throw new Error(
    `The pool has ${pool.stats.workers} workers after warm-up, not ${SIZE}`,
  );
}
globalThis.addEventListener("unload", () => {
  raw.close();
  pool.terminate();
  piscina.destroy();
});

// ---- warm workers: scheduling and copying only ------------------------------

Deno.bench({
  name: "raw Workers: each takes the next buffer when free",
  group: WARM,
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    check(await raw.run<Uint8Array, Uint8Array>(buffers));
  },
});

Deno.bench({
  // Default chunks: at present one buffer each (items of 16 KB or more go
  // at most 1 MB per chunk), so this matches chunkSize 1 unless that changes.
  name: 'WorkerPool.map("gzip"), default chunks',
  group: WARM,
  n: 5,
  warmup: 1,
  async fn() {
    check(await pool.map("gzip", buffers));
  },
});

Deno.bench({
  name: 'WorkerPool.map("gzip", { chunkSize: 1 })',
  group: WARM,
  n: 5,
  warmup: 1,
  async fn() {
    check(await pool.map("gzip", buffers, { chunkSize: 1 }));
  },
});

Deno.bench({
  name: 'WorkerPool.run("gzip") per buffer, Promise.all',
  group: WARM,
  n: 5,
  warmup: 1,
  async fn() {
    check(await Promise.all(buffers.map((b) => pool.run("gzip", [b]))));
  },
});

Deno.bench({
  name: "piscina.run per buffer, Promise.all",
  group: WARM,
  n: 5,
  warmup: 1,
  async fn() {
    check(
      await Promise.all(
        buffers.map((b) =>
          piscina.run(b, { name: "gzip" }) as Promise<Uint8Array>
        ),
      ),
    );
  },
});

/**
 * The same work on this thread, one buffer after another: the 1x line. If the
 * raw workers come close to it, the machine had about one core to give in
 * this run, and the other ratios say little about scheduling.
 */
Deno.bench({
  name: "one thread, no workers (for information)",
  group: WARM,
  n: 3,
  warmup: 1,
  fn() {
    check(buffers.map(gzip));
  },
});

// ---- cold: start the workers, gzip everything, close -----------------------

Deno.bench({
  name: "raw Workers: start 2 + gzip + terminate",
  group: COLD,
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const queue = new RawQueue(SIZE);
    check(await queue.run<Uint8Array, Uint8Array>(buffers));
    queue.close();
  },
});

/** The default pool: workers start on demand, one at a time (minSize 0). */
Deno.bench({
  name: 'new WorkerPool + map("gzip") + close',
  group: COLD,
  n: 5,
  warmup: 1,
  async fn() {
    await using cold = new WorkerPool<Tasks>(TASKS, { size: SIZE });
    check(await cold.map("gzip", buffers));
  },
});

/** Both workers started at once, as Python's Pool and piscina do. */
Deno.bench({
  name: 'new WorkerPool({ minSize: 2 }) + map("gzip") + close',
  group: COLD,
  n: 5,
  warmup: 1,
  async fn() {
    await using cold = new WorkerPool<Tasks>(TASKS, {
      size: SIZE,
      minSize: SIZE,
    });
    check(await cold.map("gzip", buffers));
  },
});

Deno.bench({
  name: "new Piscina + run per buffer + destroy",
  group: COLD,
  n: 5,
  warmup: 1,
  async fn() {
    const cold = new Piscina({
      filename: TASKS.href,
      minThreads: SIZE,
      maxThreads: SIZE,
    });
    check(
      await Promise.all(
        buffers.map((b) =>
          cold.run(b, { name: "gzip" }) as Promise<Uint8Array>
        ),
      ),
    );
    await cold.destroy();
  },
});
