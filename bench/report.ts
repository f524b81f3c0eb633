// Copyright the @seed/concurrency authors. MIT license.
// Runs every bench file with --json and prints one markdown table of all
// groups, each entry as a ratio to its group's baseline, for bench/README.md.
//
//   deno run -A bench/report.ts            (about 8 minutes on 2 cores)
//   deno run -A bench/report.ts lock       (only files whose name has "lock")
//
// deno bench reports the mean and p75 of each entry (no median); the ratio
// uses the mean. latency_bench.ts runs pinned to one core with taskset. After
// the bench table comes a second one of round-trip percentiles (p50, p75,
// p99) from latency_percentiles.ts, also pinned, when the filter matches it,
// and the interleaved ratio targets of interleaved.ts (heavy tail, gzip, 2%
// crash rate), when the filter matches "interleaved.ts".
import { formatInterleaved } from "./_interleave.ts";
import type { InterleavedGroup } from "./interleaved.ts";
import { formatLatencyTable, type LatencyRow } from "./latency_percentiles.ts";

interface BenchResult {
  origin: string;
  group: string | null;
  name: string;
  baseline: boolean;
  results: { ok?: { n: number; avg: number; p75: number; min: number } }[];
}

const dir = new URL(".", import.meta.url);
const filter = Deno.args[0] ?? "";
const files = [...Deno.readDirSync(dir)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith("_bench.ts") && name.includes(filter))
  .sort();

const all: BenchResult[] = [];
let cpu = "";
for (const file of files) {
  const path = new URL(file, dir).pathname;
  const pinned = file === "latency_bench.ts";
  const args = ["bench", "-A", "--unstable-worker-options", "--json", path];
  const command = pinned
    ? new Deno.Command("taskset", {
      args: ["-c", "0", Deno.execPath(), ...args],
      stdout: "piped",
    })
    : new Deno.Command(Deno.execPath(), { args, stdout: "piped" });
  console.error(`running ${file}${pinned ? " (pinned to core 0)" : ""}`);
  const { code, stdout } = await command.output();
  if (code !== 0) throw new Error(`${file} failed with exit code ${code}`);
  const report = JSON.parse(new TextDecoder().decode(stdout));
  cpu = report.cpu;
  all.push(...report.benches);
}

function time(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const lines: string[] = [];
lines.push(
  `Machine: ${
    cpu === "" ? "" : `${cpu}, `
  }${navigator.hardwareConcurrency} cores, ${Deno.version.deno}; ${
    new Date().toISOString().slice(0, 10)
  }.`,
);
if (all.length > 0) {
  lines.push("");
  lines.push("| group | entry | mean | p75 | vs baseline |");
  lines.push("| --- | --- | ---: | ---: | ---: |");
}
const groups = new Map<string, BenchResult[]>();
for (const bench of all) {
  const key = `${bench.origin.split("/").pop()} ${bench.group ?? bench.name}`;
  groups.set(key, [...(groups.get(key) ?? []), bench]);
}
for (const [key, benches] of groups) {
  const base = benches.find((b) => b.baseline)?.results[0]?.ok?.avg;
  for (const bench of benches) {
    const ok = bench.results[0]?.ok;
    if (ok === undefined) continue;
    let ratio = "";
    if (bench.baseline) ratio = "baseline";
    else if (base !== undefined) {
      ratio = ok.avg <= base
        ? `${(base / ok.avg).toFixed(2)}x faster`
        : `${(ok.avg / base).toFixed(2)}x slower`;
    }
    lines.push(
      `| ${key.split(" ").slice(1).join(" ")} | ${bench.name} | ${
        time(ok.avg)
      } | ${time(ok.p75)} | ${ratio} |`,
    );
  }
}

if ("latency_percentiles.ts".includes(filter)) {
  const path = new URL("latency_percentiles.ts", dir).pathname;
  console.error("running latency_percentiles.ts (pinned to core 0)");
  const { code, stdout } = await new Deno.Command("taskset", {
    args: ["-c", "0", Deno.execPath(), "run", "-A", path, "--json"],
    stdout: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`latency_percentiles.ts failed with exit code ${code}`);
  }
  const rows: LatencyRow[] = JSON.parse(new TextDecoder().decode(stdout));
  lines.push("", formatLatencyTable(rows));
}
if ("interleaved.ts".includes(filter)) {
  const path = new URL("interleaved.ts", dir).pathname;
  console.error("running interleaved.ts");
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, "--json"],
    stdout: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`interleaved.ts failed with exit code ${code}`);
  }
  const groups: InterleavedGroup[] = JSON.parse(
    new TextDecoder().decode(stdout),
  );
  for (const { group, rows } of groups) {
    lines.push("", formatInterleaved(group, rows));
  }
}
console.log(lines.join("\n"));
