// Copyright the @seed/concurrency authors. MIT license.
// WorkerPool beside piscina and raw Workers with a minimal dispatcher, on the
// same machine in the same run. Read the results as ratios within a group.
//
//   deno task bench            (all bench files)
//   deno bench -A bench/pool_bench.ts
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { RawPool } from "./_raw_pool.ts";
import { calibrateSpin, spin } from "./_tasks.ts";

const SIZE = 2;
const PISCINA_TASK = new URL("./_piscina_task.mjs", import.meta.url).href;
const TINY = 100_000;
const MAP_ITEMS = 1_000_000;

const square = (x: number) => x * x;
const ours = new WorkerPool({ size: SIZE, idleTimeoutMs: 2_000 });
const piscina = new Piscina({
  filename: PISCINA_TASK,
  minThreads: SIZE,
  maxThreads: SIZE,
  idleTimeout: 2_000,
});
const raw = new RawPool(SIZE);
const numbers = Array.from({ length: MAP_ITEMS }, (_, i) => i);

// Warm every pool up so that worker start-up is not measured.
await Promise.all([
  ours.map(square, Array.from({ length: 4096 }, (_, i) => i), { chunkSize: 1 }),
  Promise.all(Array.from({ length: 64 }, (_, i) => piscina.run(i))),
  Promise.all(Array.from({ length: 64 }, (_, i) => raw.call(i))),
]);

globalThis.addEventListener("unload", () => {
  ours.terminate();
  piscina.destroy();
  raw.close();
});

// ---- 100,000 tiny tasks submitted at once ----------------------------------

Deno.bench({
  name: "piscina: 100k tiny tasks",
  group: "tiny tasks (100k at once)",
  baseline: true,
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) calls[i] = piscina.run(i);
    await Promise.all(calls);
  },
});

Deno.bench({
  name: "raw workers, one message per task: 100k tiny tasks",
  group: "tiny tasks (100k at once)",
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) calls[i] = raw.call(i);
    await Promise.all(calls);
  },
});

Deno.bench({
  name: "WorkerPool.run: 100k tiny tasks",
  group: "tiny tasks (100k at once)",
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) calls[i] = ours.run(square, [i]);
    await Promise.all(calls);
  },
});

// ---- 100,000 tiny tasks that return objects ---------------------------------
// Numbers come back through shared memory; any other result in a message.

const record = (x: number) => ({ value: x, label: `item ${x}` });

Deno.bench({
  name: "piscina: 100k tiny tasks returning objects",
  group: "tiny tasks returning objects (100k at once)",
  baseline: true,
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) {
      calls[i] = piscina.run(i, { name: "record" });
    }
    await Promise.all(calls);
  },
});

Deno.bench({
  name: "WorkerPool.run: 100k tiny tasks returning objects",
  group: "tiny tasks returning objects (100k at once)",
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) calls[i] = ours.run(record, [i]);
    await Promise.all(calls);
  },
});

const recordAsync = async (x: number) => {
  await null;
  return { value: x, label: `item ${x}` };
};

Deno.bench({
  name: "WorkerPool.run: 100k tiny async tasks returning objects",
  group: "tiny tasks returning objects (100k at once)",
  async fn() {
    const calls = new Array(TINY);
    for (let i = 0; i < TINY; i++) calls[i] = ours.run(recordAsync, [i]);
    await Promise.all(calls);
  },
});

// ---- map over 1,000,000 numbers ---------------------------------------------

Deno.bench({
  name: "raw workers, batched postMessage (the floor): map 1M",
  group: "map 1M numbers",
  baseline: true,
  async fn() {
    await raw.map(numbers, SIZE * 4);
  },
});

Deno.bench({
  name: "piscina, 8 batches: map 1M",
  group: "map 1M numbers",
  async fn() {
    const size = Math.ceil(MAP_ITEMS / (SIZE * 4));
    const parts = [];
    for (let i = 0; i < MAP_ITEMS; i += size) {
      parts.push(
        piscina.run(numbers.slice(i, i + size), { name: "squareAll" }),
      );
    }
    (await Promise.all(parts)).flat();
  },
});

Deno.bench({
  name: "WorkerPool.map: map 1M",
  group: "map 1M numbers",
  async fn() {
    await ours.map(square, numbers);
  },
});

// ---- 16 CPU-bound tasks of about 50 ms ----------------------------------------

const ITERATIONS = calibrateSpin(50);

for (const size of [1, 2, 4]) {
  const pool = new WorkerPool<typeof import("./_tasks.ts")>(
    new URL("./_tasks.ts", import.meta.url),
    { size, idleTimeoutMs: 2_000 },
  );
  const peer = new Piscina({
    filename: PISCINA_TASK,
    minThreads: size,
    maxThreads: size,
    idleTimeout: 2_000,
  });
  await Promise.all([
    Promise.all(
      Array.from({ length: size }, () => pool.run("spin", [0, 1000])),
    ),
    Promise.all(
      Array.from(
        { length: size },
        () => peer.run({ x: 0, iterations: 1000 }, { name: "spin" }),
      ),
    ),
  ]);
  globalThis.addEventListener("unload", () => {
    pool.terminate();
    peer.destroy();
  });
  Deno.bench({
    name: `one thread, no pool: 16 x 50 ms`,
    group: `CPU-bound 16 x 50 ms, size ${size}`,
    baseline: true,
    n: 3,
    warmup: 1,
    fn() {
      for (let i = 0; i < 16; i++) spin(i, ITERATIONS);
    },
  });
  Deno.bench({
    name: `piscina: 16 x 50 ms at size ${size}`,
    group: `CPU-bound 16 x 50 ms, size ${size}`,
    n: 3,
    warmup: 1,
    async fn() {
      await Promise.all(
        Array.from(
          { length: 16 },
          (_, i) =>
            peer.run({ x: i, iterations: ITERATIONS }, { name: "spin" }),
        ),
      );
    },
  });
  Deno.bench({
    name: `WorkerPool: 16 x 50 ms at size ${size}`,
    group: `CPU-bound 16 x 50 ms, size ${size}`,
    n: 3,
    warmup: 1,
    async fn() {
      await Promise.all(
        Array.from({ length: 16 }, (_, i) => pool.run("spin", [i, ITERATIONS])),
      );
    },
  });
}
