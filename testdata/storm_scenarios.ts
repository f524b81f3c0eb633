// Copyright the @seed/concurrency authors. MIT license.
// The longer bodies of pool_regression_test.ts: crashes, cancelled tasks
// that are killed, abandoned threads, hostile tasks and results that cannot
// be moved. Each throws (an assertion or the watchdog) when the pool breaks
// the property its test is named after.
import assert from "node:assert/strict";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import { flags, signal, until } from "../_test_atomics.ts";
import {
  type BadResultKind,
  CRASH_KINDS,
  type CrashKind,
  expectedValue,
  type HostileKind,
  type Kind,
} from "./storm_tasks.ts";
import {
  assertNoneRanTwice,
  assertValues,
  counters,
  dispose,
  eventually,
  handled,
  isPending,
  item,
  okCalls,
  range,
  rejected,
  settleAll,
  type StormPool,
  stormPool,
  threadsBackTo,
  watchdog,
  workerThreadCount,
} from "./storm_harness.ts";

/** (b) A pool of 2, 24 calls, every sixth a different crash kind. */
export async function crashEverySixthCall(): Promise<void> {
  const before = workerThreadCount();
  const pool = stormPool({ size: 2 });
  const runs = counters(24);
  const kindOf = (i: number): Kind =>
    i % 6 === 5
      ? CRASH_KINDS[(i - 5) / 6] as Kind
      : i % 3 === 0
      ? "fail"
      : "ok";
  const calls = range(0, 24).map((i) =>
    handled(pool.run("step", [item(runs, i, kindOf(i))]))
  );
  const results = await settleAll(calls, "24 calls", pool);
  results.forEach((result, i) => {
    const kind = kindOf(i);
    const error = rejected(result);
    if (kind === "fail") assert.equal(error?.index, i, `call ${i}: ${error}`);
    else if (kind === "ok") assertValues([result], [i], runs);
    else assert.ok(error instanceof WorkerCrashedError, `${kind}: ${error}`);
  });
  assert.deepEqual([...runs], new Array(24).fill(1), "every task ran once");
  await watchdog(pool.close(), "close()", () => pool.stats);
  await watchdog(threadsBackTo(before), "the worker threads to end");
}

/** A crash of one kind among ordinary calls on a pool of 2. */
export async function crashFailsOnlyItsTask(kind: CrashKind): Promise<void> {
  const pool = stormPool({ size: 2 });
  const runs = counters(62);
  try {
    const before = okCalls(pool, runs, 0, 20);
    const crash = handled(pool.run("step", [item(runs, 20, kind)]));
    const after = okCalls(pool, runs, 21, 40);
    const results = await settleAll(
      [...before, crash, ...after],
      "the calls",
      pool,
    );
    const [own] = results.splice(20, 1);
    assert.ok(rejected(own!) instanceof WorkerCrashedError, rejected(own!));
    assertValues(results, [...range(0, 20), ...range(21, 40)], runs, true);
    const next = pool.run("step", [item(runs, 61, "ok")]);
    assert.equal(await watchdog(next, "a call after it"), expectedValue(61));
    assertNoneRanTwice(runs);
    await watchdog(pool.close(), "close()");
  } finally {
    await dispose(pool);
  }
}

/** (c) Quick tasks, then a long one on the same worker, cancelled and killed. */
export async function killedWorkerRunsNothingAgain(): Promise<void> {
  const pool = stormPool({ size: 1, abortGraceMs: 10 });
  const runs = counters(31);
  const gate = flags();
  try {
    const quick = okCalls(pool, runs, 0, 20);
    const controller = new AbortController();
    const stuck = handled(
      pool.run("step", [item(runs, 20, "spinUntilReleased", { gate })], {
        signal: controller.signal,
      }),
    );
    await watchdog(until(runs, 20, 1), "the long task to start");
    const reason = new Error("Cancel the long task");
    controller.abort(reason);
    assert.equal(await watchdog(stuck.catch((e) => e), "the cancel"), reason);
    const later = okCalls(pool, runs, 21, 10);
    const results = await settleAll([...quick, ...later], "the calls", pool);
    assertValues(results, [...range(0, 20), ...range(21, 10)], runs, true);
    signal(gate, 0, 1);
    await watchdog(pool.close(), "close()", () => pool.stats);
    assertNoneRanTwice(runs);
  } finally {
    await dispose(pool, gate);
  }
}

/** A pool whose only worker was abandoned: its cancelled task spins until `gate` is set. */
async function abandonedPool(gate: Int32Array): Promise<StormPool> {
  const pool = stormPool({ size: 1, abortGraceMs: 10 });
  const runs = counters(1);
  const controller = new AbortController();
  const stuck = handled(
    pool.run("step", [item(runs, 0, "spinUntilReleased", { gate })], {
      signal: controller.signal,
    }),
  );
  await watchdog(until(runs, 0, 1), "the stuck task to start");
  controller.abort(new Error("Give up"));
  await assert.rejects(stuck, /Give up/);
  await watchdog(
    eventually(() => pool.stats.abandonedWorkers === 1),
    "the worker to be abandoned",
    () => pool.stats,
  );
  return pool;
}

