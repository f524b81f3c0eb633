// Copyright the @seed/concurrency authors. MIT license.
// Heavy-tailed task costs at pool size 2: batches of 64 items, 60 of about
// 2 ms and 4 (1 in 16) thirty times larger, about 60 ms, in seeded shuffled
// orders. Read the results as ratios within the group.
//
//   deno bench -A bench/tail_bench.ts
//
// Each iteration runs one batch, in the next of four orders (four shuffles
// from one seeded generator), so that over the iterations no single lucky or
// unlucky order decides the result. A batch is about 360 ms of CPU: the
// best any scheduler can do on 2 cores is about 180 ms. Evenly sized chunks are what uneven work punishes. With chunkSize 8
// (a quarter of the items per worker, map's default before guided chunks)
// the chunks of the four orders cost, in ms (heavy items at the positions
// shown):
//
//   order 0 (18, 21, 47, 52):  16  16 132  16  16  74  74  16
//   order 1 (11, 25, 44, 53):  16  74  16  74  16  74  74  16
//   order 2 (10, 33, 44, 45):  16  74  16  16  74 132  16  16
//   order 3 (16, 18, 30, 50):  16  16 132  74  16  16  74  16
//
// A 132 ms chunk leaves 228 ms of work for the rest, so the scheduler must
// give the other worker the right chunks to finish near 180 ms. map's
// default chunks (guided self-scheduling at present: 16, 12, 9, 7, 5, 4, 3,
// 2, 2, 1, 1, 1, 1 items) start large and shrink toward the end. The raw
// baseline hands out one item at a time to whichever worker is free, which
// balances as well as dispatch without knowing the costs can.
//
// The work is `burn(iterations)` from bench/_tasks.ts: fixed arithmetic
// calibrated on this thread at start-up, not a wall-clock spin (a spin would
// finish on time even when its thread is not running). Pools are created
// outside the timing with every worker started and kept (WorkerPool's
// `minSize` and `ready()`, piscina's `minThreads`) and given one full pass.
//
// The same workload runs interleaved in bench/interleaved.ts, whose ratios
// the machine's drift cannot bias (see bench/_interleave.ts): read the target
// there.
import { benchWorkload } from "./_interleave.ts";
import { burn } from "./_tasks.ts";
import { check, GROUP, orders, tailWorkload } from "./_tail_workload.ts";

benchWorkload(await tailWorkload(), { n: 8, warmup: 1 });

let round = 0;

/**
 * The same batches on this thread, no workers: the 1x line. If the raw
 * workers come close to it, the machine had about one core to give in this
 * run (another process, or a busy sibling hyperthread), and the other ratios
 * say little about scheduling.
 */
Deno.bench({
  group: GROUP,
  n: 3,
  warmup: 1,
  name: "one thread, no workers (for information)",
  fn() {
    check((orders[round++ % orders.length] as number[]).map(burn));
  },
});
