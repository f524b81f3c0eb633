// Copyright the @seed/concurrency authors. MIT license.
// Sequential round-trip latency: one task at a time, each awaited before the
// next. Run pinned to one core, as `deno task bench` does:
//
//   taskset -c 0 deno bench -A bench/latency_bench.ts
//
// Unpinned, figures on a 2-core machine jump between about 15 and 50 µs with
// where the scheduler places the two threads.
import { Piscina } from "piscina";
import { WorkerPool } from "../pool.ts";
import { RawPool } from "./_raw_pool.ts";

const square = (x: number) => x * x;
const ours = new WorkerPool({ size: 1, idleTimeoutMs: 2_000 });
const raw = new RawPool(1);
const piscina = new Piscina({
  filename: new URL("./_piscina_task.mjs", import.meta.url).href,
  minThreads: 1,
  maxThreads: 1,
  idleTimeout: 2_000,
});
for (let i = 0; i < 200; i++) {
  await ours.run(square, [i]);
  await raw.call(i);
  await piscina.run(i);
}
globalThis.addEventListener("unload", () => {
  ours.terminate();
  raw.close();
  piscina.destroy();
});

let i = 0;
Deno.bench({
  name: "raw Worker ping-pong",
  group: "sequential round trip",
  baseline: true,
  async fn() {
    await raw.call(i++);
  },
});
Deno.bench({
  name: "piscina.run",
  group: "sequential round trip",
  async fn() {
    await piscina.run(i++);
  },
});
Deno.bench({
  name: "WorkerPool.run",
  group: "sequential round trip",
  async fn() {
    await ours.run(square, [i++]);
  },
});
