// Copyright the @seed/concurrency authors. MIT license.
// One plain test per reported symptom of the pool under faults, written
// against its public API only. Each waits on real signals (promises, shared
// memory); a watchdog turns a hang into a failure with a dump of what was
// pending (STORM_WATCHDOG_MS, default 20000). Each test runs in a process of
// its own (isolatedTest): some count the process's worker threads, some take
// process-wide Web Locks, and a pool bug that throws outside any test (an
// unhandled rejection) must fail that one test, not cancel the file.
import assert from "node:assert/strict";
import { WorkerPool } from "./pool.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { flags, signal, until } from "./_test_atomics.ts";
import {
  BAD_RESULT_KINDS,
  CRASH_KINDS,
  expectedValue,
  HOSTILE_KINDS,
  type Kind,
} from "./testdata/storm_tasks.ts";
import type * as NeverLoads from "./testdata/storm_never_loads.ts";
import {
  assertNoneRanTwice,
  assertValues,
  counters,
  dispose,
  handled,
  isolatedTest,
  isPending,
  item,
  okCalls,
  range,
  rejected,
  restingProblems,
  runDeno,
  settleAll,
  stormPool,
  watchdog,
} from "./testdata/storm_harness.ts";
import {
  closeEndsEndlessImap,
  imapNamesUncloneableItem,
  imapSignalInterruptsSourceWait,
  imapYieldsWhileSourcePauses,
} from "./testdata/storm_imap_scenarios.ts";
import {
  bigArgumentsFinish,
  closeWaitsForAbandonedThread,
  crashEverySixthCall,
  crashFailsOnlyItsTask,
  hostileLeavesOthersAlone,
  killedWorkerRunsNothingAgain,
  terminateLeavesAbandonedThread,
  untransferableResultFailsOnce,
} from "./testdata/storm_scenarios.ts";

const FILE = import.meta.url;
const value = (index: number) => expectedValue(index);

// ---- backpressure -----------------------------------------------------------

isolatedTest(
  FILE,
  "a full queue (size 1, maxQueue 2) settles the six calls behind a long task once it ends, and stats rest at 0 busy, 0 queued",
  async () => {
    const pool = stormPool({ size: 1, maxQueue: 2 });
    const runs = counters(8);
    const gate = flags();
    try {
      const long = handled(
        pool.run("step", [item(runs, 0, "block", { gate })]),
      );
      await watchdog(until(runs, 0, 1), "the long task to start");
      const waiting = okCalls(pool, runs, 1, 6);
      signal(gate, 0, 1);
      const results = await settleAll([long, ...waiting], "the calls", pool);
      assertValues(results, range(0, 7), runs);
      const stats = pool.stats;
      assert.deepEqual([stats.busy, stats.queued], [0, 0], "busy, queued");
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool, gate);
    }
  },
);

isolatedTest(
  FILE,
  "5,000 mixed calls at size 4 with maxQueue 64 all settle with their own outcome",
  async () => {
    const pool = stormPool({ size: 4, maxQueue: 64 });
    const n = 5_000;
    const runs = counters(n);
    const kinds: Kind[] = ["ok", "async", "fail", "ok", "slowAsync"];
    const calls = range(0, n).map((i) => {
      const call = item(runs, i, kinds[i % kinds.length] as Kind, { ms: 1 });
      return i % 2 === 0
        ? handled(pool.run("step", [call]))
        : handled(Promise.resolve(pool.submit("step", [call])));
    });
    try {
      const results = await settleAll(calls, "5,000 calls", pool);
      results.forEach((result, i) => {
        if (kinds[i % kinds.length] === "fail") {
          assert.equal(rejected(result)?.index, i, `call ${i} rejects`);
        } else assert.equal((result as { value?: unknown }).value, value(i));
      });
      assertNoneRanTwice(runs);
      assert.deepEqual(restingProblems(pool.stats), []);
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool);
    }
  },
);

// ---- crashes (bodies in testdata/storm_scenarios.ts) ------------------------

isolatedTest(
  FILE,
  "a pool of 2 survives a different crash kind on every sixth of 24 calls: every call settles with its own outcome and close() ends every worker thread",
  crashEverySixthCall,
);

for (const kind of CRASH_KINDS) {
  isolatedTest(
    FILE,
    `a worker killed by ${kind} fails only its own task; tasks it had not started run elsewhere, and none runs twice`,
    () => crashFailsOnlyItsTask(kind),
  );
}

isolatedTest(
  FILE,
  "quick tasks that finished before a long task on their worker was cancelled and killed never run again",
  killedWorkerRunsNothingAgain,
);

// ---- stats ------------------------------------------------------------------

