// Copyright the @seed/concurrency authors. MIT license.
// Process workers (`isolation: "process"`): the shared pool suite, run with
// process workers (the imports below), then what only processes do. Tasks
// signal the test through files, as processes share no memory.
import "./_test_process_mode.ts";
import "./pool_test.ts";
import "./pool_map_test.ts";
import "./pool_warm_test.ts";
import "./pool_results_test.ts";

import assert from "node:assert/strict";
import { WorkerPool } from "./pool.ts";
import { PoolClosedError } from "./errors/pool_closed_error.ts";
import { WorkerCrashedError } from "./errors/worker_crashed_error.ts";
import { SharedValue } from "./sync/shared_value.ts";
import { pipe } from "./channels/pipe.ts";
import { WorkerChannel } from "./channels/worker_channel.ts";
import type * as Proc from "./testdata/proc_tasks.ts";
import { exists } from "./testdata/proc_tasks.ts";
import { isolatedTest } from "./testdata/storm_harness.ts";

const PROC = new URL("./testdata/proc_tasks.ts", import.meta.url);

function procPool(options: ConstructorParameters<typeof WorkerPool>[1] = {}) {
  return new WorkerPool<typeof Proc>(PROC, {
    isolation: "process",
    ...options,
  });
}

/** Resolves once `check()` holds, looking every 5 ms; throws after 30 s. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits for the file a task marks, and returns the pid written in it. */
async function marked(path: string): Promise<number> {
  await eventually(() => exists(path), path);
  return Number(Deno.readTextFileSync(path));
}

/** Whether process `pid` runs (a zombie or a gone process does not). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** The pids of this process's live children. */
function children(): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === Deno.pid && fields[0] !== "Z") {
        out.push(Number(entry.name));
      }
    } catch {
      // It ended meanwhile.
    }
  }
  return out;
}

function tempDir(): { path(name: string): string } & Disposable {
  const dir = Deno.makeTempDirSync({ prefix: "seed-proc-" });
  return {
    path: (name) => `${dir}/${name}`,
    [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }),
  };
}

Deno.test("process: a cancelled task spinning in a synchronous loop loses its process after abortGraceMs; nothing is abandoned", async () => {
  using dir = tempDir();
  await using pool = procPool({ size: 1, abortGraceMs: 100 });
  const controller = new AbortController();
  const stuck = pool.run("markThenSpin", [dir.path("spin")], {
    signal: controller.signal,
  });
  const pid = await marked(dir.path("spin"));
  const next = pool.run("pid", []);
  controller.abort(new Error("give up"));
  await assert.rejects(stuck, /give up/);
  // The next call runs in a new process; the spinning one is killed.
  assert.notEqual(await next, pid);
  await eventually(() => !alive(pid), "the spinning process to end");
  const stats = pool.stats;
  assert.equal(stats.abandonedWorkers, 0);
  assert.equal(stats.terminatedWorkers, 1);
  assert.equal(stats.crashedWorkers, 0, "a timeout is not a crash");
});

Deno.test("process: an async running task sees the abort through its signal, with the caller's reason", async () => {
  using dir = tempDir();
  await using pool = procPool({ size: 1 });
  const controller = new AbortController();
  const call = pool.run(
    "markThenAwaitAbort",
    [dir.path("started"), dir.path("aborted")],
    { signal: controller.signal },
  );
  const pid = await marked(dir.path("started"));
  controller.abort(new Error("stop now"));
  await assert.rejects(call, /stop now/);
  assert.equal(await marked(dir.path("aborted")), pid);
  // It ended by itself: its process serves on.
  assert.equal(await pool.run("pid", []), pid);
  assert.equal(pool.stats.terminatedWorkers, 0);
});

Deno.test("process: a task cancelled while it waits behind a long one never runs, and the long one is not killed for it", async () => {
  using dir = tempDir();
  await using pool = procPool({ size: 1, abortGraceMs: 20 });
  const long = pool.run("markThenBlock", [
    dir.path("started"),
    dir.path("release"),
  ]);
  const pid = await marked(dir.path("started"));
  const controller = new AbortController();
  const behind = pool.run("countedSquare", [dir.path("count"), 3], {
    signal: controller.signal,
  });
  controller.abort(new Error("not needed"));
  await assert.rejects(behind, /not needed/);
  // Well past the grace, while the long task still blocks its process.
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.writeTextFileSync(dir.path("release"), "");
  assert.equal(await long, pid);
  assert.equal(exists(dir.path("count")), false, "the cancelled task ran");
  assert.equal(pool.stats.terminatedWorkers, 0);
});

