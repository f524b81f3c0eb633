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
//
// The warm group runs interleaved in bench/interleaved.ts too, whose ratios
// the machine's drift cannot bias (see bench/_interleave.ts).
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { gzip } from "./_compress_task.ts";
import { benchWorkload } from "./_interleave.ts";
import { RawQueue } from "./_raw_queue.ts";
import {
  buffers,
  check,
  COLD,
  gzipWorkload,
  SIZE,
  TASKS,
  type Tasks,
  WARM,
} from "./_gzip_workload.ts";

benchWorkload(await gzipWorkload());

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
