// Copyright the @seed/concurrency authors. MIT license.
// Warm pools: `minSize` and `ready()`.
// deno-lint-ignore-file no-explicit-any -- tests call the API with values its types forbid
import assert from "node:assert/strict";
import { THREADS_ONLY, WorkerPool } from "./_test_pool.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { WorkerCrashedError } from "./errors/worker_crashed_error.ts";

/** Resolves once `check()` holds, looking after every turn of the loop. */
async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
}

Deno.test("a warm pool starts minSize workers at once and ready() waits for them", async () => {
  await using pool = new WorkerPool({ size: 4, minSize: 3 });
  assert.equal(pool.stats.workers, 3, "all three start at construction");
  await pool.ready();
  assert.equal(pool.stats.workers, 3);
  assert.equal(await pool.run((x: number) => x + 1, [1]), 2);
  // Still three: one call needs no more workers, and warm ones stay.
  assert.equal(pool.stats.workers, 3);
});

Deno.test(
  "warm workers are never retired as idle; extra ones are, down to minSize",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({
      size: 3,
      minSize: 1,
      idleTimeoutMs: 1,
    });
    await pool.ready();
    // Three tasks that wait for each other need three workers.
    const shared = new Int32Array(new SharedArrayBuffer(4));
    const meet = (cell: Int32Array) => {
      Atomics.add(cell, 0, 1);
      while (Atomics.load(cell, 0) < 3) {
        Atomics.wait(cell, 0, Atomics.load(cell, 0), 5);
      }
      return Atomics.load(cell, 0);
    };
    assert.deepEqual(
      await Promise.all([1, 2, 3].map(() => pool.run(meet, [shared]))),
      [3, 3, 3],
    );
    await eventually(() => pool.stats.workers === 1);
    // The idle timer fires many times over in this wait; the warm one stays.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(pool.stats.workers, 1);
  },
);

Deno.test("a warm worker that crashes is replaced at once", async () => {
  await using pool = new WorkerPool({ size: 2, minSize: 2 });
  await pool.ready();
  const crash = pool.run(() => {
    setTimeout(() => {
      throw new Error("boom");
    });
    return new Promise(() => {});
  });
  await assert.rejects(crash, WorkerCrashedError);
  assert.equal(pool.stats.crashedWorkers, 1);
  await pool.ready();
  assert.equal(pool.stats.workers, 2);
});

Deno.test("a warm worker recycled by maxTasksPerWorker is replaced", async () => {
  await using pool = new WorkerPool({
    size: 1,
    minSize: 1,
    maxTasksPerWorker: 1,
  });
  for (let i = 0; i < 3; i++) {
    assert.equal(await pool.run((x: number) => x * 2, [i]), i * 2);
  }
  await pool.ready();
  assert.equal(pool.stats.workers, 1);
  assert.equal(pool.stats.crashedWorkers, 0);
});

Deno.test("ready() on a lazy pool starts one worker, which may later go idle", async () => {
  await using pool = new WorkerPool({ size: 2, idleTimeoutMs: 1 });
  assert.equal(pool.stats.workers, 0);
  await pool.ready();
  assert.equal(pool.stats.workers, 1);
  await eventually(() => pool.stats.workers === 0);
});

Deno.test("ready() rejects with the load error when the task module cannot load", async () => {
  await using pool = new WorkerPool(
    new URL("./testdata/missing.ts", import.meta.url),
    { size: 2, minSize: 2 },
  );
  const error = await pool.ready().catch((e: Error) => e);
  assert.ok(error instanceof Error);
  assert.match(error.message, /Cannot load the task module .*missing\.ts/);
  assert.equal(pool.state, "broken");
});

Deno.test("ready() rejects once the pool closes, and with signal.reason on abort", async () => {
  const pool = new WorkerPool({ size: 1 });
  const reason = new Error("gave up");
  await assert.rejects(
    pool.ready({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await pool.close();
  await assert.rejects(pool.ready(), PoolClosedError);
});

Deno.test("ready() that is waiting rejects when close() is called", async () => {
  const pool = new WorkerPool({ size: 1, minSize: 1 });
  const waiting = pool.ready();
  const closed = pool.close();
  await assert.rejects(waiting, PoolClosedError);
  await closed;
  assert.equal(pool.stats.workers, 0);
});

Deno.test("minSize must be an integer from 0 to size", () => {
  assert.throws(
    () => new WorkerPool({ size: 4, minSize: "2" as any }),
    (e: Error) =>
      e instanceof TypeError && /'minSize' must be a number/.test(e.message),
  );
  for (const minSize of [-1, 1.5, 5, NaN]) {
    assert.throws(
      () => new WorkerPool({ size: 4, minSize: minSize as any }),
      (e: Error) =>
        e instanceof RangeError &&
        /'minSize' must be an integer from 0 to 'size' \(4\)/.test(e.message),
    );
  }
});

/**
 * Holds the gate of `testdata/gated_tasks.ts`, so the pool's workers stay
 * starting until `open()`.
 */
async function holdGate(): Promise<() => void> {
  const locks = (navigator as unknown as {
    locks: {
      request(name: string, callback: () => Promise<void>): Promise<void>;
    };
  }).locks;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  await new Promise<void>((acquired) => {
    void locks.request("@seed/concurrency test gate", () => {
      acquired();
      return gate;
    });
  });
  return open;
}

const GATED = new URL("./testdata/gated_tasks.ts", import.meta.url);

Deno.test(
  "calls made while the first worker thread starts are dealt to it at once, and run when it is ready",
  THREADS_ONLY,
  async (t) => {
    await t.step("plain calls go to the starting worker", async () => {
      const open = await holdGate();
      await using pool = new WorkerPool<
        typeof import("./testdata/gated_tasks.ts")
      >(
        GATED,
        { size: 2 },
      );
      const calls = [pool.run("square", [2]), pool.run("square", [3])];
      try {
        // The worker starts in a turn of its own, then is dealt the calls.
        await eventually(() => pool.stats.workers > 0);
        assert.equal(pool.stats.workers, 1, "one worker starts for two calls");
        assert.equal(pool.stats.busy, 1, "it holds the calls while it starts");
        assert.equal(pool.stats.queued, 2, "neither has started");
      } finally {
        open();
      }
      assert.deepEqual(await Promise.all(calls), [4, 9]);
    });
    await t.step("a call that transfers waits for a ready worker", async () => {
      const open = await holdGate();
      await using pool = new WorkerPool<
        typeof import("./testdata/gated_tasks.ts")
      >(
        GATED,
        { size: 1 },
      );
      const buffer = new ArrayBuffer(8);
      const call = pool.run("byteLength", [buffer], { transfer: [buffer] });
      try {
        await eventually(() => pool.stats.workers > 0);
        assert.equal(
          pool.stats.busy,
          0,
          "a failed start would lose the buffer",
        );
      } finally {
        open();
      }
      assert.equal(await call, 8);
    });
  },
);
