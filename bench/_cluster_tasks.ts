// Copyright the @seed/concurrency authors. MIT license.
// The task module of cluster_bench.ts, for the local pool and the cluster alike.

export function square(x: number): number {
  return x * x;
}
