// Copyright the @seed/concurrency authors. MIT license.
// A task module whose top-level await never settles: a worker that imports it
// never finishes loading. The interval keeps the worker's event loop alive, so
// the runtime cannot end the wait by itself.
setInterval(() => {}, 60_000);
await new Promise<never>(() => {});

export function never(): number {
  return 0;
}