// SIGABRT stands for a crash in native code (an abort). (An external SIGSEGV
// is not one: V8 handles it, and the process runs on.)
for (const signal of ["SIGTERM", "SIGKILL", "SIGABRT"] as const) {
  Deno.test(`process: tasks a process held but had not started run elsewhere when it dies (${signal}); none runs twice`, async () => {
    using dir = tempDir();
    await using pool = procPool({ size: 1 });
    const first = pool.run("markThenWait", [
      dir.path("started"),
      dir.path("never"),
    ]).catch((error) => error);
    const pid = await marked(dir.path("started"));
    const rest = Array.from(
      { length: 20 },
      (_, i) => pool.run("countedSquare", [dir.path(`count-${i}`), i]),
    );
    Deno.kill(pid, signal);
    const error = await first;
    assert.ok(error instanceof WorkerCrashedError, String(error));
    assert.match(error.message, new RegExp(`killed by ${signal}`));
    assert.deepEqual(
      await Promise.all(rest),
      Array.from({ length: 20 }, (_, i) => i * i),
    );
    for (let i = 0; i < 20; i++) {
      assert.equal(Deno.statSync(dir.path(`count-${i}`)).size, 1, `task ${i}`);
    }
    assert.equal(pool.stats.crashedWorkers, 1);
  });
}

Deno.test("process: Deno.exit() in a task names the exit code; the pool goes on", async () => {
  await using pool = procPool({ size: 1 });
  const error = await pool.run("exit", [7]).catch((e) => e);
  assert.ok(error instanceof WorkerCrashedError, String(error));
  assert.match(error.message, /exited with code 7/);
  assert.equal(await pool.run("echo", ["still here"]), "still here");
});

Deno.test("process: maxMemoryMb caps a worker's heap; a task past it fails with WorkerCrashedError saying so", async () => {
  await using pool = procPool({ size: 1, maxMemoryMb: 48 });
  const error = await pool.run("allocate", []).catch((e) => e);
  assert.ok(error instanceof WorkerCrashedError, String(error));
  assert.match(String((error.cause as Error).message), /out of memory/);
  assert.equal(await pool.run("echo", [1]), 1);
});

Deno.test("process: terminate() kills running workers at once and fails their calls", async () => {
  using dir = tempDir();
  const pool = procPool({ size: 1 });
  const running = pool.run("markThenSpin", [dir.path("spin")]).catch((e) => e);
  const queued = pool.run("echo", [1]).catch((e) => e);
  const pid = await marked(dir.path("spin"));
  await pool.terminate();
  assert.ok((await running) instanceof PoolClosedError);
  assert.ok((await queued) instanceof PoolClosedError);
  assert.equal(alive(pid), false, "terminate() resolved with it alive");
  assert.equal(pool.stats.abandonedWorkers, 0);
});

Deno.test("process: shared-memory objects cannot go to a process worker: a TypeError says why and what to use", async () => {
  await using pool = new WorkerPool({ isolation: "process", size: 1 });
  const value = new SharedValue("i32", 0);
  await assert.rejects(
    pool.run((v: SharedValue<"i32">) => v.value, [value]),
    (error: Error) =>
      error instanceof TypeError && /process worker/.test(error.message) &&
      /isolation: "thread"/.test(error.message),
  );
  // A bare SharedArrayBuffer is named as the argument at fault.
  await assert.rejects(
    pool.run((a: Int32Array) => a[0], [
      new Int32Array(new SharedArrayBuffer(4)),
    ]),
    /argument 0 .*shared memory: a process worker shares none/,
  );
  assert.equal(await pool.run((x: number) => x + 1, [1]), 2);
});

Deno.test("process: maxMemoryMb needs process isolation; isolation must be thread or process", () => {
  assert.throws(() => new WorkerPool({ maxMemoryMb: 64 }), TypeError);
  assert.throws(
    () => new WorkerPool({ isolation: "fiber" as never }),
    /"thread" or "process"/,
  );
  assert.throws(
    () => new WorkerPool({ isolation: "process", maxMemoryMb: 0 }),
    RangeError,
  );
});

