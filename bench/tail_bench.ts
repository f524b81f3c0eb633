// Copyright the @seed/concurrency authors. MIT license.
// Heavy-tailed task costs at pool size 2: batches of 64 items, 60 of about
// 2 ms and 4 (1 in 16) thirty times larger, about 60 ms, in seeded shuffled
// orders. Read the results as ratios within the group.
//
//   deno bench -A bench/tail_bench.ts
//
// Each iteration runs four batches one after another, each in its own
// order (four shuffles from one seeded generator), so that no single lucky
// or unlucky order decides the result. A batch is about 360 ms of CPU: the
// best any scheduler can do on 2 cores is about 180 ms, 720 ms for the
// four. Evenly sized chunks are what uneven work punishes. With chunkSize 8
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
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { RawQueue } from "./_raw_queue.ts";
import { seededRandom, shuffle } from "./_seeded.ts";
import { burn, calibrateSpin } from "./_tasks.ts";

type Tasks = typeof import("./_tasks.ts");

const SIZE = 2;
const COUNT = 64;
const HEAVY_EVERY = 16;
const LIGHT_MS = 2;
const HEAVY_MS = 60;
const TASKS = new URL("./_tasks.ts", import.meta.url);
const GROUP = `heavy tail: ${COUNT - COUNT / HEAVY_EVERY} x ${LIGHT_MS} ms + ${
  COUNT / HEAVY_EVERY
} x ${HEAVY_MS} ms, 4 orders, size 2`;

const perMs = calibrateSpin(50) / 50;
const light = Math.round(LIGHT_MS * perMs);
const heavy = Math.round(HEAVY_MS * perMs);
const random = seededRandom(16);
const orders = Array.from({ length: 4 }, () =>
  shuffle(
    Array.from(
      { length: COUNT },
      (_, i) => i % HEAVY_EVERY === 0 ? heavy : light,
    ),
    random,
  ));
const items = orders[0] as number[];
const EXPECTED = items.reduce((sum, n) => sum + n, 0);

function check(results: readonly number[]): void {
  let sum = 0;
  for (const n of results) sum += n;
  if (results.length !== COUNT || sum !== EXPECTED) {
    throw new Error(`Wrong results: ${results.length} items summing to ${sum}`);
  }
}

const raw = new RawQueue(SIZE);
const pool = new WorkerPool<Tasks>(TASKS, { size: SIZE, minSize: SIZE });
const piscina = new Piscina({
  filename: TASKS.href,
  minThreads: SIZE,
  maxThreads: SIZE,
  idleTimeout: Infinity,
});
await pool.ready();
// One full pass each: every path compiled.
check(await raw.run<number, number>(items));
check(await pool.map("burn", items, { chunkSize: 1 }));
check(
  await Promise.all(
    items.map((n) => piscina.run(n, { name: "burn" }) as Promise<number>),
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

const BENCH = { group: GROUP, n: 5, warmup: 1 } as const;

Deno.bench({
  ...BENCH,
  name: "raw Workers: each takes the next item when free",
  baseline: true,
  async fn() {
    for (const order of orders) check(await raw.run<number, number>(order));
  },
});

Deno.bench({
  ...BENCH,
  name: 'WorkerPool.map("burn"), default chunks',
  async fn() {
    for (const order of orders) check(await pool.map("burn", order));
  },
});

Deno.bench({
  ...BENCH,
  name: 'WorkerPool.map("burn", { chunkSize: 8 }) (even chunks)',
  async fn() {
    for (const order of orders) {
      check(await pool.map("burn", order, { chunkSize: 8 }));
    }
  },
});

Deno.bench({
  ...BENCH,
  name: 'WorkerPool.map("burn", { chunkSize: 1 })',
  async fn() {
    for (const order of orders) {
      check(await pool.map("burn", order, { chunkSize: 1 }));
    }
  },
});

Deno.bench({
  ...BENCH,
  name: 'WorkerPool.run("burn") per item, Promise.all',
  async fn() {
    for (const order of orders) {
      check(await Promise.all(order.map((n) => pool.run("burn", [n]))));
    }
  },
});

Deno.bench({
  ...BENCH,
  name: "piscina.run per item, Promise.all",
  async fn() {
    for (const order of orders) {
      check(
        await Promise.all(
          order.map((n) => piscina.run(n, { name: "burn" }) as Promise<number>),
        ),
      );
    }
  },
});

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
    for (const order of orders) check(order.map(burn));
  },
});
