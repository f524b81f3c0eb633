// Copyright the @seed/concurrency authors. MIT license.
// The raw worker of crash_bench.ts's floor: a number of iterations in, the
// same arithmetic as the pool's task out; a negative number kills the worker
// the way the pool's crashing task does (an error thrown from a timer).
import { burn } from "./_tasks.ts";

const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (event: MessageEvent) => {
  const iterations = event.data as number;
  if (iterations >= 0) return scope.postMessage(burn(iterations));
  setTimeout(() => {
    throw new Error("crash");
  });
};