isolatedTest(
  FILE,
  "stats at rest add up after heavy stealing: submitted = completed + failed + cancelled, waitTimeMs.count <= submitted",
  async () => {
    const pool = stormPool({ size: 4 });
    const n = 3_000;
    const runs = counters(n);
    try {
      const kindOf = (i: number): Kind =>
        i % 97 === 0 ? "slowSync" : i % 13 === 0 ? "fail" : "ok";
      const calls = range(0, n).map((i) =>
        pool.submit("step", [item(runs, i, kindOf(i), { ms: 3 })])
      );
      for (let i = 5; i < n; i += 50) calls[i]!.cancel();
      await settleAll(calls.map((f) => Promise.resolve(f)), "the calls", pool);
      const stats = pool.stats;
      assert.deepEqual(restingProblems(stats), [], JSON.stringify(stats));
      assert.equal(stats.submitted, n);
      assertNoneRanTwice(runs);
      await watchdog(pool.close(), "close()");
      assert.deepEqual(restingProblems(pool.stats), []);
    } finally {
      await dispose(pool);
    }
  },
);

isolatedTest(
  FILE,
  "stats.busy and stats.queued are 0 as soon as every call has settled, also after cancellations and a crash",
  async () => {
    const pool = stormPool({ size: 1 });
    const runs = counters(250);
    const gate = flags();
    const idle = (when: string) => {
      const { busy, queued } = pool.stats;
      assert.deepEqual({ busy, queued }, { busy: 0, queued: 0 }, when);
    };
    try {
      await watchdog(Promise.all(okCalls(pool, runs, 0, 200)), "200 calls");
      idle("after 200 calls");
      // Tasks given to the worker, then cancelled before they start.
      const block = handled(
        pool.run("step", [item(runs, 200, "block", { gate })]),
      );
      const futures = range(201, 20).map((i) =>
        pool.submit("step", [item(runs, i, "ok")])
      );
      await watchdog(until(runs, 200, 1), "the blocking task to start");
      for (const future of futures) future.cancel();
      signal(gate, 0, 1);
      await watchdog(block, "the blocking task");
      idle("after cancelled tasks");
      const crash = handled(pool.run("step", [item(runs, 221, "crashThrow")]));
      await watchdog(crash.catch(() => {}), "the crash");
      idle("after a crash");
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool, gate);
    }
  },
);

// ---- abandoned threads ------------------------------------------------------

isolatedTest(
  FILE,
  "close() resolves only once an abandoned worker thread has really ended, with abandonedWorkers back to 0",
  closeWaitsForAbandonedThread,
);

isolatedTest(
  FILE,
  "terminate() does not wait for an abandoned worker thread, which abandonedWorkers counts until it ends",
  terminateLeavesAbandonedThread,
);

// ---- close, start, options --------------------------------------------------

isolatedTest(
  FILE,
  "close({ signal }) that aborts terminates the pool: pending calls reject with PoolClosedError and close() rejects with the signal's reason",
  async () => {
    const pool = stormPool({ size: 1 });
    const runs = counters(4);
    const gate = flags();
    try {
      const running = handled(
        pool.run("step", [item(runs, 0, "block", { gate })]),
      );
      await watchdog(until(runs, 0, 1), "the blocking task to start");
      const queued = okCalls(pool, runs, 1, 3);
      const controller = new AbortController();
      const closing = pool.close({ signal: controller.signal });
      assert.ok(
        await isPending(closing),
        "close() resolved with a task still running",
      );
      const reason = new Error("stop waiting");
      controller.abort(reason);
      assert.equal(
        await watchdog(
          closing.catch((e) => e),
          "close() after its signal aborted",
          () => pool.stats,
        ),
        reason,
      );
      for (
        const result of await settleAll(
          [running, ...queued],
          "the pending calls",
          pool,
        )
      ) {
        assert.ok(
          rejected(result) instanceof PoolClosedError,
          `${rejected(result)}`,
        );
      }
    } finally {
      await dispose(pool, gate);
    }
  },
);

isolatedTest(
  FILE,
  "a task module whose top-level await never settles fails the start after startTimeoutMs, and close() resolves",
  async () => {
    const pool = new WorkerPool<typeof NeverLoads>(
      new URL("./testdata/storm_never_loads.ts", import.meta.url),
      { size: 1, startTimeoutMs: 200 },
    );
    try {
      const error = await watchdog(
        pool.run("never").catch((e) => e),
        "a call to a worker that never loads",
        () => pool.stats,
      );
      assert.ok(error instanceof Error, String(error));
      assert.match(
        String((error.cause as Error)?.message ?? error.cause),
        /timed? ?out|timeout/i,
      );
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool);
    }
  },
);

