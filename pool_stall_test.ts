// Copyright the @seed/concurrency authors. MIT license.
// The pool says so when every worker waits on a channel for tasks that
// cannot start.
import assert from "node:assert/strict";
import { WorkerPool } from "./pool.ts";
import { WorkerChannel } from "./channels/worker_channel.ts";
import { ChannelClosedError } from "./errors/channel_closed_error.ts";

Deno.test("a pool too small for a producer and its consumer warns once, naming its size", async () => {
  const warned = Promise.withResolvers<string>();
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.join(" "));
    warned.resolve(args.join(" "));
  };
  try {
    await using pool = new WorkerPool({ size: 1, name: "stall test" });
    const channel = new WorkerChannel<number>(1);
    const producer = pool.run(async (channel: WorkerChannel<number>) => {
      for (let i = 0; i < 3; i++) await channel.send(i); // waits at 1
    }, [channel]);
    const consumer = pool.run(async (channel: WorkerChannel<number>) => {
      const received: number[] = [];
      for await (const value of channel) received.push(value);
      return received;
    }, [channel]);
    const warning = await warned.promise;
    assert.match(warning, /^stall test: every worker \(size 1\)/);
    assert.match(warning, /1 task\(s\) wait for a worker/);
    channel.close();
    await assert.rejects(producer, ChannelClosedError);
    assert.deepEqual(await consumer, [0]);
    assert.equal(warnings.length, 1, "told once");
  } finally {
    console.warn = original;
  }
});
