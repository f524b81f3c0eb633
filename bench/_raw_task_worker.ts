// Copyright the @seed/concurrency authors. MIT license.
// A raw worker for the baselines of payload_bench.ts and tail_bench.ts: no
// framework, one message in, one message out, dispatched on the item's type.
// - a Uint8Array: replies with its gzip (the same task module the pools use);
// - a number: runs `burn(number)` (fixed arithmetic) and replies with it.
import { gzip } from "./_compress_task.ts";
import { burn } from "./_tasks.ts";

const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (event: MessageEvent) => {
  const data = event.data;
  scope.postMessage(data instanceof Uint8Array ? gzip(data) : burn(data));
};
