// Copyright the @seed/concurrency authors. MIT license.
// Run WITHOUT --unstable-worker-options by pool_regression_test.ts: a
// sandboxed pool must refuse at construction, naming the flag, and the
// process must go on (not exit with code 70).
import { WorkerPool } from "../pool.ts";

try {
  const pool = new WorkerPool({ size: 1, permissions: "none" });
  let outcome: string;
  try {
    outcome = `resolved with ${await pool.run(() => 1)}`;
  } catch (error) {
    outcome = `rejected with ${error}`;
  }
  console.log(`constructor returned; the first call ${outcome}`);
  await pool.terminate();
} catch (error) {
  console.log(
    `constructor threw: ${error instanceof Error ? error.message : error}`,
  );
}
console.log("the process goes on");
