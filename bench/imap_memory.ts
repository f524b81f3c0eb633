// Copyright the @seed/concurrency authors. MIT license.
// Memory of a streaming map over an endless input: imap() keeps a bounded
// number of chunks in flight, so resident memory must not grow with the number
// of items. Target: less than 50 MB of growth over 10 million items.
//
//   deno run -A bench/imap_memory.ts [items]
//   deno run -A --v8-flags=--expose-gc bench/imap_memory.ts   (also prints the
//                                                 live heap after a full GC)
//
// Growth is measured after a short warm-up (worker start-up and compilation)
// and, for information, from before the pool was created. Part of it is V8
// sizing its young generation for the allocation rate: it levels off within
// the first few million items, the same whether 3 or 20 million follow.
import { WorkerPool } from "../pool.ts";

const ITEMS = Number(Deno.args[0] ?? 10_000_000);
const MB = 1024 * 1024;

function* naturals(): Generator<number> {
  for (let n = 0;; n++) yield n;
}

const cold = Deno.memoryUsage().rss;
await using pool = new WorkerPool({ size: 2 });
// Warm up: worker start-up, compilation and heap sizing.
const WARM_UP = 200_000;
let count = 0;
for await (const _ of pool.imap((n: number) => n * 2, naturals())) {
  if (++count === WARM_UP) break;
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const liveBefore = Deno.memoryUsage().heapUsed;
const start = performance.now();
const baseline = Deno.memoryUsage().rss;
let peak = baseline;
let sum = 0;
count = 0;
for await (const value of pool.imap((n: number) => n * 2, naturals())) {
  sum += value;
  if (++count % 500_000 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
  if (count === ITEMS) break;
}
const seconds = (performance.now() - start) / 1000;
const growth = (peak - baseline) / MB;
const mb = (bytes: number) => (bytes / MB).toFixed(0);
console.log(
  `imap over ${ITEMS.toLocaleString("en")} items: ${seconds.toFixed(1)} s, ` +
    `${(ITEMS / seconds / 1e6).toFixed(2)} M items/s`,
);
console.log(
  `resident memory: ${mb(cold)} MB before the pool, ${
    mb(baseline)
  } MB after a ` +
    `${WARM_UP.toLocaleString("en")}-item warm-up, ${mb(peak)} MB at peak`,
);
console.log(
  `growth over the ${ITEMS.toLocaleString("en")} items: ${
    growth.toFixed(1)
  } MB ` +
    `(target < 50 MB); from before the pool: ${
      ((peak - cold) / MB).toFixed(1)
    } MB`,
);
if (gc !== undefined) {
  gc();
  console.log(
    `live main-thread heap after a full GC: ${
      (liveBefore / MB).toFixed(1)
    } MB before, ` +
      `${
        (Deno.memoryUsage().heapUsed / MB).toFixed(1)
      } MB after (what a leak would grow)`,
  );
}
if (sum !== ITEMS * (ITEMS - 1)) throw new Error(`Wrong sum ${sum}`);
if (growth >= 50) {
  console.error("Memory grew by 50 MB or more");
  Deno.exitCode = 1;
}
