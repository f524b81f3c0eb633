// Copyright the @seed/concurrency authors. MIT license.
// A long map with a terminal progress bar: `onProgress` is called each time
// a chunk of items completes, with how many are done out of how many.
//
//   deno run -A examples/more_progress_bar.ts
import { WorkerPool } from "../pool.ts";

/** Counts the primes below n, slowly on purpose: a few ms per item. */
function primesBelow(n: number): number {
  let count = 0;
  for (let k = 2; k < n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

const encoder = new TextEncoder();
const isTerminal = Deno.stdout.isTerminal();

/** Draws `[#####.....]  50/100` in place (a line per 10% when piped). */
function draw(done: number, total: number): void {
  const width = 30;
  const filled = Math.round(width * done / total);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${
    String(done).padStart(String(total).length)
  }/${total}`;
  if (isTerminal) {
    Deno.stdout.writeSync(encoder.encode(`\r${bar}`));
  } else if (done === total || Math.floor(10 * done / total) !== lastTenth) {
    console.log(bar);
  }
  lastTenth = Math.floor(10 * done / total);
}
let lastTenth = -1;

await using pool = new WorkerPool({ size: 2 });
const limits = Array.from({ length: 400 }, (_, i) => 20_000 + 50 * i);
const counts = await pool.map(primesBelow, limits, { onProgress: draw });
if (isTerminal) console.log();
console.log(
  `primes below ${limits.at(-1)}: ${counts.at(-1)} (${counts.length} items)`,
);
if (counts.at(-1) !== primesBelow(limits.at(-1) as number)) {
  throw new Error("wrong count");
}
