// Notebook cell In [1]: a pool of 4 workers squares 0..9.
//
//   with multiprocessing.Pool(processes=4) as pool:
//       results = pool.map(worker_function, range(10))
//   print(results)
//
// The same code runs twice: with worker threads (the pool's default), then
// with worker processes (`isolation: "process"`), the faithful translation of
// `multiprocessing.Pool`: each worker a child `deno` with its own memory. Each
// line says where the work ran, by the pid a task reads from its worker.
import assert from "node:assert/strict";
import { WorkerPool } from "../mod.ts";

const numbers = Array.from({ length: 10 }, (_, i) => i);

for (const isolation of ["thread", "process"] as const) {
  await using pool = new WorkerPool({ size: 4, isolation });
  const results = await pool.map((x: number) => x * x, numbers);
  const pid = await pool.run(() => Deno.pid);

  assert.deepEqual(results, numbers.map((x) => x * x));
  if (isolation === "thread") assert.equal(pid, Deno.pid);
  else assert.notEqual(pid, Deno.pid);
  console.log(
    `[${results.join(", ")}]  ` +
      (isolation === "thread"
        ? `threads: worker threads of this process (pid ${pid})`
        : `processes, as multiprocessing.Pool: a child process (pid ${pid})`),
  );
}
