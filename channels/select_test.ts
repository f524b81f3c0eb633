// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Channel } from "./channel.ts";
import { select } from "./select.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";
import { drainMicrotasks, stateOf, trackedSignal } from "./_test_helpers.ts";

const EMPTY = { ok: false, closed: false } as const;

// Ready cases

Deno.test("select() completes a ready receive case and leaves the other channels untouched", async () => {
  const a = new Channel<number>(1);
  const b = new Channel<string>(1);
  await a.send(1);
  const result = await select({ a: { receive: a }, b: { receive: b } });
  assert.deepEqual(result, { case: "a", ok: true, value: 1 });
  assert.equal(b.trySend("x"), true); // b's buffer still has its room
});

Deno.test("select() completes a ready send case and delivers nothing through the others", async () => {
  const a = new Channel<number>(1);
  const b = new Channel<number>();
  const result = await select({
    a: { send: a, value: 1 },
    b: { send: b, value: 2 },
  });
  assert.deepEqual(result, { case: "a" });
  assert.deepEqual(a.tryReceive(), { ok: true, value: 1 });
  assert.deepEqual(b.tryReceive(), EMPTY);
});

Deno.test("select() completes exactly one case when several are ready", async () => {
  for (let i = 0; i < 20; i++) {
    const a = new Channel<number>(1);
    const b = new Channel<number>(1);
    const out = new Channel<number>(1);
    await a.send(1);
    await b.send(2);
    const result = await select({
      a: { receive: a },
      b: { receive: b },
      out: { send: out, value: 3 },
    });
    const remaining = a.size + b.size + out.size;
    // Exactly one of: a emptied, b emptied, out filled.
    assert.equal(remaining, result.case === "out" ? 3 : 1);
  }
});

Deno.test("select() picks among ready cases at random, so every ready case gets picked", async () => {
  const picked = new Set<string>();
  for (let i = 0; i < 200 && picked.size < 3; i++) {
    const channels = [0, 1, 2].map(() => new Channel<number>(1));
    for (const channel of channels) channel.trySend(i);
    const result = await select({
      first: { receive: channels[0]! },
      second: { receive: channels[1]! },
      third: { receive: channels[2]! },
    });
    picked.add(result.case);
  }
  // Each run misses a given case with probability 2/3: 200 runs miss one
  // with probability below 1e-34.
  assert.deepEqual([...picked].sort(), ["first", "second", "third"]);
});

Deno.test("select() takes a value from a waiting sender of a rendezvous channel", async () => {
  const channel = new Channel<number>();
  const sending = channel.send(5);
  assert.deepEqual(await select({ value: { receive: channel } }), {
    case: "value",
    ok: true,
    value: 5,
  });
  await sending;
});

// Waiting

Deno.test("select() waits, then completes the first case a channel serves; the losers take nothing", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>();
  const selecting = select({ a: { receive: a }, b: { receive: b } });
  assert.equal(await stateOf(selecting), "pending");
  assert.equal(b.trySend(2), true);
  assert.deepEqual(await selecting, { case: "b", ok: true, value: 2 });
  assert.equal(a.trySend(1), false); // the losing receive left a's queue
});

Deno.test("select() waiting send cases: the winner's value is taken, the loser's is never delivered", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>();
  const selecting = select({
    a: { send: a, value: 1 },
    b: { send: b, value: 2 },
  });
  assert.equal(await stateOf(selecting), "pending");
  assert.equal(await a.receive(), 1);
  assert.deepEqual(await selecting, { case: "a" });
  assert.deepEqual(b.tryReceive(), EMPTY);
});

Deno.test("select() waiting send case on a full buffer enters the buffer when a slot frees", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  const other = new Channel<number>();
  const selecting = select({
    full: { send: channel, value: 2 },
    other: { receive: other },
  });
  assert.equal(await channel.receive(), 1);
  assert.deepEqual(await selecting, { case: "full" });
  assert.equal(channel.size, 1);
  assert.equal(await channel.receive(), 2);
  assert.equal(other.trySend(0), false);
});

Deno.test("select() waiting cases keep their FIFO place among plain calls", async () => {
  const channel = new Channel<number>();
  const first = channel.receive();
  const selecting = select({ value: { receive: channel } });
  const last = channel.receive();
  for (const value of [1, 2, 3]) await channel.send(value);
  assert.equal(await first, 1);
  assert.deepEqual(await selecting, { case: "value", ok: true, value: 2 });
  assert.equal(await last, 3);
});

