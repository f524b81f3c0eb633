// Copyright the @seed/concurrency authors. MIT license.
// Process workers against Web Workers, measured in the same run: the time
// to start one (to READY for a child deno; to its first message for a
// Worker that imports the same task module), a sequential round trip of a
// small message, the time from SIGKILL to the exit status, and the
// throughput of small messages (1000 per tick) and of 1 MB Uint8Arrays
// through a child. Prints medians (and p90) in ms or per-second figures.
//
//   deno run -A bench/proc_latency.ts [--json]

import { CALL, PING, PONG, RESULT } from "../_proc_protocol.ts";
import { ProcessWorker } from "../_proc_spawn.ts";

const json = Deno.args.includes("--json");
const TASKS = new URL("../testdata/proc_tasks.ts", import.meta.url).href;
const results: Record<string, number> = {};

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function report(name: string, xs: number[], unit: string): void {
  results[`${name} p50`] = quantile(xs, 0.5);
  results[`${name} p90`] = quantile(xs, 0.9);
  if (!json) {
    console.log(
      `${name}: p50 ${quantile(xs, 0.5).toFixed(3)} ${unit}, p90 ${
        quantile(xs, 0.9).toFixed(3)
      } ${unit} (n=${xs.length})`,
    );
  }
}

/** A process worker whose PONGs and RESULTs resolve the waiting promise. */
function child(): { worker: ProcessWorker; next: () => Promise<unknown[]> } {
  let waiting: ((message: unknown[]) => void) | undefined;
  const worker = new ProcessWorker({ moduleUrl: TASKS }, {
    onMessage(_, message) {
      waiting?.(message);
    },
  });
  const next = () =>
    new Promise<unknown[]>((resolve) => {
      waiting = resolve;
    });
  return { worker, next };
}

const WORKER_SOURCE = `
  await import(${JSON.stringify(TASKS)});
  self.onmessage = (e) => self.postMessage(e.data);
  self.postMessage("ready");
`;
const workerUrl = URL.createObjectURL(
  new Blob([WORKER_SOURCE], { type: "text/javascript" }),
);

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
  });
}

// ---- start ------------------------------------------------------------------
const spawnMs: number[] = [];
const workerStartMs: number[] = [];
const killMs: number[] = [];
for (let i = 0; i < 12; i++) {
  let t = performance.now();
  const { worker } = child();
  await worker.ready;
  spawnMs.push(performance.now() - t);
  t = performance.now();
  worker.kill();
  await worker.exited;
  killMs.push(performance.now() - t);

  t = performance.now();
  const thread = new Worker(workerUrl, { type: "module" });
  await firstMessage(thread);
  workerStartMs.push(performance.now() - t);
  thread.terminate();
}
report("start: child deno to READY", spawnMs.slice(2), "ms");
report("start: Web Worker to first message", workerStartMs.slice(2), "ms");
report("kill: SIGKILL to exit status", killMs.slice(2), "ms");

// ---- round trips ------------------------------------------------------------
const ROUNDS = 3000;
{
  const { worker, next } = child();
  await worker.ready;
  const rtt: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const reply = next();
    worker.send([PING, i]);
    await reply;
    rtt.push((performance.now() - t) * 1000);
  }
  report("round trip: child deno (PING/PONG)", rtt.slice(500), "µs");

  // Small messages, 1000 per tick, echoed.
  const N = 100_000;
  let t = performance.now();
  let received = 0;
  const done = Promise.withResolvers<void>();
  const { worker: echo } = (() => {
    const w = new ProcessWorker({ moduleUrl: TASKS }, {
      onMessage(_, message) {
        if (message[0] === PONG && ++received === N) done.resolve();
      },
    });
    return { worker: w };
  })();
  await echo.ready;
  t = performance.now();
  for (let i = 0; i < N; i += 1000) {
    for (let j = i; j < i + 1000; j++) echo.send([PING, j]);
    await echo.flush();
  }
  await done.promise;
  const msgPerS = N / (performance.now() - t) * 1000;
  results["child echo, small messages (msg/s)"] = msgPerS;
  if (!json) {
    console.log(`child echo, small messages: ${msgPerS.toFixed(0)} msg/s`);
  }
  echo.kill();
  await echo.exited;

  // 1 MB Uint8Arrays, one at a time, echoed by a task call.
  const big = new Uint8Array(1 << 20).fill(1);
  const M = 40;
  t = performance.now();
  for (let i = 0; i < M; i++) {
    const reply = next();
    worker.send([CALL, i, "echo", [big]]);
    const message = await reply;
    if (message[0] !== RESULT) throw new Error("Unexpected reply");
  }
  const mbPerS = (2 * M) / (performance.now() - t) * 1000;
  results["child echo, 1 MB Uint8Array (MB/s, both ways)"] = mbPerS;
  if (!json) {
    console.log(
      `child echo, 1 MB Uint8Array: ${mbPerS.toFixed(1)} MB/s (both ways)`,
    );
  }
  worker.kill();
  await worker.exited;
}
{
  const thread = new Worker(workerUrl, { type: "module" });
  await firstMessage(thread);
  const rtt: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const reply = firstMessage(thread);
    thread.postMessage([PING, i]);
    await reply;
    rtt.push((performance.now() - t) * 1000);
  }
  report("round trip: Web Worker (postMessage)", rtt.slice(500), "µs");
  thread.terminate();
}
URL.revokeObjectURL(workerUrl);
if (json) console.log(JSON.stringify(results));
