// Copyright the @seed/concurrency authors. MIT license.
// The task module of payload_bench.ts: one real library call per item. The
// pools, piscina and the raw workers all load this same module.
import { gzipSync } from "fflate";

/**
 * Gzips `buf` with fflate at its default level (6) and returns the
 * compressed bytes. `mtime: 0` makes the output depend on the input only, so
 * that every runner's results can be checked against each other.
 */
export function gzip(buf: Uint8Array): Uint8Array {
  return gzipSync(buf, { mtime: 0 });
}
