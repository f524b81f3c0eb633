// Copyright the @seed/concurrency authors. MIT license.
// ClusterPool against real worker processes on a nats-server this file starts.

import assert from "node:assert/strict";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import { WorkerPool } from "../pool.ts";
import { ClusterPool } from "./cluster_pool.ts";
import { startNatsServer } from "./nats_server.ts";
import { startWorker, TASKS } from "./_test_cluster.ts";

type Tasks = typeof import("./_test_tasks.ts");

Deno.test("ClusterPool over worker processes", async (t) => {
  await using server = await startNatsServer();
  const dir = await Deno.makeTempDir({ prefix: "seed-cluster-test-" });
  try {
    await t.step("map gives the same results as WorkerPool.map", async () => {
      const workers = [
        await startWorker(server.url, "same", { dir }),
        await startWorker(server.url, "same", { dir }),
      ];
      try {
        await using pool = new ClusterPool<Tasks>({
          servers: server.url,
          queue: "same",
        });
        await using local = new WorkerPool<Tasks>(new URL(`file://${TASKS}`), {
          size: 2,
        });
        const numbers = Array.from({ length: 20_000 }, (_, i) => i - 5_000.5);
        const words = Array.from({ length: 500 }, (_, i) => `w${i}`);
        assert.deepEqual(
          await pool.map("square", numbers),
          await local.map("square", numbers),
        );
        assert.deepEqual(
          await pool.map("label", words, { chunkSize: 7 }),
          await local.map("label", words),
        );
        assert.deepEqual(
          await Array.fromAsync(pool.imap("square", numbers.slice(0, 3000))),
          await local.map("square", numbers.slice(0, 3000)),
        );
        // A chunk over the server's message size is split until it fits.
        const long = Array.from(
          { length: 10_000 },
          (_, i) => `${i}`.repeat(40),
        );
        assert.deepEqual(
          await pool.map("label", long, { chunkSize: 10_000 }),
          await local.map("label", long),
        );
        const unordered = await Array.fromAsync(
          pool.imapUnordered("label", words),
        );
        assert.deepEqual(
          unordered.sort(),
          (await local.map("label", words)).sort(),
        );
        assert.equal(pool.stats.inFlight, 0);
      } finally {
        for (const worker of workers) await worker.stop();
      }
    });

    await t.step(
      "imap over a paused async source yields what is computed, and its signal interrupts the wait",
      async () => {
        const worker = await startWorker(server.url, "paused", { dir });
        try {
          await using pool = new ClusterPool<Tasks>({
            servers: server.url,
            queue: "paused",
          });
          let release!: () => void;
          const gate = new Promise<void>((resolve) => release = resolve);
          const source = async function* () {
            yield 1;
            yield 2;
            await gate;
            yield 3;
          };
          const results = pool.imap("square", source());
          assert.equal((await results.next()).value, 1);
          // The source waits at the gate; 2's result comes anyway.
          assert.equal((await results.next()).value, 4);
          release();
          assert.equal((await results.next()).value, 9);
          assert.equal((await results.next()).done, true);

          const controller = new AbortController();
          const stuck = async function* () {
            yield 5;
            await new Promise(() => {});
          };
          const stalled = pool.imap("square", stuck(), {
            signal: controller.signal,
          });
          assert.equal((await stalled.next()).value, 25);
          const waiting = stalled.next();
          controller.abort(new Error("stop waiting"));
          await assert.rejects(waiting, /stop waiting/);
        } finally {
          await worker.stop();
        }
      },
    );

    await t.step(
      "a crash inside a remote task rejects with WorkerCrashedError and its worker keeps serving",
      async () => {
        const worker = await startWorker(server.url, "crash", { dir });
        try {
          await using pool = new ClusterPool<Tasks>({
            servers: server.url,
            queue: "crash",
          });
          const error = await pool.run("crash").catch((e) => e);
          assert.ok(error instanceof WorkerCrashedError, String(error));
          assert.equal(
            (error.cause as Error).message,
            "boom outside the task",
          );
          assert.equal(await pool.run("pid"), worker.pid);
          assert.equal(await pool.run("square", [12]), 144);
        } finally {
          assert.equal((await worker.stop()).code, 0);
        }
      },
    );

    await t.step("a cancelled remote task stops on its worker", async () => {
      const worker = await startWorker(server.url, "cancel", { dir });
      try {
        await using pool = new ClusterPool<Tasks>({
          servers: server.url,
          queue: "cancel",
        });
        const controller = new AbortController();
        const call = pool.run("waitForAbort", ["t1"], {
          signal: controller.signal,
        });
        await worker.waitFor(/^running t1$/);
        const reason = new Error("stop it");
        controller.abort(reason);
        await assert.rejects(call, (e) => e === reason);
        await worker.waitFor(/^aborted t1$/);
        // The future form, cancelled while it runs.
        const future = pool.submit("waitForAbort", ["t2"]);
        await worker.waitFor(/^running t2$/);
        future.cancel();
        await worker.waitFor(/^aborted t2$/);
        assert.equal(pool.stats.cancelled, 2);
      } finally {
        await worker.stop();
      }
    });

    await t.step(
      "a worker with process isolation runs tasks in child processes: results, crashes and a spinning cancelled task",
      async () => {
        const worker = await startWorker(server.url, "processes", {
          dir,
          isolation: "process",
        });
        try {
          await using pool = new ClusterPool<Tasks>({
            servers: server.url,
            queue: "processes",
          });
          assert.deepEqual(await pool.map("square", [1, 2, 3]), [1, 4, 9]);
          const child = await pool.run("pid");
          assert.notEqual(child, worker.pid, "a task runs in a child process");
          const error = await pool.run("crash").catch((e) => e);
          assert.ok(error instanceof WorkerCrashedError, String(error));
          assert.equal(
            (error.cause as Error).message,
            "boom outside the task",
          );
          const controller = new AbortController();
          const spinning = pool.run("spin", ["s1"], {
            signal: controller.signal,
          });
          await worker.waitFor(/^spinning s1$/);
          controller.abort(new Error("enough"));
          await assert.rejects(spinning, /enough/);
          // Its process is killed after the grace period: the worker serves on.
          assert.equal(await pool.run("square", [12]), 144);
        } finally {
          assert.equal((await worker.stop()).code, 0);
        }
      },
    );

    await t.step("a call cancelled while queued never runs", async () => {
      await using pool = new ClusterPool<Tasks>({
        servers: server.url,
        queue: "queued",
      });
      await pool.ready();
      const future = pool.submit("echo", ["dropped"]);
      future.cancel();
      const worker = await startWorker(server.url, "queued", { dir });
      try {
        assert.equal(await pool.run("echo", ["kept"]), "kept");
        assert.ok(worker.lines.includes("ran kept"));
        assert.ok(!worker.lines.includes("ran dropped"));
      } finally {
        await worker.stop();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
