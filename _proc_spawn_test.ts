// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import { FrameError } from "./_proc_frame.ts";
import { CALL, OK, PING, PONG, RESULT } from "./_proc_protocol.ts";
import { type ProcessExit, ProcessWorker } from "./_proc_spawn.ts";
import {
  deserializeError,
  type SerializedError,
} from "./errors/serialize_error.ts";

const TASKS = new URL("./testdata/proc_tasks.ts", import.meta.url).href;

/** A process worker with a call helper over CALL/RESULT. */
function start(
  options: Partial<ConstructorParameters<typeof ProcessWorker>[0]> = {},
) {
  const pending = new Map<number, PromiseWithResolvers<unknown>>();
  const pongs: unknown[] = [];
  let stderr = "";
  const worker = new ProcessWorker({
    moduleUrl: TASKS,
    onStderr: (chunk) => stderr += new TextDecoder().decode(chunk),
    ...options,
  }, {
    onMessage(_, message) {
      if (message[0] === PONG) return void pongs.push(message[1]);
      if (message[0] !== RESULT) return;
      const call = pending.get(message[1] as number);
      pending.delete(message[1] as number);
      if (message[2] === OK) call?.resolve(message[3]);
      else call?.reject(deserializeError(message[3] as SerializedError));
    },
  });
  let next = 0;
  const call = (name: string, ...args: unknown[]) => {
    const id = next++;
    const result = Promise.withResolvers<unknown>();
    pending.set(id, result);
    worker.send([CALL, id, name, args]);
    return result.promise;
  };
  return { worker, call, pongs, stderr: () => stderr };
}

/** Ends the worker and waits for its exit. */
async function stop(worker: ProcessWorker): Promise<ProcessExit> {
  worker.kill();
  return await worker.exited;
}

Deno.test("ProcessWorker starts a child deno that loads the task module and answers calls", async () => {
  const { worker, call } = start();
  assert.equal(worker.state, "starting");
  await worker.ready;
  assert.equal(worker.state, "ready");
  assert.equal(await call("pid"), worker.pid);
  const value = {
    map: new Map([[1n, new Set(["a"])]]),
    bytes: new Uint8Array([1, 2, 3]),
    date: new Date(0),
    nested: [{ re: /x/g }],
  };
  assert.deepStrictEqual(await call("echo", value), value);
  worker.close();
  const exit = await worker.exited;
  // Ending the channel is a graceful stop: the child exits by itself.
  assert.equal(exit.code, 0);
  assert.equal(exit.signal, null);
});

Deno.test("ProcessWorker reports a task module that throws on load as a load error", async () => {
  const { worker } = start({
    moduleUrl: new URL("./testdata/throws_on_load.ts", import.meta.url).href,
  });
  const error = await worker.ready.catch((e) => e);
  assert.ok(error instanceof RangeError);
  assert.equal(error.message, "This module refuses to load");
  const exit = await worker.exited;
  assert.equal(exit.code, 1);
  assert.equal(exit.cause.cause, error);
});

Deno.test("ProcessWorker explains an exit code, an uncaught error and an unhandled rejection", async () => {
  const exiting = start();
  await exiting.worker.ready;
  void exiting.call("exit", 3).catch(() => {});
  const byExit = await exiting.worker.exited;
  assert.equal(byExit.code, 3);
  assert.match(byExit.cause.message, /exited with code 3/);

  for (
    const [name, Class] of [["throwLater", TypeError], [
      "rejectLater",
      RangeError,
    ]] as const
  ) {
    const { worker, call } = start();
    await worker.ready;
    void call(name, `from ${name}`).catch(() => {});
    const exit = await worker.exited;
    assert.equal(exit.code, 1);
    assert.ok(exit.cause.cause instanceof Class, name);
    assert.equal((exit.cause.cause as Error).message, `from ${name}`);
  }
});

Deno.test("ProcessWorker says out of memory when a child exceeds maxMemoryMb", async () => {
  const { worker, call } = start({ maxMemoryMb: 24 });
  await worker.ready;
  void call("allocate").catch(() => {});
  const exit = await worker.exited;
  assert.equal(exit.outOfMemory, true);
  assert.match(exit.cause.message, /ran out of memory/);
  // Deno 2.9.6: V8's fatal OOM handler traps.
  assert.equal(exit.signal, "SIGTRAP");
});

