// Notebook cell In [2]: the same pool map, with the task in a module of its
// own, as a larger program would have it: the task name and argument types are
// checked by TypeScript against the module.
//
// As in cell 1, it runs with worker threads and then with worker processes
// (`isolation: "process"`, the faithful translation of `multiprocessing`):
// each child process loads the task module itself, as Python's `spawn`
// start method re-imports the main module in each worker.
import assert from "node:assert/strict";
import { WorkerPool } from "../mod.ts";

const numbers = Array.from({ length: 10 }, (_, i) => i);

for (const isolation of ["thread", "process"] as const) {
  await using pool = new WorkerPool<typeof import("./tasks.ts")>(
    new URL("./tasks.ts", import.meta.url),
    { size: 4, isolation },
  );
  const results = await pool.map("square", numbers);
  const pid = await pool.run("pid");

  assert.deepEqual(results, numbers.map((x) => x * x));
  if (isolation === "thread") assert.equal(pid, Deno.pid);
  else assert.notEqual(pid, Deno.pid);
  console.log(
    `[${results.join(", ")}]  ` +
      (isolation === "thread"
        ? `threads: worker threads of this process (pid ${pid})`
        : `processes: a child process (pid ${pid}) loaded tasks.ts`),
  );
}
