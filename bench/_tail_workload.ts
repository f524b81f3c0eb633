// Copyright the @seed/concurrency authors. MIT license.
// The heavy-tail workload of tail_bench.ts and interleaved.ts (see
// tail_bench.ts for what it measures and why): its items, and the runners
// that each process the four orders, raw Workers first.
import type { Workload } from "./_interleave.ts";
import { seededRandom, shuffle } from "./_seeded.ts";
import { calibrateSpin } from "./_tasks.ts";
import { warmRunners } from "./_warm_runners.ts";

type Tasks = typeof import("./_tasks.ts");

const SIZE = 2;
const COUNT = 64;
const HEAVY_EVERY = 16;
const LIGHT_MS = 2;
const HEAVY_MS = 60;
const TASKS = new URL("./_tasks.ts", import.meta.url);
export const GROUP = `heavy tail: ${
  COUNT - COUNT / HEAVY_EVERY
} x ${LIGHT_MS} ms + ${
  COUNT / HEAVY_EVERY
} x ${HEAVY_MS} ms, 4 orders in turn, size 2`;

const perMs = calibrateSpin(50) / 50;
const light = Math.round(LIGHT_MS * perMs);
const heavy = Math.round(HEAVY_MS * perMs);
const random = seededRandom(16);
export const orders = Array.from({ length: 4 }, () =>
  shuffle(
    Array.from(
      { length: COUNT },
      (_, i) => i % HEAVY_EVERY === 0 ? heavy : light,
    ),
    random,
  ));
const items = orders[0] as number[];
const EXPECTED = items.reduce((sum, n) => sum + n, 0);

export function check(results: readonly number[]): void {
  let sum = 0;
  for (const n of results) sum += n;
  if (results.length !== COUNT || sum !== EXPECTED) {
    throw new Error(`Wrong results: ${results.length} items summing to ${sum}`);
  }
}

/** Starts the runners, each warmed by one full pass. */
export async function tailWorkload(): Promise<Workload> {
  const runners = await warmRunners<Tasks>(
    TASKS,
    SIZE,
    async ({ raw, pool, piscina }) => {
      check(await raw.run<number, number>(items));
      check(await pool.map("burn", items, { chunkSize: 1 }));
      check(
        await Promise.all(
          items.map((n) => piscina.run(n, { name: "burn" }) as Promise<number>),
        ),
      );
    },
  );
  const { raw, pool, piscina } = runners;
  // One order a round (about 180 ms of work at best), the next each round.
  const each =
    (run: (order: number[]) => Promise<number[]>) => async (round: number) =>
      check(await run(orders[round % orders.length] as number[]));
  return {
    group: GROUP,
    rounds: 24,
    contenders: [
      {
        name: "raw Workers: each takes the next item when free",
        run: each((order) => raw.run<number, number>(order)),
      },
      {
        name: 'WorkerPool.map("burn"), default chunks',
        run: each((order) => pool.map("burn", order)),
      },
      {
        name: 'WorkerPool.map("burn", { chunkSize: 8 }) (even chunks)',
        run: each((order) => pool.map("burn", order, { chunkSize: 8 })),
      },
      {
        name: 'WorkerPool.map("burn", { chunkSize: 1 })',
        run: each((order) => pool.map("burn", order, { chunkSize: 1 })),
      },
      {
        name: 'WorkerPool.run("burn") per item, Promise.all',
        run: each((order) =>
          Promise.all(order.map((n) => pool.run("burn", [n])))
        ),
      },
      {
        name: "piscina.run per item, Promise.all",
        run: each((order) =>
          Promise.all(
            order.map((n) =>
              piscina.run(n, { name: "burn" }) as Promise<number>
            ),
          )
        ),
      },
    ],
    close: runners.close,
  };
}