/** (e) close() waits for an abandoned thread. */
export async function closeWaitsForAbandonedThread(): Promise<void> {
  const before = workerThreadCount();
  const gate = flags();
  const pool = await abandonedPool(gate);
  try {
    const closing = handled(pool.close());
    for (let i = 0; i < 5; i++) {
      assert.ok(
        await isPending(closing),
        "close() resolved while the abandoned thread still runs",
      );
    }
    signal(gate, 0, 1);
    await watchdog(closing, "close() once the thread ends", () => pool.stats);
    assert.equal(pool.stats.abandonedWorkers, 0);
    await watchdog(threadsBackTo(before), "the worker threads to end");
  } finally {
    await dispose(pool, gate);
  }
}

/** (e) terminate() does not wait; abandonedWorkers counts until the end. */
export async function terminateLeavesAbandonedThread(): Promise<void> {
  const before = workerThreadCount();
  const gate = flags();
  const pool = await abandonedPool(gate);
  try {
    await watchdog(pool.terminate(), "terminate() with an abandoned thread");
    assert.equal(pool.stats.abandonedWorkers, 1, "counted while it runs");
    signal(gate, 0, 1);
    await watchdog(
      eventually(() => pool.stats.abandonedWorkers === 0),
      "abandonedWorkers to drop to 0 once the thread ends",
      () => pool.stats,
    );
    await watchdog(threadsBackTo(before), "the worker threads to end");
  } finally {
    await dispose(pool, gate);
  }
}

/** A hostile call among 120 ordinary ones on a pool of 2. */
export async function hostileLeavesOthersAlone(
  kind: HostileKind,
): Promise<void> {
  const pool = stormPool({ size: 2 });
  const runs = counters(121);
  try {
    const before = okCalls(pool, runs, 0, 40);
    const hostile = handled(pool.run("step", [item(runs, 40, kind)]));
    const during = okCalls(pool, runs, 41, 40);
    const results = await settleAll(
      [...before, hostile, ...during],
      "the calls around the hostile one",
      pool,
    );
    const [own] = results.splice(40, 1) as [PromiseSettledResult<unknown>];
    assert.ok(
      own.status === "fulfilled" || own.reason instanceof WorkerCrashedError,
      `the hostile call: ${rejected(own)}`,
    );
    assertValues(results, [...range(0, 40), ...range(41, 40)], runs, true);
    const after = okCalls(pool, runs, 81, 40);
    assertValues(
      await settleAll(after, "later calls", pool),
      range(81, 40),
      runs,
    );
    assertNoneRanTwice(runs);
    await watchdog(pool.close(), "close()", () => pool.stats);
  } finally {
    await dispose(pool);
  }
}

/** A result whose transfer list cannot be transferred. */
export async function untransferableResultFailsOnce(
  kind: BadResultKind,
): Promise<void> {
  const pool = stormPool({ size: 1 });
  const runs = counters(2);
  try {
    const error = await watchdog(
      pool.run("step", [item(runs, 0, kind)]).catch((e) => e),
      "the call",
      () => pool.stats,
    );
    assert.ok(
      error instanceof Error && !(error instanceof PoolClosedError),
      String(error),
    );
    assert.match(
      `${error.message} ${(error.cause as Error)?.message}`,
      /transfer/i,
    );
    const next = pool.run("step", [item(runs, 1, "ok")]);
    assert.equal(await watchdog(next, "the next call"), expectedValue(1));
    await watchdog(pool.close(), "close()", () => pool.stats);
    assert.deepEqual([...runs], [1, 1], "each task ran once");
  } finally {
    await dispose(pool);
  }
}

/** Big arguments (copied, not transferred) among other work on a pool of 2. */
export async function bigArgumentsFinish(): Promise<void> {
  const pool = stormPool({ size: 2 });
  const runs = counters(64);
  try {
    for (const [megabytes, index] of [[50, 0], [200, 32]] as const) {
      const bytes = new Uint8Array(megabytes * 1024 * 1024);
      bytes[0] = 1;
      bytes[bytes.length - 1] = 2;
      const others = range(index + 1, 30).map((i) =>
        handled(pool.run("step", [
          item(runs, i, i % 5 === 0 ? "slowSync" : "ok", { ms: 5 }),
        ]))
      );
      const big = handled(pool.run("probe", [runs, index, bytes]));
      const more = okCalls(pool, runs, index + 31, 1);
      assert.equal(
        await watchdog(big, `the ${megabytes} MB call`, () => pool.stats),
        bytes.length + 3,
      );
      await settleAll([...others, ...more], "the other calls", pool);
    }
    assert.ok(pool.stats.stolen <= 16, `stolen: ${pool.stats.stolen}`);
    assertNoneRanTwice(runs);
    await watchdog(pool.close(), "close()");
  } finally {
    await dispose(pool);
  }
}