Deno.test("select() with a send and a receive case on one channel never matches itself", async () => {
  const channel = new Channel<number>();
  const selecting = select({
    out: { send: channel, value: 1 },
    in: { receive: channel },
  });
  assert.equal(await stateOf(selecting), "pending");
  assert.equal(await channel.receive(), 1);
  assert.deepEqual(await selecting, { case: "out" });
  assert.equal(channel.trySend(2), false); // the receive case left the queue
});

Deno.test("Two waiting selects on one channel can match each other", async () => {
  const channel = new Channel<number>();
  const idle = new Channel<number>();
  const sender = select({
    send: { send: channel, value: 7 },
    idle: { receive: idle },
  });
  const receiver = select({ receive: { receive: channel } });
  assert.deepEqual(await sender, { case: "send" });
  assert.deepEqual(await receiver, { case: "receive", ok: true, value: 7 });
});

// Default case

Deno.test("select() with default resolves to the default case at once and touches no channel", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>(1);
  await b.send(0);
  const result = await select({
    a: { receive: a },
    b: { send: b, value: 1 },
  }, { default: true });
  assert.deepEqual(result, { case: "default" });
  assert.equal(a.trySend(1), false); // no receive case left waiting on a
  assert.deepEqual(b.tryReceive(), { ok: true, value: 0 });
  assert.deepEqual(b.tryReceive(), EMPTY);
});

Deno.test("select() with default still completes a ready case", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  assert.deepEqual(
    await select({ value: { receive: channel } }, { default: true }),
    { case: "value", ok: true, value: 1 },
  );
});

Deno.test("select() with default and no case resolves to the default case", async () => {
  assert.deepEqual(await select({}, { default: true }), { case: "default" });
});

Deno.test("select() with default: false waits like select() without it", async () => {
  const channel = new Channel<number>();
  const selecting = select({ value: { receive: channel } }, { default: false });
  assert.equal(await stateOf(selecting), "pending");
  channel.close();
  assert.deepEqual(await selecting, { case: "value", ok: false });
});

// Close

Deno.test("select() receive case on a closed and drained channel is ready with ok: false", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  channel.close();
  const idle = new Channel<number>();
  assert.deepEqual(
    await select({ value: { receive: channel }, idle: { receive: idle } }),
    { case: "value", ok: true, value: 1 },
  );
  assert.deepEqual(
    await select({ value: { receive: channel }, idle: { receive: idle } }),
    { case: "value", ok: false },
  );
  assert.equal(idle.trySend(0), false);
});

Deno.test("select() waiting receive case resolves with ok: false when its channel closes", async () => {
  const channel = new Channel<number>();
  const idle = new Channel<number>();
  const selecting = select({
    value: { receive: channel },
    idle: { receive: idle },
  });
  channel.close(new Error("Done"));
  assert.deepEqual(await selecting, { case: "value", ok: false });
  assert.equal(idle.trySend(0), false);
});

Deno.test("select() send case on a closed channel rejects with ChannelClosedError carrying the value", async () => {
  const channel = new Channel<number>();
  channel.close("stop");
  await assert.rejects(
    select({ value: { send: channel, value: 9 } }),
    (error) =>
      error instanceof ChannelClosedError && error.value === 9 &&
      error.cause === "stop",
  );
});

Deno.test("select() waiting send case rejects when its channel closes, and withdraws the others", async () => {
  const channel = new Channel<number>();
  const other = new Channel<number>();
  const selecting = select({
    value: { send: channel, value: 9 },
    other: { send: other, value: 10 },
  });
  channel.close();
  await assert.rejects(
    selecting,
    (error) => error instanceof ChannelClosedError && error.value === 9,
  );
  assert.deepEqual(other.tryReceive(), EMPTY);
});

// Cancellation

Deno.test("select() with an aborted signal rejects with its reason and completes no case", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  const reason = { why: "aborted" };
  await assert.rejects(
    select({ value: { receive: channel } }, {
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
  assert.equal(channel.size, 1);
});

Deno.test("Aborting a waiting select withdraws every case from its channel", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>();
  const controller = new AbortController();
  const reason = new Error("Timed out");
  const selecting = select({
    a: { receive: a },
    b: { send: b, value: 2 },
  }, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(selecting, (error) => error === reason);
  assert.equal(a.trySend(1), false);
  assert.deepEqual(b.tryReceive(), EMPTY);
});

Deno.test("An abort after a select case was matched in the same tick is ignored", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const selecting = select({ value: { receive: channel } }, {
    signal: controller.signal,
  });
  assert.equal(channel.trySend(1), true);
  controller.abort();
  assert.deepEqual(await selecting, { case: "value", ok: true, value: 1 });
});

Deno.test("An abort before a matching operation in the same tick wins: the select takes nothing", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const selecting = select({ value: { send: channel, value: 1 } }, {
    signal: controller.signal,
  });
  controller.abort();
  assert.deepEqual(channel.tryReceive(), EMPTY);
  await assert.rejects(selecting);
});

