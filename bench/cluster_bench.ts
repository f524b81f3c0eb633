// Copyright the @seed/concurrency authors. MIT license.
// ClusterPool on loopback (a nats-server with JetStream on a free port, two
// worker processes of one thread each) beside a local WorkerPool of two
// threads, on the same machine in the same run.
//
//   deno bench -A bench/cluster_bench.ts     (ratios, with deno task bench)
//   deno run -A bench/cluster_bench.ts       (calls/s, items/s, p50/p99)
//
// Needs nats-server on the PATH (.ci/run installs it).
import { WorkerPool } from "../pool.ts";
import { ClusterPool } from "../cluster/cluster_pool.ts";
import { startNatsServer } from "../cluster/nats_server.ts";

const TASKS = new URL("./_cluster_tasks.ts", import.meta.url);
const WORKER = new URL("../cluster/worker.ts", import.meta.url).pathname;
const QUEUE = "bench";
const PIPELINED = 20_000;
const WINDOW = 1_000;
const MAP_ITEMS = 1_000_000;
const SEQUENTIAL = 2_000;

type Tasks = typeof import("./_cluster_tasks.ts");

const server = await startNatsServer();
const workers = [0, 1].map(() =>
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      WORKER,
      ...["--servers", server.url, "--queue", QUEUE],
      ...["--module", TASKS.pathname, "--size", "1"],
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn()
);
// Each worker prints one line once it serves.
await Promise.all(workers.map(async (child) => {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();
  reader.releaseLock();
}));
const cluster = new ClusterPool<Tasks>({ servers: server.url, queue: QUEUE });
const local = new WorkerPool<Tasks>(TASKS, { size: 2, minSize: 2 });
const numbers = Array.from({ length: MAP_ITEMS }, (_, i) => i);

/** What the measurements use of either pool. */
interface Pool {
  run(task: "square", args: [number]): Promise<unknown>;
  map(task: "square", items: number[]): Promise<unknown[]>;
}
const pools: [string, Pool][] = [["WorkerPool (2 threads)", local], [
  "ClusterPool (2 worker processes)",
  cluster,
]];

/** `count` run calls with at most `window` in flight; resolves when all are done. */
async function pipelined(pool: Pool, count: number, window: number) {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await pool.run("square", [started]);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

async function sequential(pool: Pool, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await pool.run("square", [i]);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

// Warm up: workers started, JIT, connections.
for (const [, pool] of pools) {
  await pool.map("square", numbers.slice(0, 100_000));
  await pipelined(pool, 2_000, 100);
}

async function shutdown() {
  await cluster.close();
  await local.close();
  for (const child of workers) {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
  await server.stop();
}

if (import.meta.main) {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const rank = (xs: number[], p: number) =>
    xs[Math.max(0, Math.ceil((p * xs.length) / 100) - 1)] as number;
  console.log(
    "| pool | pipelined run (calls/s) | map 1M numbers (items/s) | sequential run p50 | p99 |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [name, pool] of pools) {
    const runs: number[] = [];
    const maps: number[] = [];
    for (let i = 0; i < 3; i++) {
      let start = performance.now();
      await pipelined(pool, PIPELINED, WINDOW);
      runs.push(PIPELINED / ((performance.now() - start) / 1000));
      start = performance.now();
      await pool.map("square", numbers);
      maps.push(MAP_ITEMS / ((performance.now() - start) / 1000));
    }
    const times = await sequential(pool, SEQUENTIAL);
    const f = (n: number) => Math.round(n).toLocaleString("en-US");
    console.log(
      `| ${name} | ${f(median(runs) as number)} | ${
        f(median(maps) as number)
      } | ${rank(times, 50).toFixed(3)} ms | ${
        rank(times, 99).toFixed(3)
      } ms |`,
    );
  }
  await shutdown();
} else {
  globalThis.addEventListener("unload", () => void shutdown());
  for (const [name, pool] of pools) {
    const baseline = pool === local;
    Deno.bench({
      name: `${name}: ${PIPELINED} run calls, ${WINDOW} in flight`,
      group: "cluster: pipelined run",
      baseline,
      n: 5,
      async fn() {
        await pipelined(pool, PIPELINED, WINDOW);
      },
    });
    Deno.bench({
      name: `${name}: map 1M numbers`,
      group: "cluster: map 1M numbers",
      baseline,
      n: 5,
      async fn() {
        await pool.map("square", numbers);
      },
    });
    Deno.bench({
      name: `${name}: one run call`,
      group: "cluster: sequential round trip",
      baseline,
      async fn() {
        await pool.run("square", [3]);
      },
    });
  }
}
