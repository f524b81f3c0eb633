// Copyright the @seed/concurrency authors. MIT license.
// deno-lint-ignore-file no-explicit-any -- tests call the API with values its types forbid
import assert from "node:assert/strict";
import { inProcessMode, THREADS_ONLY, WorkerPool } from "./_test_pool.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { WorkerCrashedError } from "./errors/worker_crashed_error.ts";
import type * as Tasks from "./testdata/tasks.ts";
import { liveWorkerThreads } from "./_test_threads.ts";
import { flags, until } from "./_test_atomics.ts";
import { WorkerChannel } from "./channels/worker_channel.ts";
import { isolatedTest } from "./testdata/storm_harness.ts";

const TASKS = new URL("./testdata/tasks.ts", import.meta.url);

function taskPool(options: ConstructorParameters<typeof WorkerPool>[1] = {}) {
  return new WorkerPool<typeof Tasks>(TASKS, options);
}

Deno.test("WorkerPool.map() returns the notebook's squares in input order", async () => {
  await using pool = new WorkerPool({ size: 4 });
  const results = await pool.map(
    (x: number) => x * x,
    Array.from({ length: 10 }, (_, i) => i),
  );
  assert.deepEqual(results, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
});

Deno.test("WorkerPool.map() keeps input order across many chunks and accepts any iterable", async () => {
  await using pool = new WorkerPool({ size: 2 });
  const input = new Set(Array.from({ length: 1000 }, (_, i) => i));
  const results = await pool.map((x: number) => x + 1, input, { chunkSize: 7 });
  assert.deepEqual(results, [...input].map((x) => x + 1));
  assert.equal(pool.stats.runTimeMs.count, Math.ceil(1000 / 7));
  assert.deepEqual(await pool.map((x: number) => x, []), []);
});

Deno.test("WorkerPool.run() runs named tasks, sync and async, from a task module", async () => {
  await using pool = taskPool({ size: 2 });
  assert.equal(await pool.run("square", [7]), 49);
  assert.equal(await pool.run("slowDouble", [21]), 42);
  assert.deepEqual(await pool.map("square", [1, 2, 3]), [1, 4, 9]);
});

Deno.test("WorkerPool.run() rejects an unknown task name with the module's task list, and goes on", async () => {
  await using pool = taskPool({ size: 1 });

  const error = await (pool.run as any)("cube", [2]).catch((e: unknown) => e);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /Cannot run task "cube"/);
  assert.match(error.message, /square/);
  assert.match(error.message, /slowDouble/);

  const notFn = await (pool.run as any)("notAFunction").catch((e: unknown) =>
    e
  );
  assert.match(notFn.message, /exports it, but not as a function/);
  assert.equal(await pool.run("square", [3]), 9);
});

Deno.test("WorkerPool.run() with a task name on a pool without a module is a TypeError", async () => {
  await using pool = new WorkerPool({ size: 1 });

  await assert.rejects((pool.run as any)("square", [1]), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /has no task module/);
    return true;
  });
});

Deno.test("an inline function that uses an outer variable fails with an error naming it", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const factor = 3;
  const error = await pool.run((x: number) => x * factor, [2]).catch((e) => e);
  assert.ok(error instanceof ReferenceError);
  assert.match(error.message, /"factor"/);
  assert.match(
    error.message,
    /pass it as an argument or move the function into a task module/,
  );
  assert.equal(await pool.run((x: number, f: number) => x * f, [2, factor]), 6);
});

Deno.test("inline functions may be async, methods or function expressions that use the task context", async () => {
  await using pool = new WorkerPool({ size: 1 });
  assert.equal(
    await pool.run(async (x: number) => await Promise.resolve(x + 1), [1]),
    2,
  );
  const holder = {
    twice(x: number) {
      return x * 2;
    },
  };
  assert.equal(await pool.run(holder.twice, [4]), 8);
  const aborted = await pool.run(function () {
    return this.aborted;
  });
  assert.equal(aborted, false);
});

Deno.test("native, bound and class functions are refused with a TypeError", async () => {
  await using pool = new WorkerPool({ size: 1 });
  await assert.rejects(pool.run(Math.max, [1, 2]), TypeError);
  await assert.rejects(
    pool.run(((x: number) => x).bind(null), [1]),
    /native or bound/,
  );

  await assert.rejects(pool.run(class {} as any), /is a class/);
});

