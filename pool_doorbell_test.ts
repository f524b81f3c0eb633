// Copyright the @seed/concurrency authors. MIT license.
// The doorbell (see _doorbell.ts): one call at a time, with a number
// argument, goes to a parked worker thread without a message either way. The
// storms (pool_storm_test.ts) mix such calls with every fault; these tests
// pin down what a parked worker still owes its task code.
// deno-lint-ignore-file no-explicit-any -- a test passes what the types forbid
import assert from "node:assert/strict";
import { WorkerPool } from "./pool.ts";
import type * as Tasks from "./testdata/tasks.ts";
import { isolatedTest } from "./testdata/storm_harness.ts";

const TASKS = new URL("./testdata/tasks.ts", import.meta.url);

function taskPool(): WorkerPool<typeof Tasks> {
  return new WorkerPool<typeof Tasks>(TASKS, { size: 1 });
}

isolatedTest(
  import.meta.url,
  "one call at a time with a number argument mostly goes without a message to the worker",
  async () => {
    await using pool = taskPool();
    for (let i = 0; i < 200; i++) await pool.run("square", [i]);
    // A message that could not be posted is not counted as sent: if it
    // were, the worker would never again seem to have read everything.
    await assert.rejects(pool.run("add", [() => 1, 2] as any), TypeError);
    let posts = 0;
    const proto = MessagePort.prototype as { postMessage: unknown };
    const post = proto.postMessage as (...args: unknown[]) => void;
    proto.postMessage = function (this: MessagePort, ...args: unknown[]) {
      posts++;
      return Reflect.apply(post, this, args);
    };
    const calls = 2000;
    try {
      for (let i = 0; i < calls; i++) {
        assert.equal(await pool.run("square", [i]), i * i);
        assert.equal(await pool.run("add", [i, 1]), i + 1); // not rung
      }
    } finally {
      proto.postMessage = post;
    }
    // `add` (two arguments) always goes by message; `square` is rung when
    // its worker is still parked, which a loaded machine may prevent at
    // times, but not for most calls.
    assert.ok(posts >= calls, `${posts} posts`);
    assert.ok(posts < calls * 1.5, `${posts} posts for ${calls * 2} calls`);
  },
);

Deno.test("a rung task's microtasks run before the next rung task starts", async () => {
  await using pool = taskPool();
  for (let i = 0; i < 500; i++) {
    // Each bump was counted (by its microtask) before the next call.
    assert.equal(await pool.run("queueBump", [i]), i);
  }
  assert.equal(await pool.run("countBumps", [0]), 500);
});

Deno.test("a worker's timers fire while calls keep coming one at a time", async () => {
  await using pool = taskPool();
  await pool.run("setZeroTimer", [0]);
  let fired = false;
  // A worker rung from park to park without end would never turn its event
  // loop; it does at least every few milliseconds.
  for (let i = 0; i < 1_000_000 && !fired; i++) {
    fired = await pool.run("hasTimerFired", [i]);
  }
  assert.equal(fired, true);
});

Deno.test("a rung task can be cancelled, and its worker goes on", async () => {
  await using pool = taskPool();
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 20; i++) await pool.run("square", [i]);
    const controller = new AbortController();
    const reason = new Error(`stop ${round}`);
    const spinning = pool.run("spinUntilCancelled", [round], {
      signal: controller.signal,
    });
    // Before it starts, or (likely) while it spins: either way it ends
    // with the reason.
    if (round % 2 === 0) controller.abort(reason);
    else setTimeout(() => controller.abort(reason), 1);
    await assert.rejects(spinning, (error) => error === reason);
    assert.equal(await pool.run("square", [round]), round * round);
  }
  assert.equal(pool.stats.crashedWorkers, 0);
  assert.equal(pool.stats.abandonedWorkers, 0);
});