isolatedTest(
  FILE,
  "abortGraceMs, idleTimeoutMs and startTimeoutMs above 2^31-1 ms throw RangeError at construction; Infinity is accepted",
  async () => {
    for (const name of ["abortGraceMs", "idleTimeoutMs", "startTimeoutMs"]) {
      for (const ms of [2 ** 31, 1e12]) {
        assert.throws(
          () => new WorkerPool({ [name]: ms }),
          RangeError,
          `${name}: ${ms}`,
        );
      }
      for (const ms of [2 ** 31 - 1, Infinity]) {
        await new WorkerPool({ [name]: ms }).close();
      }
    }
  },
);

isolatedTest(
  FILE,
  "a permissions object with a value of the wrong type throws TypeError at construction",
  () => {
    const permissions = {
      read: "x",
    } as unknown as Deno.PermissionOptionsObject;
    assert.throws(() => new WorkerPool({ permissions }), TypeError);
  },
);

isolatedTest(
  FILE,
  "a sandboxed pool made without --unstable-worker-options throws an error naming the flag, and the process goes on",
  async () => {
    // Run without the flag: a crash of the process shows as exit code 70.
    const { code, output } = await runDeno([
      "run",
      "-A",
      "testdata/storm_sandbox_no_flag.ts",
    ]);
    assert.equal(code, 0, `exit code ${code}:\n${output}`);
    assert.match(output, /constructor threw: .*--unstable-worker-options/);
    assert.match(output, /the process goes on/);
  },
);

isolatedTest(
  FILE,
  "a pool of size 1 starts tasks in submission order, across a crash and worker recycling",
  async () => {
    const pool = stormPool({ size: 1, maxTasksPerWorker: 7 });
    const n = 60;
    const runs = counters(n);
    const order = counters(n + 1);
    const gate = flags();
    try {
      const calls = range(0, n).map((i) => {
        const kind: Kind = i === 0 ? "block" : i === 30 ? "crashThrow" : "ok";
        const call = item(runs, i, kind, { order, gate });
        return i % 2 === 0
          ? handled(pool.run("step", [call]))
          : handled(Promise.resolve(pool.submit("step", [call])));
      });
      await watchdog(until(runs, 0, 1), "the first task to start");
      signal(gate, 0, 1);
      await settleAll(calls, "the calls", pool);
      const starts = [...order.subarray(1)];
      assert.deepEqual(
        starts,
        range(1, n),
        "start number of each call, in submission order",
      );
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool, gate);
    }
  },
);

// ---- hostile tasks ----------------------------------------------------------

for (const kind of HOSTILE_KINDS) {
  const name =
    `a hostile task (${kind}) cannot change other callers' results, and the pool keeps serving`;
  isolatedTest(FILE, name, () => hostileLeavesOthersAlone(kind));
}

// ---- imap (bodies in testdata/storm_imap_scenarios.ts) ----------------------

isolatedTest(
  FILE,
  "close() during an endless imap ends the iteration with PoolClosedError after every result already submitted, and close() resolves",
  closeEndsEndlessImap,
);

isolatedTest(
  FILE,
  "imap over a paused async source yields the results already computed without waiting for the source",
  imapYieldsWhileSourcePauses,
);

isolatedTest(
  FILE,
  "an imap signal interrupts a wait for the source",
  imapSignalInterruptsSourceWait,
);

isolatedTest(
  FILE,
  "an item imap cannot clone is reported with its real index",
  imapNamesUncloneableItem,
);

// ---- results ----------------------------------------------------------------

for (const kind of BAD_RESULT_KINDS) {
  isolatedTest(
    FILE,
    `a result whose transfer list cannot be transferred (${kind}) fails its call once with a clear error; nothing re-runs and close() resolves`,
    () => untransferableResultFailsOnce(kind),
  );
}

isolatedTest(
  FILE,
  "a quick task's result reaches its caller while the next task on its worker is still blocked",
  async () => {
    const pool = stormPool({ size: 1 });
    const runs = counters(2);
    const gate = flags();
    try {
      const quick = handled(pool.run("step", [item(runs, 0, "ok")]));
      const blocker = handled(
        pool.run("step", [item(runs, 1, "block", { gate })]),
      );
      assert.equal(
        await watchdog(
          quick,
          "the quick call while the next task blocks its worker",
        ),
        value(0),
      );
      await watchdog(until(runs, 1, 1), "the blocker to start");
      assert.ok(await isPending(blocker), "the blocker is still running");
      signal(gate, 0, 1);
      assert.equal(await watchdog(blocker, "the blocker"), value(1));
      await watchdog(pool.close(), "close()");
    } finally {
      await dispose(pool, gate);
    }
  },
);

isolatedTest(
  FILE,
  "a 50 MB argument on a pool of 2 with other work finishes without being stolen back and forth; 200 MB finishes too",
  bigArgumentsFinish,
);