Deno.test("task errors keep their class, name, message, stack, cause and own fields", async () => {
  await using pool = taskPool({ size: 1 });
  const type = await pool.run("fail", ["type"]).catch((e) => e);
  assert.ok(type instanceof TypeError);
  assert.equal(type.message, "wrong type");
  assert.match(String(type.stack), /testdata\/tasks\.ts/);

  const custom = await pool.run("fail", ["custom"]).catch((e) => e);
  assert.equal(custom.name, "ValidationError");
  assert.equal(custom.code, "E_INVALID");
  assert.equal(custom.field, "email");
  assert.ok(custom.cause instanceof RangeError);
  assert.equal(custom.cause.message, "too long");

  const aggregate = await pool.run("fail", ["aggregate"]).catch((e) => e);
  assert.ok(aggregate instanceof AggregateError);
  assert.equal(aggregate.errors.length, 2);
  assert.ok(aggregate.errors[0] instanceof TypeError);
  assert.equal(aggregate.errors[1].name, "ValidationError");

  assert.equal(
    await pool.run("fail", ["string"]).catch((e) => e),
    "a plain string",
  );
});

Deno.test("an argument that cannot be cloned fails only its call, naming the argument", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const good = pool.run((x: number) => x, [1]);
  const bad = pool.run((_a: number, _b: unknown) => 0, [1, Symbol("s")]);
  const error = await bad.catch((e) => e);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /argument 1 of/);
  assert.match(error.message, /symbol/);
  assert.equal(await good, 1);
  const mapError = await pool.map((x: unknown) => x, [1, 2, () => 3], {
    chunkSize: 1,
  }).catch((e) => e);
  assert.match(mapError.message, /item 2 given to/);
  assert.equal(await pool.run((x: number) => x * 2, [5]), 10);
});

Deno.test("a result that cannot be cloned fails only its call, naming the task", async () => {
  await using pool = taskPool({ size: 1 });
  const error = await pool.run("returnFunction").catch((e) => e);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /result of task "returnFunction"/);
  const chunkError = await pool.map(
    (x: number) => (x === 2 ? Symbol("no") : x),
    [1, 2, 3],
    {
      chunkSize: 3,
    },
  ).catch((e) => e);
  assert.match(chunkError.message, /item 1 of a chunk/);
  assert.equal(await pool.run("square", [2]), 4);
});

Deno.test("per-call transfer moves buffers to the worker, and transfer() moves results back", async () => {
  await using pool = taskPool({ size: 1 });
  const buffer = new ArrayBuffer(1024);
  assert.equal(
    await pool.run("byteLength", [buffer], { transfer: [buffer] }),
    1024,
  );
  assert.equal(buffer.byteLength, 0);
  const bytes = await pool.run("bytes", [8]);
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [7, 7, 7, 7, 7, 7, 7, 7]);
});

Deno.test("submit() returns a Future that settles with the result", async () => {
  await using pool = taskPool({ size: 2 });
  const future = pool.submit("square", [5]);
  assert.equal(future.state, "pending");
  assert.equal(await future, 25);
  assert.equal(future.state, "fulfilled");
  const failed = pool.submit("fail", ["type"]);
  await assert.rejects(Promise.resolve(failed), TypeError);
  assert.equal(failed.state, "rejected");
});

Deno.test(
  "a signal removes a queued task: it never runs and the call rejects with the reason",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1 });
    const gate = flags();
    const blocker = pool.run("block", [gate]);
    await until(gate, 0, 1);
    const controller = new AbortController();
    const queued = pool.run("workerTag", [], { signal: controller.signal });
    const reason = new Error("not needed");
    controller.abort(reason);
    assert.equal(await queued.catch((e) => e), reason);
    Atomics.store(gate, 2, 1);
    await blocker;
    assert.equal(pool.stats.cancelled, 1);
    assert.equal(pool.stats.completed, 1);
  },
);

Deno.test("an already aborted signal rejects the call without running it", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const reason = new Error("early");
  await assert.rejects(
    pool.run(() => 1, [], { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(pool.stats.completed, 0);
});

Deno.test(
  "an async running task sees the abort through its signal, with the caller's reason",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1 });
    const state = flags();
    const controller = new AbortController();
    const call = pool.run("awaitAbort", [state], { signal: controller.signal });
    await until(state, 0, 1);
    const reason = new RangeError("stop now");
    controller.abort(reason);
    assert.equal(await call.catch((e) => e), reason);
    await until(state, 1, 1);
    // The worker stopped cleanly and serves the next task: no crash, no replacement.
    assert.equal(await pool.run("square", [3]), 9);
    assert.equal(pool.stats.crashedWorkers, 0);
  },
);

