// Copyright the @seed/concurrency authors. MIT license.
// ClusterPool when a worker process is killed or the server restarts, on a
// nats-server this file starts.

import assert from "node:assert/strict";
import { ClusterPool } from "./cluster_pool.ts";
import { startNatsServer } from "./nats_server.ts";
import { startWorker, type WorkerProcess } from "./_test_cluster.ts";

type Tasks = typeof import("./_test_tasks.ts");

const squares = (n: number) => Array.from({ length: n }, (_, i) => i * i);

Deno.test("ClusterPool through worker deaths and server restarts", async (t) => {
  await using server = await startNatsServer();
  const dir = await Deno.makeTempDir({ prefix: "seed-cluster-faults-" });
  try {
    await t.step(
      "kill -9 of a worker process mid-task: the task is redelivered and map completes",
      async () => {
        const options = { dir, size: 2, ackWaitMs: 1000 };
        const workers = [
          await startWorker(server.url, "kill", options),
          await startWorker(server.url, "kill", options),
        ];
        try {
          await using pool = new ClusterPool<Tasks>({
            servers: server.url,
            queue: "kill",
          });
          const items = Array.from({ length: 40 }, (_, i) => i);
          const result = pool.map("holdOnce", items, { chunkSize: 1 });
          // Item 7 holds its first worker for ever: kill that process.
          const line = await Promise.race(
            workers.map((w) => w.waitFor(/^holding 7 /)),
          );
          const pid = Number(line.split(" ")[2]);
          const victim = workers.find((w) => w.pid === pid) as WorkerProcess;
          assert.equal((await victim.stop("SIGKILL")).signal, "SIGKILL");
          assert.deepEqual(await result, squares(40));
          assert.equal(pool.stats.failed, 0);
        } finally {
          for (const worker of workers) await worker.stop();
        }
      },
    );

    await t.step(
      "a task whose workers all die fails with WorkerCrashedError after maxDeliveries",
      async () => {
        await using pool = new ClusterPool<Tasks>({
          servers: server.url,
          queue: "limit",
          maxDeliveries: 1,
        });
        const options = { dir, ackWaitMs: 1000 };
        const first = await startWorker(server.url, "limit", options);
        const result = pool.run("holdOnce", [1000]);
        await first.waitFor(/^holding 1000 /);
        await first.stop("SIGKILL");
        const second = await startWorker(server.url, "limit", options);
        try {
          await assert.rejects(result, { name: "WorkerCrashedError" });
        } finally {
          await second.stop();
        }
      },
    );

    await t.step("a server restart mid-run loses nothing", async () => {
      const options = { dir, size: 2, ackWaitMs: 2000 };
      const workers = [
        await startWorker(server.url, "restart", options),
        await startWorker(server.url, "restart", options),
      ];
      try {
        await using pool = new ClusterPool<Tasks>({
          servers: server.url,
          queue: "restart",
        });
        const items = Array.from({ length: 30 }, (_, i) => i);
        const gatedMap = pool.map("gated", items, { chunkSize: 1 });
        await Promise.race(workers.map((w) => w.waitFor(/^waiting /)));
        await server.stop({ keepStore: true });
        // Calls made while the server is away wait, then go.
        const during = pool.map("square", items, { chunkSize: 3 });
        await server.start();
        await Deno.writeTextFile(`${dir}/gate`, "");
        assert.deepEqual(await gatedMap, squares(30));
        assert.deepEqual(await during, squares(30));
        assert.equal(pool.stats.failed, 0);
      } finally {
        for (const worker of workers) await worker.stop();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
