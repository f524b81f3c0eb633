// Copyright the @seed/concurrency authors. MIT license.
// The ratio targets of the scheduling issue, measured in interleaved rounds
// (bench/_interleave.ts says why): the heavy tail and gzip groups against raw
// Workers that each take the next item when free, and the 2% crash rate
// beside raw Workers that replace their dead. A `deno run` script:
//
//   deno run -A bench/interleaved.ts                 (about 4 minutes)
//   deno run -A bench/interleaved.ts crash           (groups whose name has "crash")
//   deno run -A bench/interleaved.ts --rounds=11 --json
//
// Each group prints a table of median rounds with ratios to its first row;
// bench/report.ts runs this file and prints its tables after the others.
import {
  formatInterleaved,
  interleave,
  type InterleavedRow,
  type Workload,
} from "./_interleave.ts";

/** One group's rows. */
export interface InterleavedGroup {
  /** The workload's group name. */
  group: string;
  /** Its contenders' rounds, the baseline first. */
  rows: InterleavedRow[];
}

// Imported when their turn comes: a workload module calibrates its work or
// builds its input when it loads, which must not run while another
// workload's load is still slowing the machine.
const WORKLOADS: [key: string, start: () => Promise<Workload>][] = [
  [
    "heavy tail",
    async () => (await import("./_tail_workload.ts")).tailWorkload(),
  ],
  ["gzip", async () => (await import("./_gzip_workload.ts")).gzipWorkload()],
  [
    "2% crash",
    async () => (await import("./_crash_workload.ts")).crashWorkload(),
  ],
];

/**
 * Runs every workload whose key contains `filter`, one after another, each
 * closed before the next starts.
 */
export async function measureInterleaved(
  filter = "",
  rounds?: number,
): Promise<InterleavedGroup[]> {
  const groups: InterleavedGroup[] = [];
  for (const [key, start] of WORKLOADS) {
    if (!key.includes(filter)) continue;
    const workload = await start();
    try {
      const rows = await interleave(
        workload,
        rounds === undefined ? {} : { rounds },
      );
      groups.push({ group: workload.group, rows });
    } finally {
      await workload.close();
    }
  }
  return groups;
}

if (import.meta.main) {
  const flags = Deno.args.filter((arg) => arg.startsWith("--"));
  const filter = Deno.args.find((arg) => !arg.startsWith("--")) ?? "";
  const roundsFlag = flags.find((flag) => flag.startsWith("--rounds="));
  const rounds = roundsFlag === undefined
    ? undefined
    : Number(roundsFlag.slice("--rounds=".length));
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw new RangeError(
      `Cannot measure as '--rounds' must be a positive integer: received ${roundsFlag}`,
    );
  }
  const groups = await measureInterleaved(filter, rounds);
  if (flags.includes("--json")) console.log(JSON.stringify(groups));
  else {
    for (const { group, rows } of groups) {
      console.log(formatInterleaved(group, rows) + "\n");
    }
  }
}