Deno.test(
  "a synchronous loop sees the abort through the shared-memory flag and stops",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1 });
    const state = flags();
    const future = pool.submit("spinUntilAborted", [state]);
    await until(state, 0, 1);
    assert.equal(future.cancel(), true);
    assert.equal(future.state, "cancelled");
    await until(state, 1, 1);
    assert.equal(await pool.run("square", [4]), 16);
    assert.equal(pool.stats.crashedWorkers, 0);
    assert.equal(pool.stats.abandonedWorkers, 0);
  },
);

Deno.test(
  "a task that ignores its cancellation loses its worker after the grace period; others go on",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1, abortGraceMs: 10 });
    const state = flags();
    const controller = new AbortController();
    const stuck = pool.run("spinIgnoringAbort", [state], {
      signal: controller.signal,
    });
    await until(state, 0, 1);
    const next = pool.run("square", [6]);
    controller.abort(new Error("give up"));
    await assert.rejects(stuck, /give up/);
    // The next task runs on a replacement worker while the stuck thread spins.
    assert.equal(await next, 36);
    assert.equal(pool.stats.abandonedWorkers, 1);
    assert.equal(pool.stats.terminatedWorkers, 1);
    assert.equal(pool.stats.crashedWorkers, 0, "a timeout is not a crash");
    Atomics.store(state, 2, 1); // let the abandoned loop end
    while (pool.stats.abandonedWorkers > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(pool.stats.abandonedWorkers, 0);
  },
);

for (
  const [how, check] of [
    [
      "throw",
      (cause: Error) =>
        cause instanceof RangeError && /outside any task/.test(cause.message),
    ],
    [
      "reject",
      (cause: Error) =>
        cause instanceof TypeError && /nobody handles/.test(cause.message),
    ],
    ["close", (cause: Error) => /self\.close\(\)/.test(cause.message)],
    [
      "exit",
      (cause: Error) =>
        // A process's exit is seen in its status, not reported.
        /Deno\.exit\(3\)|exited with code 3/.test(cause.message),
    ],
  ] as const
) {
  Deno.test(`a worker that dies by ${how} fails only its running task; a new worker takes its place`, async () => {
    await using pool = taskPool({ size: 2 });
    const before = await pool.map("square", [1, 2, 3, 4]);
    const crash = pool.run("crash", [how]).catch((e) => e);
    const others = Array.from(
      { length: 50 },
      (_, i) => pool.run("square", [i]),
    );
    const error = await crash;
    assert.ok(error instanceof WorkerCrashedError, String(error));
    assert.ok(check(error.cause as Error), `unexpected cause: ${error.cause}`);
    assert.deepEqual(
      await Promise.all(others),
      Array.from({ length: 50 }, (_, i) => i * i),
    );
    assert.deepEqual(before, [1, 4, 9, 16]);
    assert.equal(pool.stats.crashedWorkers, 1);
    assert.equal(await pool.run("square", [9]), 81);
  });
}

Deno.test("tasks sent to a worker but not started when it dies run on another worker", async () => {
  await using pool = taskPool({ size: 1 });
  // Teach the pool that tasks are tiny so it sends several per message.
  await pool.map("square", Array.from({ length: 200 }, (_, i) => i), {
    chunkSize: 1,
  });
  const crash = pool.run("crash", ["throw"]).catch((e) => e);
  const queued = Array.from({ length: 20 }, (_, i) => pool.run("square", [i]));
  assert.ok((await crash) instanceof WorkerCrashedError);
  assert.deepEqual(
    await Promise.all(queued),
    Array.from({ length: 20 }, (_, i) => i * i),
  );
});

Deno.test(
  "a crashed call is told to its caller before the pool starts the replacement thread",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1 });
    await pool.run("square", [1]);
    // Starting a thread blocks this one for most of a start: the caller of
    // the crashed call must not wait for it.
    const told = pool.run("crash", ["throw"]).then(
      () => "resolved",
      (error) => ({ error, workers: pool.stats.workers }),
    );
    const next = pool.run("square", [3]); // needs the replacement
    const { error, workers } = await told as {
      error: unknown;
      workers: number;
    };
    assert.ok(error instanceof WorkerCrashedError, String(error));
    assert.equal(workers, 0, "no replacement started before the caller ran");
    assert.equal(await next, 9);
    assert.equal(pool.stats.workers, 1);
  },
);

