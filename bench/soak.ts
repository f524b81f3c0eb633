// Copyright the @seed/concurrency authors. MIT license.
/**
 * One long seeded storm against the pool (the storm of pool_storm_test.ts,
 * run for many more calls, then close() after the last one), then every
 * invariant check. Prints the throughput, the crashes the pool survived, how
 * long close took, and each check; exits with code 1 on any violation.
 * `STORM_ISOLATION=process` runs the pool's workers as child processes
 * (`isolation: "process"`) instead of threads.
 *
 * ```sh
 * deno run -A --unstable-worker-options bench/soak.ts [calls=100000] [seed]
 * deno task soak 20000 42
 * STORM_ISOLATION=process deno task soak 2000 42
 * ```
 *
 * A seed that fails here can be replayed at test size with
 * `STORM_SEED=<seed> STORM_CALLS=<calls> deno test -A --unstable-worker-options pool_storm_test.ts`
 * (with `STORM_ISOLATION=process` for a process soak).
 *
 * @module
 */
import { runStorm } from "../_test_storm.ts";

const calls = Number(Deno.args[0] ?? 100_000);
const seed = Number(Deno.args[1] ?? Math.floor(Date.now() % 1_000_000));
const isolation = Deno.env.get("STORM_ISOLATION") ?? "thread";
if (
  !Number.isInteger(calls) || calls < 1 || !Number.isInteger(seed) ||
  (isolation !== "thread" && isolation !== "process")
) {
  console.error(
    "Usage: [STORM_ISOLATION=thread|process] deno run -A --unstable-worker-options bench/soak.ts [calls=100000] [seed]",
  );
  Deno.exit(2);
}

console.log(`soak: ${calls} calls, seed ${seed}, ${isolation} workers`);
const report = await runStorm({
  seed,
  isolation,
  calls,
  endLast: true,
  end: "close",
  // A safety net against hangs: a minute without any call settling.
  watchdogMs: 60_000,
});

/** Each check, and the violations that belong to it. */
const checks: [string, (violation: string) => boolean][] = [
  ["nothing hung (the watchdog did not fire)", (v) => v.startsWith("Hang:")],
  ["no task ran twice", (v) => / ran \d+ times$/.test(v)],
  [
    "every call settled once with an allowed outcome",
    (v) => v.startsWith("call #"),
  ],
  [
    "close() resolved, with no abandoned worker left",
    (v) =>
      /^(close|terminate|closeSignal|closeThenTerminate)\b/.test(v) ||
      / abandoned workers /.test(v),
  ],
  [
    "no child process left (process workers)",
    (v) => / child processes left /.test(v),
  ],
  [
    "stats at rest add up, with no worker left",
    (v) =>
      v.startsWith("stats at rest") || / workers after /.test(v) ||
      v.startsWith("the pool is "),
  ],
];

const seconds = report.elapsedMs / 1000;
console.log(`pool options: ${JSON.stringify(report.options)}`);
console.log(`tasks: ${report.tasks} in ${report.calls} calls`);
console.log(`outcomes: ${JSON.stringify(report.outcomes)}`);
console.log(`calls/s: ${Math.round(report.calls / seconds)}`);
console.log(`tasks/s: ${Math.round(report.tasks / seconds)}`);
console.log(`crashes survived: ${report.crashedWorkers}`);
console.log(
  `time to close: ${
    report.closeMs < 0 ? "did not close" : `${report.closeMs.toFixed(1)} ms`
  }`,
);
console.log("checks:");
const claimed = new Set<string>();
for (const [name, owns] of checks) {
  const mine = report.violations.filter(owns);
  for (const violation of mine) claimed.add(violation);
  console.log(`  ${mine.length === 0 ? "ok  " : "FAIL"} ${name}`);
  for (const violation of mine.slice(0, 20)) console.log(`       ${violation}`);
  if (mine.length > 20) console.log(`       ... and ${mine.length - 20} more`);
}
const others = report.violations.filter((v) => !claimed.has(v));
for (const violation of others) console.log(`  FAIL ${violation}`);
console.log(
  report.violations.length === 0
    ? "all invariants hold"
    : `${report.violations.length} violations (seed ${seed})`,
);
Deno.exit(report.violations.length === 0 ? 0 : 1);
