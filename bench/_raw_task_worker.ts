// Copyright the @seed/concurrency authors. MIT license.
// A raw worker for the baseline of payload_bench.ts: no framework, one
// message in, one message out: a Uint8Array in, its gzip out (the same task
// module the pools use).
import { gzip } from "./_compress_task.ts";

const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};

scope.onmessage = (event: MessageEvent) => {
  scope.postMessage(gzip(event.data));
};