Deno.test("a task module that does not exist rejects calls with the load failure as cause, without respawning", async () => {
  await using pool = new WorkerPool(
    new URL("./testdata/missing.ts", import.meta.url),
    { size: 2 },
  );

  const run = pool.run.bind(pool) as any;
  const errors = (await Promise.all(
    [run("x"), run("y")].map((p: Promise<unknown>) => p.catch((e: Error) => e)),
  )) as Error[];
  for (const error of errors) {
    assert.match(error.message, /Cannot load the task module .*missing\.ts/);
    assert.match(String((error.cause as Error)?.message), /missing\.ts/);
  }
  const later = await run("z").catch((e: Error) => e);
  assert.equal(later, errors[0]);
  assert.equal(pool.stats.workers, 0);
});

Deno.test("a task module that throws while loading rejects calls with that error as cause", async () => {
  await using pool = new WorkerPool(
    new URL("./testdata/throws_on_load.ts", import.meta.url),
    {
      size: 1,
    },
  );

  const error = await (pool.run as any)("anything").catch((e: Error) => e);
  assert.ok(error.cause instanceof RangeError);
  assert.equal(error.cause.message, "This module refuses to load");
});

Deno.test("bad options and inputs get clear errors", async (t) => {
  await t.step("size must be a positive integer", () => {
    for (const size of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => new WorkerPool({ size: size as number }),
        (e: Error) =>
          e instanceof RangeError &&
          /'size' must be a positive integer/.test(e.message),
      );
    }
    // The wrong type is a TypeError.
    assert.throws(
      () => new WorkerPool({ size: "4" as unknown as number }),
      (e: Error) =>
        e instanceof TypeError && /'size' must be a number/.test(e.message),
    );
    assert.throws(
      () => new WorkerPool({ idleTimeoutMs: "5" as unknown as number }),
      (e: Error) =>
        e instanceof TypeError &&
        /'idleTimeoutMs' must be a number/.test(e.message),
    );
  });
  await t.step("maxQueue must be a positive integer or Infinity", () => {
    assert.throws(() => new WorkerPool({ maxQueue: 0 }), RangeError);
    assert.throws(() => new WorkerPool({ maxQueue: -3 }), /'maxQueue'/);
  });
  await t.step("timeouts must be non-negative", () => {
    assert.throws(() => new WorkerPool({ idleTimeoutMs: -1 }), RangeError);
    assert.throws(() => new WorkerPool({ abortGraceMs: NaN }), RangeError);
  });
  await t.step("the task module must be an absolute URL", () => {
    assert.throws(() => new WorkerPool("./tasks.ts"), /absolute URL/);
  });
  await t.step("permissions must be a permissions value", () => {
    assert.throws(
      () => new WorkerPool({ permissions: "all" as any }),
      TypeError,
    );
  });
  await t.step("map needs an iterable", async () => {
    await using pool = new WorkerPool({ size: 1 });

    await assert.rejects(
      pool.map((x: number) => x, 5 as any),
      /'items' is not iterable/,
    );
    await assert.rejects(
      pool.map((x: number) => x, (async function* () {})() as any),
      /use imap\(\)/,
    );
    await assert.rejects(
      pool.map((x: number) => x, [1], { chunkSize: 0 }),
      RangeError,
    );
    assert.equal(await pool.run(() => "still serving"), "still serving");
  });
  await t.step("arguments must be an array", async () => {
    await using pool = new WorkerPool({ size: 1 });

    await assert.rejects(
      pool.run((x: number) => x, 1 as any),
      /must be an array/,
    );
  });
});

Deno.test("close() finishes queued work, then calls reject with PoolClosedError", async () => {
  const pool = new WorkerPool({ size: 2 });
  const pending = Array.from(
    { length: 20 },
    (_, i) => pool.run((x: number) => x * 3, [i]),
  );
  const closing = pool.close();
  assert.equal(pool.state, "closing");
  await assert.rejects(pool.run(() => 1), PoolClosedError);
  await assert.rejects(pool.map((x: number) => x, [1]), PoolClosedError);
  assert.deepEqual(
    await Promise.all(pending),
    Array.from({ length: 20 }, (_, i) => i * 3),
  );
  await closing;
  assert.equal(pool.state, "closed");
  assert.equal(pool.close(), closing);
  await assert.rejects(pool.run(() => 1), PoolClosedError);
  assert.equal(pool.stats.workers, 0);
});

