// Notebook cell In [10], the process part: an exception raised in a worker is
// caught in the parent. Python needs a Queue to carry it; here the task's
// rejection carries it, with its class, message, worker stack, `cause` and
// fields.
//
//   def process_function(queue):
//       try:
//           raise ValueError("An error occurred")
//       except Exception as e:
//           queue.put(e)
//   ...
//   print(f"Exception in process: {exception}")
//
// The pool part runs twice: with worker threads, then with worker processes
// (`isolation: "process"`), the faithful translation of the notebook's
// `multiprocessing.Process`. The error crosses the same way in both.
import assert from "node:assert/strict";
import { WorkerCrashedError, WorkerPool } from "../mod.ts";
import { registerErrorClass } from "../errors/mod.ts";
import { ValueError } from "./tasks.ts";

// The thread part: an async task's exception reaches whoever awaits it.
async function threadFunction(): Promise<void> {
  await Promise.resolve();
  throw new Error("An error occurred");
}
try {
  await threadFunction();
  assert.fail("threadFunction() should have thrown");
} catch (error) {
  assert.equal((error as Error).message, "An error occurred");
  console.log(`Exception in thread: ${(error as Error).message}`);
}

// Registered here, errors named ValueError arrive as instances of this class.
registerErrorClass(ValueError);
const here = new URL(".", import.meta.url).href;

for (const isolation of ["thread", "process"] as const) {
  const where = isolation === "thread" ? "worker thread" : "process";
  await using pool = new WorkerPool<typeof import("./tasks.ts")>(
    new URL("./tasks.ts", import.meta.url),
    { size: 1, isolation },
  );

  const error = await pool.run("failing").then(
    () => assert.fail("failing() should have thrown"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ValueError);
  assert.equal(error.message, "An error occurred");
  assert.equal(error.value, -1);
  assert.ok(error.cause instanceof RangeError);
  assert.match(error.stack ?? "", /at Object\.failing \(.*tasks\.ts:\d+:\d+\)/);
  const at = error.stack?.split("\n")[1]?.trim().replace(/^at /, "")
    .replace(here, "");
  console.log(`Exception in ${where}: ${error.message}`);
  console.log(
    `  (a ${error.name} thrown at ${at}, value ${error.value}, ` +
      `cause: ${error.cause})`,
  );

  // A worker that dies outside any task fails only the task it was running,
  // and the pool replaces it: Python's pool would be broken for good.
  const crash = await pool.run(() => {
    setTimeout(() => {
      throw new Error("a crash outside any task");
    });
    return new Promise(() => {});
  }).then(
    () => assert.fail("the crashing task should have failed"),
    (error: unknown) => error,
  );
  assert.ok(crash instanceof WorkerCrashedError);
  assert.equal((crash.cause as Error).message, "a crash outside any task");
  const square = await pool.run("square", [12]);
  assert.equal(square, 144);
  console.log(
    `  Worker ${isolation} crashed (${(crash.cause as Error).message}), ` +
      `the pool replaced it: square(12) = ${square}`,
  );
}
