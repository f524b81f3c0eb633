// Copyright the @seed/concurrency authors. MIT license.
// Seeded storms against the pool's public API: random mixes of run, submit,
// map, imap and imapUnordered with aborts, timeouts, cancelled futures, every
// crash kind, hostile tasks, backpressure, recycling, idle timeouts, early
// breaks out of imap, and close() or terminate() at a random moment, across
// pool sizes 1 to 4, with worker threads and with worker processes
// (`isolation: "process"`). After each storm every invariant is checked (see
// _test_storm.ts). Each storm runs in a process of its own, so that its
// thread count, its child processes and the Web Locks its hostile tasks take
// are its own.
//
// Reproduce a seed: STORM_SEED=<seed> deno test -A --unstable-worker-options pool_storm_test.ts
// With process workers: STORM_ISOLATION=process STORM_SEED=<seed> ...
// More calls: STORM_CALLS=2000 (or `deno task soak` for one long storm).
import { type Isolation, runStorm } from "./_test_storm.ts";
import { isolatedTest } from "./testdata/storm_harness.ts";

/** One isolation's storms. */
interface Storms {
  isolation: Isolation;
  seeds: number[];
  calls: number;
}

// Threads: chosen to cover pool sizes 1 to 4, every way to end (close,
// terminate, close({ signal }), close then terminate), maxQueue from 1,
// recycling from 4 tasks, idle timeouts from 1 ms, and neither maxQueue nor
// recycling (seeds 12 and 67).
const THREADS: Storms = {
  isolation: "thread",
  seeds: [12, 13, 20, 29, 67],
  calls: 300,
};
// Processes: fewer calls, as a process worker takes ~100 ms to start and
// every crash, recycling and idle timeout starts one. Chosen to cover pool
// sizes 1, 2 and 4, close(), terminate() and close({ signal }), maxQueue
// from 1, recycling from 9 tasks, idle timeouts from 6 ms, and a warm pool
// (seed 4, minSize 4).
const PROCESSES: Storms = {
  isolation: "process",
  seeds: [4, 27, 29],
  calls: 150,
};

/**
 * The storms to run: both isolations' by default; `STORM_ISOLATION` picks
 * one; `STORM_SEED` (with threads unless `STORM_ISOLATION` says otherwise)
 * and `STORM_CALLS` replace its seeds and its number of calls.
 */
function stormsToRun(): Storms[] {
  const isolation = Deno.env.get("STORM_ISOLATION");
  if (
    isolation !== undefined && isolation !== "thread" &&
    isolation !== "process"
  ) {
    throw new TypeError(
      `Cannot run the storms as STORM_ISOLATION must be "thread" or "process": received "${isolation}"`,
    );
  }
  const seeds = Deno.env.get("STORM_SEED")?.split(",").map(Number);
  const calls = Deno.env.get("STORM_CALLS");
  let storms = isolation === "process"
    ? [PROCESSES]
    : isolation === "thread" || seeds !== undefined
    ? [THREADS]
    : [THREADS, PROCESSES];
  if (seeds !== undefined) storms = storms.map((s) => ({ ...s, seeds }));
  if (calls !== undefined) {
    storms = storms.map((s) => ({ ...s, calls: Number(calls) }));
  }
  return storms;
}

for (const { isolation, seeds, calls } of stormsToRun()) {
  const what = isolation === "thread"
    ? `a storm of ${calls} calls`
    : `a storm of ${calls} calls on process workers`;
  const left = isolation === "thread" ? "no thread" : "no child process";
  const reproduce = `${
    isolation === "thread" ? "" : "STORM_ISOLATION=process "
  }STORM_SEED=<seed> STORM_CALLS=${calls} deno test -A --unstable-worker-options pool_storm_test.ts`;
  for (const seed of seeds) {
    isolatedTest(
      import.meta.url,
      `${what} (seed ${seed}) settles every call once with an allowed outcome, runs no task twice, and ends with consistent stats and ${left} left`,
      async () => {
        const report = await runStorm({ seed, calls, isolation });
        const { violations, ...summary } = report;
        console.log(`storm seed ${seed}: ${JSON.stringify(summary)}`);
        if (violations.length > 0) {
          throw new Error(
            `The storm of seed ${seed} broke ${violations.length} invariants (reproduce: ${
              reproduce.replace("<seed>", `${seed}`)
            }):\n- ${violations.slice(0, 40).join("\n- ")}`,
          );
        }
      },
    );
  }
}