Deno.test(
  "terminate() rejects queued and running tasks with PoolClosedError",
  THREADS_ONLY,
  async () => {
    const pool = taskPool({ size: 1 });
    const gate = flags();
    const running = pool.run("block", [gate]).catch((e) => e);
    await until(gate, 0, 1);
    const queued = pool.run("square", [2]).catch((e) => e);
    const future = pool.submit("square", [3]);
    await pool.terminate();
    Atomics.store(gate, 2, 1);
    assert.ok((await running) instanceof PoolClosedError);
    assert.ok((await queued) instanceof PoolClosedError);
    assert.equal(future.state, "rejected");
    assert.ok(future.error instanceof PoolClosedError);
  },
);

function threads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/Threads:\s+(\d+)/.exec(status)?.[1]);
}

// In a process of its own: it counts the process's threads, which other
// test files running in parallel (warm pools, say) would add to.
if (!inProcessMode()) {
  isolatedTest(
    import.meta.url,
    "after close no worker thread remains",
    async () => {
      // Warm up, so that threads the runtime starts once are already there.
      {
        await using pool = new WorkerPool({ size: 2 });
        await pool.map((x: number) => x, [1, 2, 3, 4], { chunkSize: 1 });
      }
      const before = threads();
      const pool = new WorkerPool({ size: 2 });
      const gate = flags();
      // Two tasks that each hold a worker until both have started.
      const hold = (g: Int32Array) => {
        Atomics.add(g, 0, 1);
        Atomics.notify(g, 0);
        while (Atomics.load(g, 0) < 2) Atomics.wait(g, 0, 1, 20);
        return 1;
      };
      const running = [pool.run(hold, [gate]), pool.run(hold, [gate])];
      await until(gate, 0, 2);
      assert.equal(pool.stats.workers, 2);
      assert.equal(await liveWorkerThreads(), 2);
      assert.deepEqual(await Promise.all(running), [1, 1]);
      await pool.close();
      // Every worker's lifeline lock is freed only when its thread has ended.
      assert.equal(await liveWorkerThreads(), 0);
      assert.equal(pool.stats.workers, 0);
      // The OS threads go too (they may take a moment to be reaped after the
      // runtime inside them has ended).
      for (let i = 0; i < 500 && threads() > before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(
        threads() <= before,
        `threads: ${threads()}, before: ${before}`,
      );
    },
  );
}

Deno.test(
  "maxQueue makes run() wait for room instead of growing the queue",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1, maxQueue: 2 });
    const gate = flags();
    const running = pool.run("block", [gate]);
    await until(gate, 0, 1);
    const queued = [pool.run("square", [1]), pool.run("square", [2])];
    const waiting = pool.run("square", [3]);
    await Promise.resolve();
    assert.equal(pool.stats.queued, 2);
    assert.equal(pool.stats.waiting, 1);
    Atomics.store(gate, 2, 1);
    await running;
    assert.deepEqual(await Promise.all([...queued, waiting]), [1, 4, 9]);
  },
);

Deno.test(
  "a signal aborts a call that waits for room in a full queue",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1, maxQueue: 1 });
    const gate = flags();
    const running = pool.run("block", [gate]);
    await until(gate, 0, 1);
    const queued = pool.run("square", [1]);
    const controller = new AbortController();
    const waiting = pool.run("square", [2], { signal: controller.signal });
    const future = pool.submit("square", [3]);
    controller.abort(new Error("no room"));
    assert.equal(future.cancel(), true);
    await assert.rejects(waiting, /no room/);
    Atomics.store(gate, 2, 1);
    await running;
    assert.equal(await queued, 1);
    assert.equal(await pool.run("square", [4]), 16);
  },
);

Deno.test("maxTasksPerWorker replaces a worker after that many tasks", async () => {
  await using pool = taskPool({ size: 1, maxTasksPerWorker: 3 });
  const tags: string[] = [];
  for (let i = 0; i < 7; i++) tags.push(await pool.run("workerTag"));
  assert.equal(new Set(tags.slice(0, 3)).size, 1);
  assert.equal(new Set(tags.slice(3, 6)).size, 1);
  assert.notEqual(tags[0], tags[3]);
  assert.notEqual(tags[3], tags[6]);
  assert.equal(pool.stats.crashedWorkers, 0);
});