Deno.test("select() removes its abort listener on every settle path", async (t) => {
  await t.step("a case wins", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const selecting = select({ value: { receive: channel } }, { signal });
    assert.equal(listeners.size, 1);
    channel.trySend(1);
    await selecting;
    assert.equal(listeners.size, 0);
  });
  await t.step("a send case fails on close", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const selecting = select({ value: { send: channel, value: 1 } }, {
      signal,
    });
    channel.close();
    await assert.rejects(selecting, ChannelClosedError);
    assert.equal(listeners.size, 0);
  });
  await t.step("aborted", async () => {
    const channel = new Channel<number>();
    const controller = new AbortController();
    const { signal, listeners } = trackedSignal(controller);
    const selecting = select({ value: { receive: channel } }, { signal });
    controller.abort();
    await assert.rejects(selecting);
    assert.equal(listeners.size, 0);
  });
  await t.step("ready at once: no listener added", async () => {
    const channel = new Channel<number>(1);
    const { signal, listeners } = trackedSignal(new AbortController());
    await select({ value: { send: channel, value: 1 } }, { signal });
    assert.equal(listeners.size, 0);
  });
});

// Arguments and types

Deno.test("select() rejects with TypeError for malformed cases", async () => {
  const channel = new Channel<number>();
  const bad: [unknown, string][] = [
    [null, "Cannot select as 'cases' must be an object: received null"],
    [{}, "Cannot select as 'cases' is empty and there is no default case"],
    [
      { default: { receive: channel } },
      "Cannot select as the case key 'default' is reserved for the default case",
    ],
    [
      { x: { receive: channel, send: channel, value: 1 } },
      "Cannot select as case 'x' must have exactly one of 'receive' and 'send'",
    ],
    [
      { x: {} },
      "Cannot select as case 'x' must have exactly one of 'receive' and 'send'",
    ],
    [{ x: 1 }, "Cannot select as case 'x' must be an object: received 1"],
    [{ x: { receive: {} } }, "Cannot select as 'x.receive' must be a Channel"],
    [
      { x: { send: channel } },
      "Cannot select as send case 'x' must have a 'value'",
    ],
  ];
  for (const [cases, message] of bad) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      select(cases as any),
      { name: "TypeError", message },
    );
  }
  assert.equal(channel.trySend(1), false); // nothing was left waiting
});

Deno.test("select() result types narrow on case and ok, and send values are type-checked", async () => {
  const numbers = new Channel<number>(1);
  const words = new Channel<string>(1);
  await numbers.send(1);
  const result = await select({
    number: { receive: numbers },
    word: { send: words, value: "w" },
  });
  switch (result.case) {
    case "number": {
      const value: number | undefined = result.ok ? result.value : undefined;
      assert.equal(value, 1);
      break;
    }
    case "word": {
      // @ts-expect-error a send case result has no value
      result.value;
      break;
    }
    default: {
      const never: never = result;
      assert.fail(`unexpected ${never}`);
    }
  }
  const polled = await select({ number: { receive: numbers } }, {
    default: true,
  });
  if (polled.case === "default") assert.ok(true);

  // Compile-time checks only: these calls never run.
  const typeChecks = () => {
    // @ts-expect-error a string does not fit a Channel<number>
    select({ x: { send: numbers, value: "1" } });
    // @ts-expect-error the key "default" is reserved
    select({ default: { receive: numbers } });
    // @ts-expect-error without the default option there is no default result
    select({ x: { receive: numbers } }).then((r) => r.case === "default");
  };
  assert.equal(typeof typeChecks, "function");
  // Leave both channels drained.
  words.tryReceive();
  numbers.tryReceive();
});

// Properties

type Step =
  | {
    kind: "select";
    cases: [number, "send" | "receive"][];
    abortable: boolean;
  }
  | { kind: "send"; channel: number }
  | { kind: "receive"; channel: number }
  | { kind: "abort"; pick: number }
  | { kind: "tick" }
  | { kind: "close"; channel: number };

