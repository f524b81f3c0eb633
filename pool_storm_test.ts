// Copyright the @seed/concurrency authors. MIT license.
// Seeded storms against the pool's public API: random mixes of run, submit,
// map, imap and imapUnordered with aborts, timeouts, cancelled futures, every
// crash kind, hostile tasks, backpressure, recycling, idle timeouts, early
// breaks out of imap, and close() or terminate() at a random moment, across
// pool sizes 1 to 4. After each storm every invariant is checked (see
// _test_storm.ts). Each storm runs in a process of its own, so that its
// thread count and the Web Locks its hostile tasks take are its own.
//
// Reproduce a seed: STORM_SEED=<seed> deno test -A --unstable-worker-options pool_storm_test.ts
// More calls: STORM_CALLS=2000 (or `deno task soak` for one long storm).
import { runStorm } from "./_test_storm.ts";
import { isolatedTest } from "./testdata/storm_harness.ts";

// Chosen to cover pool sizes 1 to 4, every way to end (close, terminate,
// close({ signal }), close then terminate), maxQueue from 1, recycling from
// 4 tasks, idle timeouts from 1 ms, and neither maxQueue nor recycling
// (seeds 12 and 67).
const fromEnv = Deno.env.get("STORM_SEED");
const SEEDS = fromEnv === undefined
  ? [12, 13, 20, 29, 67]
  : fromEnv.split(",").map(Number);
const CALLS = Number(Deno.env.get("STORM_CALLS") ?? 300);

for (const seed of SEEDS) {
  isolatedTest(
    import.meta.url,
    `a storm of ${CALLS} calls (seed ${seed}) settles every call once with an allowed outcome, runs no task twice, and ends with consistent stats and no thread left`,
    async () => {
      const report = await runStorm({ seed, calls: CALLS });
      const { violations, ...summary } = report;
      console.log(`storm seed ${seed}: ${JSON.stringify(summary)}`);
      if (violations.length > 0) {
        throw new Error(
          `The storm of seed ${seed} broke ${violations.length} invariants (reproduce: STORM_SEED=${seed} deno test -A --unstable-worker-options pool_storm_test.ts):\n- ${
            violations.slice(0, 40).join("\n- ")
          }`,
        );
      }
    },
  );
}