Deno.test("process: permissions need no unstable flag, and a sandboxed task cannot read files", async () => {
  using dir = tempDir();
  const secret = dir.path("secret");
  Deno.writeTextFileSync(secret, "secret");
  const script = dir.path("main.ts");
  Deno.writeTextFileSync(
    script,
    `import { WorkerPool } from ${
      JSON.stringify(import.meta.resolve("./pool.ts"))
    };
const pool = new WorkerPool(${
      JSON.stringify(PROC.href)
    }, { isolation: "process", size: 1, permissions: "none" });
const outcome = await pool.run("readText", [${JSON.stringify(secret)}]).then(
  (text) => "read " + text,
  (error) => error.name,
);
await pool.close();
console.log(outcome);`,
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(text, /NotCapable|PermissionDenied/);
});

// In a process of its own: it counts this process's children, which other
// test files running in parallel (in the same process) would add to.
isolatedTest(
  import.meta.url,
  "process: after close no worker process remains",
  async () => {
    const before = new Set(children());
    const pool = procPool({ size: 2, minSize: 2 });
    await pool.ready();
    const pids = await pool.map("echo", [1, 2, 3, 4]);
    assert.deepEqual(pids, [1, 2, 3, 4]);
    const started = children().filter((pid) => !before.has(pid));
    assert.equal(started.length, 2);
    await pool.close();
    assert.deepEqual(started.filter(alive), []);
  },
);

Deno.test("process: a WorkerChannel carries values between two process workers, like multiprocessing.Queue", async () => {
  await using pool = procPool({ size: 2 });
  const channel = new WorkerChannel<number>(4);
  const producer = pool.run("produce", [channel, 100]);
  const consumer = pool.run("consume", [channel]);
  const [sum, consumerPid] = await consumer;
  const producerPid = await producer;
  assert.equal(sum, 4950);
  assert.notEqual(consumerPid, producerPid, "one process each");
  assert.notEqual(consumerPid, Deno.pid);
});

Deno.test("process: a channel a process worker owns reaches the caller", async () => {
  await using pool = procPool({ size: 1 });
  const channel = await pool.run("ownChannel", [["a", "b", "c"]]);
  assert.deepEqual(await Array.fromAsync(channel), ["a", "b", "c"]);
});

Deno.test("process: a receive a dying process left waiting takes no value: the next value stays in the channel", async () => {
  using dir = tempDir();
  await using pool = procPool({ size: 1 });
  const channel = new WorkerChannel<number>(8);
  await channel.send(1);
  const died = await pool.run("receiveThenDie", [channel, dir.path("got")])
    .catch((error) => error);
  assert.ok(died instanceof WorkerCrashedError, String(died));
  assert.equal(Deno.readTextFileSync(dir.path("got")), "1");
  // Whether or not the owner has seen the death yet, 2 must not be lost.
  await channel.send(2);
  channel.close();
  assert.deepEqual(await Array.fromAsync(channel), [2]);
});

Deno.test("process: pipe() ends join two process workers, or a process worker and the caller, like multiprocessing.Pipe", async () => {
  await using pool = procPool({ size: 2 });
  const [a, b] = pipe<number, number>();
  const doubled = pool.run("doubler", [b]);
  assert.equal(await pool.run("ask", [a, 21]), 42);
  assert.equal(await doubled, 1);
  const [mine, theirs] = pipe<number, number>();
  const served = pool.run("doubler", [theirs]);
  await mine.send(5);
  assert.equal(await mine.receive(), 10);
  mine.close();
  assert.equal(await served, 1);
});

Deno.test("process: quick tasks claimed with one whose process closes run elsewhere instead of failing", async () => {
  await using pool = procPool({ size: 1 });
  // Known to be quick in this process, so the next ones share one claim.
  let pid = 0;
  for (let i = 0; i < 30; i++) [, pid] = await pool.run("closeIf", [i, false]);
  const outcomes = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        pool.run("closeIf", [i, i === 4]).then(
          (value) => ({ value, error: undefined }),
          (error) => ({ value: undefined, error }),
        ),
    ),
  );
  for (let i = 0; i < 8; i++) {
    const { value, error } = outcomes[i]!;
    if (i === 4 && error !== undefined) {
      assert.ok(error instanceof WorkerCrashedError, String(error));
      continue;
    }
    assert.ok(value !== undefined, `task ${i} failed: ${error}`);
    assert.equal(value[0], i * i);
    // Those after the one that closed its process ran in another.
    if (i > 4) assert.notEqual(value[1], pid, `task ${i}`);
  }
  assert.equal(pool.stats.crashedWorkers, 1);
});

Deno.test("process: maxQueue makes run() wait for room while tasks wait behind a long one", async () => {
  using dir = tempDir();
  await using pool = procPool({ size: 1, maxQueue: 2 });
  const long = pool.run("markThenWait", [
    dir.path("started"),
    dir.path("release"),
  ]);
  const pid = await marked(dir.path("started"));
  // The file can come before the claim: wait until the pool knows it started.
  await eventually(() => pool.stats.queued === 0, "the claim of the long task");
  let admitted: Promise<unknown>[];
  let third: Promise<unknown>;
  try {
    admitted = [pool.run("echo", [1]), pool.run("echo", [2])];
    third = pool.run("echo", [3]);
    assert.equal(pool.stats.waiting, 1, "the third call waits for room");
    assert.equal(pool.stats.queued, 2);
  } finally {
    // Released whatever happened, so that closing the pool cannot hang.
    Deno.writeTextFileSync(dir.path("release"), "");
  }
  assert.equal(await long, pid);
  assert.deepEqual(await Promise.all([...admitted, third]), [1, 2, 3]);
  assert.equal(pool.stats.waiting, 0);
});
