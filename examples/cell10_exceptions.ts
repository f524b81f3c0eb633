// Notebook cell In [10], the process part: an exception raised in a worker is
// caught in the parent. Python needs a Queue to carry it; here the task's
// rejection carries it, with its class, message, worker stack and fields.
//
//   def process_function(queue):
//       try:
//           raise ValueError("An error occurred")
//       except Exception as e:
//           queue.put(e)
//   ...
//   print(f"Exception in process: {exception}")
import { WorkerCrashedError, WorkerPool } from "../mod.ts";

// The thread part: an async task's exception reaches whoever awaits it.
async function threadFunction(): Promise<void> {
  await Promise.resolve();
  throw new Error("An error occurred");
}
try {
  await threadFunction();
} catch (error) {
  console.log(`Exception in thread: ${(error as Error).message}`);
}

await using pool = new WorkerPool<typeof import("./tasks.ts")>(
  new URL("./tasks.ts", import.meta.url),
  { size: 1 },
);

try {
  await pool.run("failing");
} catch (error) {
  const e = error as Error;
  console.log(`Exception in process: ${e.message}`);
  const where = e.stack?.split("\n")[1]?.trim().replace(/^at /, "");
  console.log(`  (a ${e.name} thrown in the worker at ${where})`);
}

// A worker that dies outside any task fails only the task it was running, and
// the pool replaces it: Python's pool would be broken for good.
try {
  await pool.run(() => {
    setTimeout(() => {
      throw new Error("a crash outside any task");
    });
    return new Promise(() => {});
  });
} catch (error) {
  if (!(error instanceof WorkerCrashedError)) throw error;
  console.log(
    `Worker crashed: ${(error.cause as Error).message}; the pool goes on:`,
  );
}
console.log(`square(12) = ${await pool.run("square", [12])}`);
