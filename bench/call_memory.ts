// Copyright the @seed/concurrency authors. MIT license.
// What one call in flight weighs on the main thread: the heap a burst of
// calls keeps alive until they settle, per call. Under 100k tiny calls at
// once the garbage collector's share of the main thread follows this figure
// (it copies every live young object), so it is the lever for tiny tasks.
//
//   deno run -A --v8-flags=--expose-gc bench/call_memory.ts [calls]
//
// The pool's one worker is held in a task that waits on shared memory, so
// no call settles while the heap is measured; the calls are then released
// and checked. Beside each pool figure, the same burst of bare promises with
// their resolver (what any promise-returning API pays) and the argument
// arrays alone, so the pool's own share reads as the difference.
import { WorkerPool } from "../pool.ts";

const CALLS = Number(Deno.args[0] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("Run with --v8-flags=--expose-gc");
  Deno.exit(2);
}

/** Bytes of heap a burst of `CALLS` results of `make` keeps alive, per call. */
function retained(make: (i: number) => unknown): [number, unknown[]] {
  gc!();
  gc!();
  const kept = new Array(CALLS);
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < CALLS; i++) kept[i] = make(i);
  gc!();
  gc!();
  return [(Deno.memoryUsage().heapUsed - before) / CALLS, kept];
}

const square = (x: number) => x * x;
await using pool = new WorkerPool({ size: 1 });
await pool.run(square, [1]);

// Cell 0: the worker runs the gate task; cell 1: it may end.
const gate = new Int32Array(new SharedArrayBuffer(8));
const held = pool.run((cells: Int32Array) => {
  Atomics.store(cells, 0, 1);
  Atomics.notify(cells, 0);
  Atomics.wait(cells, 1, 0);
  return 0;
}, [gate]);
// The worker then holds nothing else: no call below can settle.
const running = Atomics.waitAsync(gate, 0, 0);
if (running.async) await running.value;

const [args] = retained((i) => [i]);
let resolver: unknown;
const [promises] = retained((i) => {
  const promise = new Promise((resolve) => resolver = resolve);
  return [promise, resolver, [i]];
});
const [runs, calls] = retained((i) => pool.run(square, [i]));
const [submits, futures] = retained((i) => pool.submit(square, [i]));

Atomics.store(gate, 1, 1);
Atomics.notify(gate, 1);
await held;
const results = await Promise.all(calls as Promise<number>[]);
await Promise.all(futures as PromiseLike<number>[]);
if (results[CALLS - 1] !== (CALLS - 1) ** 2) throw new Error("Wrong result");

const row = (what: string, bytes: number) =>
  console.log(`| ${what} | ${bytes.toFixed(0)} B |`);
console.log(`${CALLS} calls in flight at once, heap kept per call:\n`);
console.log("| what | per call |\n| --- | ---: |");
row("the argument array `[i]` alone", args);
row("a promise, its resolver and `[i]`", promises);
row("`pool.run(square, [i])`", runs);
row("`pool.submit(square, [i])`", submits);