const CHANNELS = 2;
const channelIndex = fc.integer({ min: 0, max: CHANNELS - 1 });
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("select" as const),
      cases: fc.array(
        fc.tuple(
          channelIndex,
          fc.constantFrom("send" as const, "receive" as const),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      abortable: fc.boolean(),
    }),
    weight: 9,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      channel: channelIndex,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("receive" as const),
      channel: channelIndex,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("abort" as const),
      pick: fc.nat(),
    }),
    weight: 3,
  },
  { arbitrary: fc.constant({ kind: "tick" as const }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("close" as const),
      channel: channelIndex,
    }),
    weight: 1,
  },
);

Deno.test("select() completes exactly one case and loses no value for random schedules", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 2 }), {
        minLength: CHANNELS,
        maxLength: CHANNELS,
      }),
      fc.array(stepArbitrary, { maxLength: 40 }),
      async (capacities, steps) => {
        const channels = capacities.map((c) => new Channel<number>(c));
        let nextValue = 0;
        const delivered = new Set<number>(); // values the channels took
        const undelivered = new Set<number>(); // values whose send failed
        const taken: number[] = []; // values that left a channel
        const controllers: AbortController[] = [];
        const pending: Promise<unknown>[] = [];
        const reasons = new Set<unknown>();

        for (const step of steps) {
          switch (step.kind) {
            case "select": {
              const cases: Record<
                string,
                { receive: Channel<number> } | {
                  send: Channel<number>;
                  value: number;
                }
              > = {};
              const sends = new Map<string, number>();
              step.cases.forEach(([index, kind], i) => {
                const channel = channels[index]!;
                if (kind === "receive") cases[`c${i}`] = { receive: channel };
                else {
                  const value = nextValue++;
                  sends.set(`c${i}`, value);
                  cases[`c${i}`] = { send: channel, value };
                }
              });
              let signal: AbortSignal | undefined;
              if (step.abortable) {
                const controller = new AbortController();
                controllers.push(controller);
                signal = controller.signal;
              }
              pending.push(
                select(cases, { signal }).then(
                  (result) => {
                    for (const [key, value] of sends) {
                      (key === result.case ? delivered : undelivered).add(
                        value,
                      );
                    }
                    if ("ok" in result && result.ok) taken.push(result.value);
                  },
                  (error) => {
                    assert.ok(
                      error instanceof ChannelClosedError || reasons.has(error),
                    );
                    for (const value of sends.values()) undelivered.add(value);
                  },
                ),
              );
              break;
            }
            case "send": {
              const value = nextValue++;
              pending.push(
                channels[step.channel]!.send(value).then(
                  () => delivered.add(value),
                  (error) => {
                    assert.ok(error instanceof ChannelClosedError);
                    undelivered.add(value);
                  },
                ),
              );
              break;
            }
            case "receive":
              pending.push(
                channels[step.channel]!.receive().then(
                  (value) => taken.push(value),
                  (error) => assert.ok(error instanceof ChannelClosedError),
                ),
              );
              break;
            case "abort":
              if (controllers.length > 0) {
                const reason = new Error("Aborted");
                reasons.add(reason);
                controllers[step.pick % controllers.length]!.abort(reason);
              }
              break;
            case "tick":
              await drainMicrotasks();
              break;
            case "close":
              channels[step.channel]!.close();
              break;
          }
        }

        for (const channel of channels) channel.close();
        await Promise.all(pending);
        for (const channel of channels) {
          for (let r = channel.tryReceive(); r.ok; r = channel.tryReceive()) {
            taken.push(r.value);
          }
        }

        assert.equal(taken.length, new Set(taken).size, "received twice");
        assert.deepEqual(new Set(taken), delivered, "lost or invented value");
        for (const value of undelivered) assert.ok(!delivered.has(value));
        assert.equal(delivered.size + undelivered.size, nextValue);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("select() settles every call for random schedules once the channels close", async () => {
  // A smaller check with the microtask queue drained between every step.
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArbitrary, { maxLength: 20 }),
      async (steps) => {
        const channels = [new Channel<number>(), new Channel<number>(1)];
        const calls: Promise<unknown>[] = [];
        for (const step of steps) {
          if (step.kind === "select") {
            const cases = Object.fromEntries(
              step.cases.map(([index, kind], i) => [
                `c${i}`,
                kind === "receive"
                  ? { receive: channels[index]! }
                  : { send: channels[index]!, value: i },
              ]),
            );
            calls.push(select(cases).catch(() => {}));
          } else if (step.kind === "close") {
            channels[step.channel]!.close();
          }
          await drainMicrotasks();
        }
        for (const channel of channels) channel.close();
        for (const call of calls) {
          assert.equal(
            await stateOf(call),
            "fulfilled",
          );
        }
      },
    ),
    { numRuns: 100 },
  );
});
