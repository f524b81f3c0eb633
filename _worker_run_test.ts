// Copyright the @seed/concurrency authors. MIT license.
// The worker's Runner in this thread, with a recording `send`: when the
// results it holds go. The pool tests and the storms run it in real workers.
import assert from "node:assert/strict";
import { ControlBlock } from "./_control.ts";
import {
  FN_NAME,
  FN_SOURCE,
  MODE_CALL,
  OK,
  RESULT_FIELDS,
  RESULTS,
  TASKS,
} from "./_protocol.ts";
import { FnRegistry } from "./_worker_fns.ts";
import { Runner } from "./_worker_run.ts";

/** A runner whose messages are recorded, with `module` as its task module. */
function runner(module: Record<string, unknown>) {
  const control = new ControlBlock();
  const sent: unknown[][] = [];
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const fns = new FnRegistry();
  fns.setModule(module, "test:module");
  const runner = new Runner(control, (message) => {
    if (!Array.isArray(message)) return;
    sent.push(message);
    count += (message.length - 1) / RESULT_FIELDS;
    for (const waiter of waiters) if (count >= waiter.n) waiter.resolve();
  }, fns);
  let seq = 0;
  /** Sends tasks as the pool would: each (fnId, argument) one task. */
  const deliver = (defs: unknown[], calls: [number, unknown][]) => {
    // As the bootstrap does (`_worker.ts`), before the runner takes them.
    fns.defineAll(defs);
    const message: unknown[] = [TASKS, defs];
    for (const [fnId, argument] of calls) {
      control.send(seq++);
      message.push(seq, fnId, [argument], MODE_CALL);
    }
    runner.receive(message);
  };
  /** The results in the messages sent, in order, as [seq, value]. */
  const results = () =>
    sent.flatMap((message) => {
      assert.equal(message[0], RESULTS);
      const out: [number, unknown][] = [];
      for (let i = 1; i < message.length; i += RESULT_FIELDS) {
        assert.equal(message[i + 1], OK);
        out.push([message[i] as number, message[i + 2]]);
      }
      return out;
    });
  /** Resolves once `n` results have been sent. */
  const sentResults = (n: number) =>
    new Promise<void>((resolve) => {
      if (count >= n) resolve();
      else waiters.push({ n, resolve });
    });
  return { sent, deliver, results, sentResults };
}

/**
 * A turn of the event loop: what a task that awaits lets run meanwhile (to
 * see that nothing more was sent, which no signal can tell).
 */
function aTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("results of a function known to be quick travel many to a message", () => {
  const { sent, deliver, results } = runner({});
  const calls: [number, unknown][] = [];
  for (let i = 0; i < 100; i++) calls.push([1, i]);
  // Synchronous tasks run, and their results go, within the delivery.
  deliver([1, FN_SOURCE, "(x) => 'v' + x"], calls);
  assert.deepEqual(
    results(),
    calls.map((_, i) => [i, `v${i}`]),
    "every result, once, in order",
  );
  // One message each would be 100; a message goes at least every
  // millisecond of results, and before the first run made it known quick.
  assert.ok(sent.length < 50, `${sent.length} messages for 100 results`);
});

Deno.test("results waiting go before a task of a function not known to be quick", () => {
  let seenBefore: number | undefined;
  const { sent, deliver, results } = runner({
    probe: () => {
      seenBefore = sent.length;
      return "probed";
    },
  });
  const calls: [number, unknown][] = [];
  for (let i = 0; i < 20; i++) calls.push([1, i]);
  calls.push([2, 0]);
  deliver([1, FN_SOURCE, "(x) => 'v' + x", 2, FN_NAME, "probe"], calls);
  assert.equal(results().length, 21);
  // Everything before the probe was sent before it started.
  const before = sent.slice(0, seenBefore);
  assert.equal(
    before.reduce((n, m) => n + (m.length - 1) / RESULT_FIELDS, 0),
    20,
  );
});

Deno.test("results of an async function known to be quick travel many to a message too", async () => {
  const { sent, deliver, results, sentResults } = runner({});
  const calls: [number, unknown][] = [];
  for (let i = 0; i < 100; i++) calls.push([1, i]);
  deliver([1, FN_SOURCE, "async (x) => 'v' + x"], calls);
  // Each task awaits: the loop goes on in microtasks, and what waits goes
  // within a millisecond.
  await sentResults(100);
  assert.deepEqual(results(), calls.map((_, i) => [i, `v${i}`]));
  assert.ok(sent.length < 50, `${sent.length} messages for 100 results`);
});

Deno.test("results waiting go before a task awaits that is not known to be quick", async () => {
  let seenBefore: number | undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const { sent, deliver, results, sentResults } = runner({
    slow: async () => {
      seenBefore = sent.length;
      await released;
      return "slow";
    },
  });
  const calls: [number, unknown][] = [];
  for (let i = 0; i < 20; i++) calls.push([1, i]);
  calls.push([2, 0]);
  deliver([1, FN_SOURCE, "(x) => 'v' + x", 2, FN_NAME, "slow"], calls);
  await aTurn();
  // The slow task still awaits: all 20 results were sent before it began.
  assert.equal(seenBefore, sent.length);
  assert.equal(results().length, 20);
  release();
  await sentResults(21);
});