Deno.test("ProcessWorker.kill() ends a child spinning in a synchronous loop", async () => {
  const { worker, call, pongs } = start();
  await worker.ready;
  void call("spin").catch(() => {});
  worker.send([PING, 1]);
  await worker.flush();
  const exit = await stop(worker);
  assert.equal(exit.signal, "SIGKILL");
  assert.equal(exit.killed, true);
  assert.match(exit.cause.message, /killed by SIGKILL \(sent by the pool\)/);
  // The ping came after the spinning call: it was never answered.
  assert.deepStrictEqual(pongs, []);
});

Deno.test("ProcessWorker kills a child that breaks the frame format or the protocol", async () => {
  const bad = new URL("./testdata/proc_bad_child.ts", import.meta.url).href;
  const garbage = start({ childUrl: `${bad}#garbage` });
  await garbage.worker.ready;
  const byGarbage = await garbage.worker.exited;
  assert.ok(byGarbage.cause.cause instanceof FrameError);
  assert.equal(byGarbage.signal, "SIGKILL");

  const unknown = start({ childUrl: `${bad}#unknown` });
  await unknown.worker.ready;
  const byMessage = await unknown.worker.exited;
  assert.match(
    (byMessage.cause.cause as Error).message,
    /broke the protocol: a message of unknown type/,
  );
});

Deno.test("Task code in a child cannot open the channel a second time", async () => {
  const { worker, call } = start();
  await worker.ready;
  await assert.rejects(call("corrupt"), /EEXIST/);
  assert.equal(await call("echo", 1), 1);
  await stop(worker);
});

Deno.test("ProcessWorker fails only the call whose result cannot be cloned", async () => {
  const { worker, call } = start();
  await worker.ready;
  await assert.rejects(call("uncloneable"), /could not be cloned/);
  assert.equal(await call("echo", 5), 5);
  await stop(worker);
});

Deno.test("ProcessWorker runs a sandboxed child with its permissions as flags and no prompt", async () => {
  const secret = await Deno.makeTempFile();
  await Deno.writeTextFile(secret, "secret");
  try {
    // "none": the task module still loads (imported statically by the
    // entry), and reading fails rather than prompting.
    const none = start({ permissions: "none" });
    await none.worker.ready;
    // Deno's error classes are not registered: the name tells.
    await assert.rejects(
      none.call("readText", secret),
      (e) => e instanceof Error && e.name === "NotCapable",
    );
    await stop(none.worker);

    const some = start({
      permissions: {
        env: false,
        ffi: false,
        import: false,
        net: false,
        read: [secret],
        run: false,
        sys: false,
        write: false,
      },
    });
    await some.worker.ready;
    assert.equal(await some.call("readText", secret), "secret");
    await stop(some.worker);
  } finally {
    await Deno.remove(secret);
  }
});

Deno.test("ProcessWorker passes the parent's deno.json on, so import maps and npm: work", async () => {
  const moduleUrl = new URL("./testdata/proc_import_map.ts", import.meta.url)
    .href;
  const withConfig = start({ moduleUrl });
  await withConfig.worker.ready;
  assert.equal(await withConfig.call("sample"), 1);
  await stop(withConfig.worker);

  const without = start({ moduleUrl, configFlags: ["--no-config"] });
  await assert.rejects(without.worker.ready, /fast-check/);
  await without.worker.exited;
});

/** Whether process `pid` runs (a zombie has ended: it only waits to be reaped). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Polls until none of `pids` runs; `false` if some still run after `limitMs`. */
async function allEnd(pids: number[], limitMs: number): Promise<boolean> {
  const until = performance.now() + limitMs;
  while (pids.some(running)) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

Deno.test({
  name:
    "Process workers exit by themselves when their parent is killed with SIGKILL, even one spinning",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const parent = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./testdata/proc_orphan_parent.ts", import.meta.url).href,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = parent.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    const pids = JSON.parse(line) as number[];
    assert.equal(pids.length, 2);
    assert.ok(pids.every(running), "both children run before the kill");
    parent.kill("SIGKILL");
    const status = await parent.status;
    assert.equal(status.signal, "SIGKILL");
    await reader.cancel();
    // Bounded: the children read end-of-file on their channel and exit.
    assert.ok(
      await allEnd(pids, 10_000),
      `still running: ${pids.filter(running)}`,
    );
  },
});