Deno.test("idle workers stop after idleTimeoutMs and come back on demand", async () => {
  await using pool = taskPool({ size: 1, idleTimeoutMs: 1 });
  const first = await pool.run("workerTag");
  while (pool.stats.workers > 0) await new Promise((r) => setTimeout(r, 2));
  const second = await pool.run("workerTag");
  assert.notEqual(first, second);
});

Deno.test("imap() yields in input order from an endless generator and reads only a bounded prefix", async () => {
  await using pool = new WorkerPool({ size: 2 });
  let pulled = 0;
  function* naturals() {
    for (let n = 0;; n++) {
      pulled++;
      yield n;
    }
  }
  const out: number[] = [];
  for await (
    const x of pool.imap((n: number) => n * 2, naturals(), {
      chunkSize: 4,
      maxInFlight: 3,
    })
  ) {
    out.push(x);
    if (out.length === 100) break;
  }
  assert.deepEqual(out, Array.from({ length: 100 }, (_, i) => i * 2));
  assert.ok(
    pulled <= 100 + 4 * 3,
    `read ${pulled} items ahead of a consumer that took 100`,
  );
});

Deno.test("imap() over an async iterable and imapUnordered() yield every result once", async () => {
  await using pool = new WorkerPool({ size: 2 });
  async function* source() {
    for (let i = 0; i < 30; i++) yield i;
  }
  assert.deepEqual(
    await Array.fromAsync(pool.imap((n: number) => n + 1, source())),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const unordered = await Array.fromAsync(
    pool.imapUnordered((n: number) => n + 1, source()),
  );
  assert.deepEqual(
    unordered.sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
});

Deno.test("imap() throws the first task error and stops reading its input", async () => {
  await using pool = taskPool({ size: 2 });
  const iterator = pool.imap("fail", ["boom"]);
  await assert.rejects(iterator.next(), /boom/);
  assert.equal(await pool.run("square", [2]), 4);
});

Deno.test("map() rejects with a task's error and cancels the rest", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const error = await pool.map(
    (n: number) => {
      if (n === 3) throw new RangeError("three");
      return n;
    },
    [1, 2, 3, 4, 5, 6],
    { chunkSize: 1 },
  ).catch((e) => e);
  assert.ok(error instanceof RangeError);
  assert.equal(await pool.run(() => "ok"), "ok");
});

Deno.test("stats report queue, outcomes and summaries", async () => {
  await using pool = taskPool({ size: 2 });
  await pool.map("square", [1, 2, 3, 4], { chunkSize: 1 });
  await pool.run("fail", ["x"]).catch(() => {});
  const stats = pool.stats;
  assert.equal(stats.size, 2);
  assert.equal(stats.completed, 4);
  assert.equal(stats.failed, 1);
  assert.equal(stats.queued, 0);
  assert.equal(stats.busy, 0);
  assert.equal(stats.runTimeMs.count, 5);
  assert.equal(stats.waitTimeMs.count, 5);
  assert.ok(stats.runTimeMs.maxMs >= stats.runTimeMs.p50Ms);
});

Deno.test("permissions: 'none' sandboxes the workers of a pool with a task module", async () => {
  await using pool = taskPool({ size: 1, permissions: "none" });
  assert.equal(await pool.run("square", [5]), 25);
  const error = await pool.run("readFile", ["/etc/hostname"]).catch((e) => e);
  assert.equal(error.name, "NotCapable");
  assert.match(error.message, /read access/);
  // Crash recovery works in the sandbox too.
  assert.ok(
    (await pool.run("crash", ["throw"]).catch((e) => e)) instanceof
      WorkerCrashedError,
  );
  assert.equal(await pool.run("square", [6]), 36);
});

Deno.test("permissions: 'none' sandboxes inline functions too", async () => {
  await using pool = new WorkerPool({ size: 1, permissions: "none" });
  const error = await pool.run(() => Deno.readTextFile("/etc/hostname")).catch((
    e,
  ) => e);
  assert.equal(error.name, "NotCapable");
  assert.equal(await pool.run((x: number) => x + 1, [1]), 2);
});

Deno.test("permissions: a sandboxed task module that fails to load rejects with the load failure", async () => {
  await using pool = new WorkerPool(
    new URL("./testdata/throws_on_load.ts", import.meta.url),
    {
      size: 1,
      permissions: "none",
    },
  );
  const error = await (pool.run as any)("anything").catch((e: Error) => e);
  assert.match(error.message, /Cannot load the task module/);
  assert.match(String(error.cause?.message), /This module refuses to load/);
});

Deno.test("task names and argument types are checked by TypeScript against the module", async () => {
  await using pool = taskPool({ size: 1 });
  const nine: number = await pool.run("square", [3]);
  assert.equal(nine, 9);
  const doubled: number[] = await pool.map("slowDouble", [1, 2]);
  assert.deepEqual(doubled, [2, 4]);
  const tag: string = await pool.submit("workerTag");
  assert.equal(typeof tag, "string");
  // The lines below must not compile; `deno check` fails if they do.
  // @ts-expect-error: "cube" is not a task of the module
  await pool.run("cube", [3]).catch(() => {});
  // @ts-expect-error: square takes a number
  await pool.run("square", ["3"]).catch(() => {});
  // @ts-expect-error: square needs its argument
  await pool.run("square").catch(() => {});
  // @ts-expect-error: notAFunction is not a function
  await pool.run("notAFunction").catch(() => {});
  // @ts-expect-error: the inline function takes a number
  await pool.run((x: number) => x, ["1"]).catch(() => {});
});

Deno.test(
  "an idle worker takes over unstarted tasks from a busy one (work stealing)",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({ size: 2 });
    const gate = flags();
    // Each task waits until two tasks run at once: it can only finish if the
    // second worker takes tasks the first was given before it started.
    const meet = (g: Int32Array) => {
      Atomics.add(g, 0, 1);
      Atomics.notify(g, 0);
      let seen = Atomics.load(g, 0);
      while (seen < 2) {
        Atomics.wait(g, 0, seen, 20);
        seen = Atomics.load(g, 0);
      }
      return seen;
    };
    const results = await Promise.all(
      Array.from({ length: 4 }, () => pool.run(meet, [gate])),
    );
    assert.equal(results.length, 4);
    assert.equal(pool.stats.workers, 2);
  },
);

