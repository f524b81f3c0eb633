// Copyright the @seed/concurrency authors. MIT license.
// The gzip workload of payload_bench.ts and interleaved.ts (see
// payload_bench.ts for what it measures and why): the buffers, their check,
// and the warm runners, raw Workers first.
import { gunzipSync } from "fflate";
import type { Workload } from "./_interleave.ts";
import { RawQueue } from "./_raw_queue.ts";
import { seededRandom, textLike } from "./_seeded.ts";
import { warmRunners } from "./_warm_runners.ts";

export type Tasks = typeof import("./_compress_task.ts");

export const SIZE = 2;
const COUNT = 32;
const BYTES = 1 << 20;
export const TASKS = new URL("./_compress_task.ts", import.meta.url);
export const WARM = "gzip 32 x 1 MB, size 2, warm workers";
export const COLD = "gzip 32 x 1 MB, size 2, cold: start + gzip + close";

const random = seededRandom(0x5eed);
export const buffers = Array.from(
  { length: COUNT },
  () => textLike(BYTES, random),
);

function totalLength(results: readonly Uint8Array[]): number {
  let total = 0;
  for (const result of results) total += result.byteLength;
  return total;
}

// The reference: the raw baseline's output, each buffer checked by
// decompressing it. Every entry below must produce the same total.
const probe = new RawQueue(SIZE);
const reference = await probe.run<Uint8Array, Uint8Array>(buffers);
probe.close();
for (let i = 0; i < COUNT; i++) {
  const back = gunzipSync(reference[i] as Uint8Array);
  const original = buffers[i] as Uint8Array;
  if (
    back.byteLength !== original.byteLength ||
    back[BYTES - 1] !== original[BYTES - 1]
  ) {
    throw new Error(`Buffer ${i} did not survive gzip and gunzip`);
  }
}
const EXPECTED = totalLength(reference);

export function check(results: readonly Uint8Array[]): void {
  if (results.length !== COUNT || totalLength(results) !== EXPECTED) {
    throw new Error(
      `Wrong results: ${results.length} buffers, ${
        totalLength(results)
      } bytes, expected ${COUNT} and ${EXPECTED}`,
    );
  }
}

/** Starts the warm runners, each given one full pass. */
export async function gzipWorkload(): Promise<Workload> {
  const runners = await warmRunners<Tasks>(
    TASKS,
    SIZE,
    async ({ raw, pool, piscina }) => {
      check(await raw.run<Uint8Array, Uint8Array>(buffers));
      check(await pool.map("gzip", buffers));
      check(
        await Promise.all(
          buffers.map((b) =>
            piscina.run(b, { name: "gzip" }) as Promise<Uint8Array>
          ),
        ),
      );
    },
  );
  const { raw, pool, piscina } = runners;
  return {
    group: WARM,
    // fflate's own speed moves by a third from pass to pass (its garbage
    // and its deopts): more rounds than the default for a steady median.
    rounds: 11,
    contenders: [
      {
        name: "raw Workers: each takes the next buffer when free",
        run: async () => check(await raw.run<Uint8Array, Uint8Array>(buffers)),
      },
      {
        name: 'WorkerPool.map("gzip"), default chunks',
        run: async () => check(await pool.map("gzip", buffers)),
      },
      {
        name: 'WorkerPool.map("gzip", { chunkSize: 1 })',
        run: async () =>
          check(await pool.map("gzip", buffers, { chunkSize: 1 })),
      },
      {
        name: 'WorkerPool.run("gzip") per buffer, Promise.all',
        run: async () =>
          check(await Promise.all(buffers.map((b) => pool.run("gzip", [b])))),
      },
      {
        name: "piscina.run per buffer, Promise.all",
        run: async () =>
          check(
            await Promise.all(
              buffers.map((b) =>
                piscina.run(b, { name: "gzip" }) as Promise<Uint8Array>
              ),
            ),
          ),
      },
    ],
    close: runners.close,
  };
}