Deno.test(
  "no task runs twice or is lost while workers steal from each other",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({ size: 2 });
    const n = 5000;
    const runs = new Int32Array(new SharedArrayBuffer(n * 4));
    // Uneven task costs make workers run dry at different times and steal.
    const work = (counts: Int32Array, i: number) => {
      const end = performance.now() + (i % 97 === 0 ? 1 : 0);
      while (performance.now() < end) {
        // busy
      }
      Atomics.add(counts, i, 1);
      return i;
    };
    for (let round = 0; round < 3; round++) {
      runs.fill(0);
      const calls = Array.from(
        { length: n },
        (_, i) => pool.run(work, [runs, i]),
      );
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: n }, (_, i) => i),
      );
      const wrong = [...runs.entries()].filter(([, count]) => count !== 1);
      assert.deepEqual(
        wrong,
        [],
        `every task ran exactly once (stats: ${JSON.stringify(pool.stats)})`,
      );
    }
  },
);

Deno.test(
  "a task that waits for a later task does not deadlock a pool that knows tasks are tiny",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({ size: 2 });
    // Teach the pool that tasks take microseconds.
    await pool.map(
      (x: number) => x,
      Array.from({ length: 2000 }, (_, i) => i),
      {
        chunkSize: 1,
      },
    );
    const gate = flags();
    const waiter = pool.run((g: Int32Array) => {
      while (Atomics.load(g, 0) === 0) Atomics.wait(g, 0, 0, 20);
      return "released";
    }, [gate]);
    const releaser = pool.run((g: Int32Array) => {
      Atomics.store(g, 0, 1);
      Atomics.notify(g, 0);
      return "released it";
    }, [gate]);
    assert.deepEqual(await Promise.all([waiter, releaser]), [
      "released",
      "released it",
    ]);
  },
);

Deno.test("a task that transfers its arguments waits for an idle worker, so a crash ahead of it cannot take them", async () => {
  await using pool = taskPool({ size: 1 });
  const crash = pool.run("crash", ["throw"]).catch((e) => e);
  const buffer = new ArrayBuffer(8);
  const held = pool.run("byteLength", [buffer], { transfer: [buffer] });
  const plain = pool.run("square", [3]);
  assert.ok((await crash) instanceof WorkerCrashedError);
  assert.equal(await held, 8);
  assert.equal(buffer.byteLength, 0);
  assert.equal(await plain, 9);
});

Deno.test(
  "tasks that must all run at once get a worker each, even after steals from a stuck worker",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({ size: 8 });
    const gate = flags();
    const meetAll = (g: Int32Array, parties: number) => {
      Atomics.add(g, 0, 1);
      Atomics.notify(g, 0);
      let seen = Atomics.load(g, 0);
      while (seen < parties) {
        Atomics.wait(g, 0, seen, 20);
        seen = Atomics.load(g, 0);
      }
      return seen;
    };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => pool.run(meetAll, [gate, 8])),
    );
    assert.ok(results.every((n) => n >= 8));
    assert.equal(pool.stats.workers, 8);
    assert.equal(pool.stats.queued, 0);
  },
);

Deno.test("map() over numbers keeps every value exact and falls back when results are not numbers", async () => {
  await using pool = new WorkerPool({ size: 2 });
  const input = Array.from(
    { length: 1000 },
    (_, i) => (i % 7 === 0 ? -0 : i / 3),
  );
  input[5] = NaN;
  input[6] = Number.MAX_SAFE_INTEGER;
  input[7] = -Infinity;
  const same = await pool.map((x: number) => x, input, { chunkSize: 250 });
  assert.ok(Array.isArray(same));
  assert.equal(same.length, input.length);
  for (let i = 0; i < input.length; i++) {
    assert.ok(Object.is(same[i], input[i]), `item ${i}`);
  }
  // Results that stop being numbers part-way through a chunk.
  const mixed = await pool.map(
    (x: number) => (x > 500 ? `big ${x}` : x * 2),
    Array.from({ length: 1000 }, (_, i) => i),
    {
      chunkSize: 1000,
    },
  );
  assert.equal(mixed[10], 20);
  assert.equal(mixed[501], "big 501");
  // An async function over numbers, called in order.
  const doubled = await pool.map(
    async (x: number) => {
      await Promise.resolve();
      return x * 2;
    },
    Array.from({ length: 300 }, (_, i) => i),
    { chunkSize: 150 },
  );
  assert.deepEqual(doubled, Array.from({ length: 300 }, (_, i) => i * 2));
  // imap takes the same path for its numeric chunks.
  const streamed = await Array.fromAsync(
    pool.imap((x: number) => -x, Array.from({ length: 500 }, (_, i) => i), {
      chunkSize: 100,
    }),
  );
  assert.deepEqual(streamed, Array.from({ length: 500 }, (_, i) => -i));
});

Deno.test(
  "the fast path for a lone primitive call keeps results, errors, cancellation and stats right",
  THREADS_ONLY,
  async () => {
    await using pool = taskPool({ size: 1 });
    // Sequential calls with one primitive argument take the fast path once the
    // worker knows the function.
    for (let i = 0; i < 50; i++) {
      assert.equal(await pool.run("square", [i]), i * i);
    }
    assert.equal(
      await pool.run((s: string) => s.toUpperCase(), ["fast"]),
      "FAST",
    );
    assert.equal(
      await pool.run((s: string) => s.toUpperCase(), ["path"]),
      "PATH",
    );
    assert.equal(await pool.run((b: boolean) => !b, [true]), false);
    // A result that is not a primitive goes back the normal way.
    assert.deepEqual(await pool.run((n: number) => [n, n], [2]), [2, 2]);
    assert.deepEqual(await pool.run((n: number) => ({ n }), [3]), { n: 3 });
    // Errors too.
    await assert.rejects(pool.run("fail", ["type"]), TypeError);
    await assert.rejects(pool.run("fail", ["type"]), TypeError);
    const stats = pool.stats;
    assert.equal(stats.completed, 55);
    assert.equal(stats.failed, 2);
    assert.equal(stats.runTimeMs.count, 57);
  },
);

Deno.test(
  "a producer and a consumer sharing a WorkerChannel run side by side in one pool",
  THREADS_ONLY,
  async () => {
    await using pool = new WorkerPool({ size: 2 });
    const channel = new WorkerChannel<number>(2);
    const producer = pool.run(async (q: WorkerChannel<number>) => {
      for (let i = 0; i < 20; i++) await q.send(i);
      q.close();
      return "sent";
    }, [channel]);
    const consumer = pool.run(async (q: WorkerChannel<number>) => {
      const got: number[] = [];
      for await (const item of q) got.push(item);
      return got;
    }, [channel]);
    assert.deepEqual(await Promise.all([producer, consumer]), [
      "sent",
      Array.from({ length: 20 }, (_, i) => i),
    ]);
    assert.equal(pool.stats.workers, 2);
  },
);
