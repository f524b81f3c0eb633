// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { Channel } from "./channel.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";
import { drainMicrotasks, stateOf, trackedSignal } from "./_test_helpers.ts";

/** Asserts `error` is a `ChannelClosedError` with the given fields. */
function assertClosedError(
  error: unknown,
  expected: { value?: unknown; cause?: unknown },
): true {
  assert.ok(error instanceof ChannelClosedError, `got ${error}`);
  assert.equal("value" in error, "value" in expected);
  if ("value" in expected) assert.equal(error.value, expected.value);
  assert.equal("cause" in error, "cause" in expected);
  if ("cause" in expected) assert.equal(error.cause, expected.cause);
  return true;
}

// Construction

Deno.test("new Channel() is a rendezvous channel of capacity 0", () => {
  const channel = new Channel<number>();
  assert.equal(channel.capacity, 0);
  assert.equal(channel.size, 0);
  assert.equal(channel.closed, false);
});

Deno.test("new Channel() takes the capacity as a number or a { capacity } object", () => {
  assert.equal(new Channel<number>(3).capacity, 3);
  assert.equal(new Channel<number>({ capacity: 3 }).capacity, 3);
  assert.equal(new Channel<number>({}).capacity, 0);
  assert.equal(new Channel<number>(2 ** 40).capacity, 2 ** 40);
});

Deno.test("new Channel() throws RangeError for a capacity that is not a non-negative integer", () => {
  assert.throws(() => new Channel<number>(-1), {
    name: "RangeError",
    message:
      "Cannot create Channel as 'capacity' must be a non-negative integer: received -1",
  });
  for (const capacity of [1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    assert.throws(() => new Channel<number>(capacity), RangeError);
    assert.throws(() => new Channel<number>({ capacity }), RangeError);
  }
});

Deno.test("new Channel() throws TypeError for a capacity of the wrong type", () => {
  assert.throws(
    () => new Channel<number>("3" as unknown as number),
    TypeError,
  );
  assert.throws(() => new Channel<number>(null as unknown as number), {
    name: "TypeError",
    message:
      "Cannot create Channel as the argument must be a number or an options object: received null",
  });
  assert.throws(
    () => new Channel<number>({ capacity: "3" as unknown as number }),
    {
      name: "TypeError",
      message:
        `Cannot create Channel as 'capacity' must be a number: received "3"`,
    },
  );
});

// Rendezvous

Deno.test("Channel.send() on a rendezvous channel resolves only once a receiver took the value", async () => {
  const channel = new Channel<string>();
  const sending = channel.send("a");
  assert.equal(await stateOf(sending), "pending");
  assert.equal(channel.size, 0);
  assert.equal(await channel.receive(), "a");
  assert.equal(await stateOf(sending), "fulfilled");
});

Deno.test("Channel.send() on a rendezvous channel hands the value straight to a waiting receiver", async () => {
  const channel = new Channel<string>();
  const receiving = channel.receive();
  assert.equal(await stateOf(receiving), "pending");
  await channel.send("a");
  assert.equal(await receiving, "a");
});

Deno.test("Channel.trySend() on a rendezvous channel succeeds only when a receiver waits", async () => {
  const channel = new Channel<number>();
  assert.equal(channel.trySend(1), false);
  const receiving = channel.receive();
  assert.equal(channel.trySend(2), true);
  assert.equal(await receiving, 2);
  assert.equal(channel.trySend(3), false);
});

Deno.test("Channel.tryReceive() on a rendezvous channel takes a waiting sender's value", async () => {
  const channel = new Channel<number>();
  assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
  const sending = channel.send(1);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 1 });
  await sending;
});

// Buffering

Deno.test("Channel.send() resolves at once while the buffer has room, then waits", async () => {
  const channel = new Channel<number>(2);
  await channel.send(1);
  await channel.send(2);
  assert.equal(channel.size, 2);
  const third = channel.send(3);
  assert.equal(await stateOf(third), "pending");
  assert.equal(channel.size, 2);
  assert.equal(await channel.receive(), 1);
  assert.equal(await stateOf(third), "fulfilled");
  assert.equal(channel.size, 2);
  assert.equal(await channel.receive(), 2);
  assert.equal(await channel.receive(), 3);
  assert.equal(channel.size, 0);
});

Deno.test("Channel.send() returns one shared resolved promise when it does not wait", () => {
  const channel = new Channel<number>(2);
  assert.equal(channel.send(1), channel.send(2));
});

Deno.test("Channel.receive() moves the longest-waiting sender's value into the freed slot", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  const second = channel.send(2);
  const third = channel.send(3);
  assert.equal(channel.tryReceive().ok, true);
  assert.equal(await stateOf(second), "fulfilled");
  assert.equal(await stateOf(third), "pending");
  assert.equal(channel.size, 1);
  assert.equal(await channel.receive(), 2);
  assert.equal(await stateOf(third), "fulfilled");
  assert.equal(await channel.receive(), 3);
});

Deno.test("Channel.trySend() fails without queueing when the buffer is full", () => {
  const channel = new Channel<number>(1);
  assert.equal(channel.trySend(1), true);
  assert.equal(channel.trySend(2), false);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 1 });
  assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
});

Deno.test("Channel keeps undefined as a value", async () => {
  const channel = new Channel<undefined>(2);
  await channel.send(undefined);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: undefined });
  await channel.send(undefined);
  assert.equal(await channel.receive(), undefined);
});

Deno.test("Channel with a large capacity buffers values beyond its first allocation in order", async () => {
  const channel = new Channel<number>(5000);
  for (let i = 0; i < 3000; i++) assert.equal(channel.trySend(i), true);
  assert.equal(channel.size, 3000);
  for (let i = 0; i < 3000; i++) assert.equal(await channel.receive(), i);
});

// FIFO

Deno.test("Channel serves waiting senders in FIFO order", async () => {
  for (const capacity of [0, 2]) {
    const channel = new Channel<number>(capacity);
    for (let i = 0; i < capacity; i++) channel.trySend(-1);
    const order: number[] = [];
    const sends = [0, 1, 2, 3].map((i) =>
      channel.send(i).then(() => order.push(i))
    );
    const received: number[] = [];
    for (let i = 0; i < 4 + capacity; i++) {
      received.push(await channel.receive());
    }
    await Promise.all(sends);
    assert.deepEqual(received.filter((v) => v >= 0), [0, 1, 2, 3]);
    assert.deepEqual(order, [0, 1, 2, 3]);
  }
});

Deno.test("Channel serves waiting receivers in FIFO order", async () => {
  for (const capacity of [0, 2]) {
    const channel = new Channel<number>(capacity);
    const received: [number, number][] = [];
    const receives = [0, 1, 2, 3].map((i) =>
      channel.receive().then((value) => received.push([i, value]))
    );
    for (let value = 10; value < 14; value++) await channel.send(value);
    await Promise.all(receives);
    assert.deepEqual(received, [[0, 10], [1, 11], [2, 12], [3, 13]]);
  }
});

// Close

Deno.test("Channel.close() lets receivers drain buffered values before they see the end", async () => {
  const channel = new Channel<number>(3);
  await channel.send(1);
  await channel.send(2);
  channel.close();
  assert.equal(channel.closed, true);
  assert.equal(channel.size, 2);
  assert.equal(await channel.receive(), 1);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 2 });
  assert.deepEqual(channel.tryReceive(), { ok: false, closed: true });
  await assert.rejects(channel.receive(), (error) => {
    assert.equal(
      (error as Error).message,
      "Cannot receive from the channel as it is closed and drained",
    );
    return assertClosedError(error, {});
  });
});

Deno.test("Channel.close() rejects waiting senders with their unsent value and the reason as cause", async () => {
  const channel = new Channel<string>(1);
  await channel.send("kept");
  const reason = new Error("Stop");
  const first = channel.send("a");
  const second = channel.send("b");
  channel.close(reason);
  await assert.rejects(
    first,
    (e) => assertClosedError(e, { value: "a", cause: reason }),
  );
  await assert.rejects(
    second,
    (e) => assertClosedError(e, { value: "b", cause: reason }),
  );
  assert.equal(await channel.receive(), "kept");
});

Deno.test("Channel.close() rejects waiting receivers with ChannelClosedError", async () => {
  const channel = new Channel<number>();
  const plain = channel.receive();
  channel.close();
  await assert.rejects(plain, (e) => assertClosedError(e, {}));

  const withReason = new Channel<number>(2);
  const waiting = withReason.receive();
  withReason.close("done");
  await assert.rejects(waiting, (e) => assertClosedError(e, { cause: "done" }));
});

Deno.test("Channel.send() on a closed channel rejects with the value and trySend() throws", async () => {
  const channel = new Channel<number>(4);
  channel.close();
  await assert.rejects(channel.send(1), (error) => {
    assert.equal(
      (error as Error).message,
      "Cannot send to the channel as it is closed",
    );
    return assertClosedError(error, { value: 1 });
  });
  assert.throws(
    () => channel.trySend(2),
    (e) => assertClosedError(e, { value: 2 }),
  );
  assert.equal(channel.size, 0);
});

Deno.test("Channel.close() twice is a no-op that keeps the first reason", async () => {
  const channel = new Channel<number>();
  channel.close("first");
  channel.close("second");
  channel.close();
  assert.equal(channel.closed, true);
  await assert.rejects(
    channel.receive(),
    (e) => assertClosedError(e, { cause: "first" }),
  );
});

Deno.test("Channel.close(undefined) is a close without a reason", async () => {
  const channel = new Channel<number>();
  channel.close(undefined);
  await assert.rejects(channel.receive(), (e) => assertClosedError(e, {}));
  assert.deepEqual(await Array.fromAsync(channel), []);
});

Deno.test("Channel[Symbol.asyncDispose] and [Symbol.dispose] close the channel", async () => {
  const channel = new Channel<number>(1);
  {
    await using disposable = channel;
    await disposable.send(1);
  }
  assert.equal(channel.closed, true);
  assert.equal(await channel.receive(), 1);

  const other = new Channel<number>();
  {
    using _disposable = other;
  }
  assert.equal(other.closed, true);
});

// Iteration

Deno.test("for await over a Channel reads every value until it is closed and drained", async () => {
  const channel = new Channel<number>(2);
  const producer = (async () => {
    for (let i = 0; i < 10; i++) await channel.send(i);
    channel.close();
  })();
  const received: number[] = [];
  for await (const value of channel) received.push(value);
  await producer;
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("for await over a Channel closed with a reason throws ChannelClosedError after draining", async () => {
  const channel = new Channel<number>(2);
  await channel.send(1);
  const reason = new Error("Producer failed");
  const received: number[] = [];
  const loop = (async () => {
    for await (const value of channel) received.push(value);
  })();
  await drainMicrotasks();
  channel.close(reason);
  await assert.rejects(loop, (e) => assertClosedError(e, { cause: reason }));
  assert.deepEqual(received, [1]);
});

Deno.test("Breaking out of for await leaves the channel open and loses no value", async () => {
  const channel = new Channel<number>(4);
  for (let i = 1; i <= 4; i++) await channel.send(i);
  for await (const value of channel) {
    if (value === 2) break;
  }
  assert.equal(channel.closed, false);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 3 });
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 4 });
});

Deno.test("A Channel iterator's return() gives up its waiting next() without taking a value", async () => {
  const channel = new Channel<number>();
  const iterator = channel[Symbol.asyncIterator]();
  const next = iterator.next();
  assert.equal(await stateOf(next), "pending");
  assert.deepEqual(await iterator.return!(), { value: undefined, done: true });
  assert.deepEqual(await next, { value: undefined, done: true });
  assert.equal(channel.trySend(1), false); // no receiver is left waiting
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

Deno.test("Several iterators over one Channel share its values, each value going to one", async () => {
  const channel = new Channel<number>();
  const a: number[] = [];
  const b: number[] = [];
  const loops = [
    (async () => {
      for await (const value of channel) a.push(value);
    })(),
    (async () => {
      for await (const value of channel) b.push(value);
    })(),
  ];
  for (let i = 0; i < 20; i++) await channel.send(i);
  channel.close();
  await Promise.all(loops);
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), [...Array(20).keys()]);
  assert.ok(a.length > 0 && b.length > 0);
});

Deno.test("A Channel iterator's concurrent next() calls are served in order", async () => {
  const channel = new Channel<number>();
  const iterator = channel[Symbol.asyncIterator]();
  const first = iterator.next();
  const second = iterator.next();
  await channel.send(1);
  await channel.send(2);
  channel.close();
  assert.deepEqual(await first, { value: 1, done: false });
  assert.deepEqual(await second, { value: 2, done: false });
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

// Streams

Deno.test("Channel.toReadableStream() reads until the channel is closed and drained", async () => {
  const channel = new Channel<number>();
  const reading = Array.fromAsync(channel.toReadableStream());
  for (let i = 0; i < 3; i++) await channel.send(i);
  channel.close();
  assert.deepEqual(await reading, [0, 1, 2]);
});

Deno.test("Channel.toReadableStream() errors with ChannelClosedError when closed with a reason", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  channel.close("broken");
  const reader = channel.toReadableStream().getReader();
  assert.deepEqual(await reader.read(), { value: 1, done: false });
  await assert.rejects(
    reader.read(),
    (e) => assertClosedError(e, { cause: "broken" }),
  );
});

Deno.test("Cancelling Channel.toReadableStream() loses no value and leaves the channel open", async () => {
  const channel = new Channel<number>(2);
  const stream = channel.toReadableStream();
  const reader = stream.getReader();
  const read = reader.read();
  await drainMicrotasks();
  await reader.cancel();
  assert.deepEqual(await read, { value: undefined, done: true });
  assert.equal(channel.closed, false);
  await channel.send(1);
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 1 });
});

// Cancellation

Deno.test("Channel.send() with an aborted signal rejects with its reason and sends nothing", async () => {
  const channel = new Channel<number>(1);
  const reason = { custom: "reason" };
  await assert.rejects(
    channel.send(1, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(channel.size, 0);
});

Deno.test("Channel.receive() with an aborted signal rejects with its reason and takes nothing", async () => {
  const channel = new Channel<number>(1);
  await channel.send(1);
  const reason = new Error("Aborted");
  await assert.rejects(
    channel.receive({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(channel.size, 1);
});

Deno.test("Aborting a waiting send leaves the channel as if it had never been called", async () => {
  const channel = new Channel<number>(1);
  await channel.send(0);
  const controller = new AbortController();
  const aborted = channel.send(1, { signal: controller.signal });
  const kept = channel.send(2);
  controller.abort();
  await assert.rejects(
    aborted,
    (e) => e instanceof DOMException && e.name === "AbortError",
  );
  assert.equal(await channel.receive(), 0);
  assert.equal(await channel.receive(), 2);
  await kept;
  assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
});

Deno.test("Aborting a waiting receive passes the next value to the next receiver", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const reason = new Error("Gave up");
  const aborted = channel.receive({ signal: controller.signal });
  const next = channel.receive();
  controller.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  await channel.send(1);
  assert.equal(await next, 1);
  assert.equal(channel.trySend(2), false); // nobody else waits
});

Deno.test("Aborting a waiting send in the middle of the queue keeps the others in FIFO order", async () => {
  const channel = new Channel<number>();
  const controllers = [0, 1, 2, 3, 4].map(() => new AbortController());
  const sends = controllers.map((controller, i) =>
    channel.send(i, { signal: controller.signal }).then(
      () => "sent",
      () => "aborted",
    )
  );
  controllers[1]!.abort();
  controllers[3]!.abort();
  const received = [];
  for (let i = 0; i < 3; i++) received.push(await channel.receive());
  assert.deepEqual(received, [0, 2, 4]);
  assert.deepEqual(await Promise.all(sends), [
    "sent",
    "aborted",
    "sent",
    "aborted",
    "sent",
  ]);
});

Deno.test("An abort after a waiting receive was matched in the same tick is ignored", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const receiving = channel.receive({ signal: controller.signal });
  assert.equal(channel.trySend(1), true);
  controller.abort();
  assert.equal(await receiving, 1);
});

Deno.test("An abort before a matching send in the same tick wins: the value stays with the sender", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const receiving = channel.receive({ signal: controller.signal });
  controller.abort();
  assert.equal(channel.trySend(1), false);
  await assert.rejects(receiving);
  const sending = channel.send(2);
  assert.equal(await stateOf(sending), "pending");
  assert.deepEqual(channel.tryReceive(), { ok: true, value: 2 });
  await sending;
});

Deno.test("An abort after a waiting send was matched in the same tick is ignored", async (t) => {
  await t.step("rendezvous: a receiver took the value", async () => {
    const channel = new Channel<number>();
    const controller = new AbortController();
    const sending = channel.send(1, { signal: controller.signal });
    assert.deepEqual(channel.tryReceive(), { ok: true, value: 1 });
    controller.abort();
    await sending;
  });
  await t.step("buffered: the value moved into the freed slot", async () => {
    const channel = new Channel<number>(1);
    channel.trySend(0);
    const controller = new AbortController();
    const sending = channel.send(1, { signal: controller.signal });
    assert.deepEqual(channel.tryReceive(), { ok: true, value: 0 });
    controller.abort();
    await sending;
    assert.deepEqual(channel.tryReceive(), { ok: true, value: 1 });
  });
});

Deno.test("An abort before a matching receive in the same tick wins: the value is not delivered", async () => {
  const channel = new Channel<number>();
  const controller = new AbortController();
  const sending = channel.send(1, { signal: controller.signal });
  controller.abort();
  assert.deepEqual(channel.tryReceive(), { ok: false, closed: false });
  await assert.rejects(sending);
});

Deno.test("Channel.send() and receive() remove their abort listener on every settle path", async (t) => {
  await t.step("send taken", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const sending = channel.send(1, { signal });
    assert.equal(listeners.size, 1);
    channel.tryReceive();
    await sending;
    assert.equal(listeners.size, 0);
  });
  await t.step("send rejected by close", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const sending = channel.send(1, { signal });
    channel.close();
    await assert.rejects(sending, ChannelClosedError);
    assert.equal(listeners.size, 0);
  });
  await t.step("send aborted", async () => {
    const channel = new Channel<number>();
    const controller = new AbortController();
    const { signal, listeners } = trackedSignal(controller);
    const sending = channel.send(1, { signal });
    controller.abort();
    await assert.rejects(sending);
    assert.equal(listeners.size, 0);
  });
  await t.step("send that does not wait adds no listener", async () => {
    const channel = new Channel<number>(1);
    const { signal, listeners } = trackedSignal(new AbortController());
    await channel.send(1, { signal });
    assert.equal(listeners.size, 0);
  });
  await t.step("receive delivered", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const receiving = channel.receive({ signal });
    assert.equal(listeners.size, 1);
    channel.trySend(1);
    assert.equal(await receiving, 1);
    assert.equal(listeners.size, 0);
  });
  await t.step("receive rejected by close", async () => {
    const channel = new Channel<number>();
    const { signal, listeners } = trackedSignal(new AbortController());
    const receiving = channel.receive({ signal });
    channel.close();
    await assert.rejects(receiving, ChannelClosedError);
    assert.equal(listeners.size, 0);
  });
  await t.step("receive aborted", async () => {
    const channel = new Channel<number>();
    const controller = new AbortController();
    const { signal, listeners } = trackedSignal(controller);
    const receiving = channel.receive({ signal });
    controller.abort();
    await assert.rejects(receiving);
    assert.equal(listeners.size, 0);
  });
});

// Properties

type Command =
  | { kind: "send"; sender: number; abortable: boolean }
  | { kind: "trySend"; sender: number }
  | { kind: "receive"; abortable: boolean }
  | { kind: "tryReceive" }
  | { kind: "abort"; pick: number }
  | { kind: "tick" }
  | { kind: "close"; withReason: boolean };

const SENDERS = 3;

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("send" as const),
    sender: fc.integer({ min: 0, max: SENDERS - 1 }),
    abortable: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("trySend" as const),
    sender: fc.integer({ min: 0, max: SENDERS - 1 }),
  }),
  fc.record({ kind: fc.constant("receive" as const), abortable: fc.boolean() }),
  fc.constant({ kind: "tryReceive" as const }),
  fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }),
  fc.constant({ kind: "tick" as const }),
  fc.record({ kind: fc.constant("close" as const), withReason: fc.boolean() }),
);

/**
 * Runs `commands` against a channel, then closes it and drains it, and
 * checks: every value whose send succeeded is received exactly once, no
 * other value is received, values of each sender leave in the order they
 * were sent, an aborted call rejects with its own reason, and every call
 * settles.
 */
async function runSchedule(capacity: number, commands: Command[]) {
  const channel = new Channel<number>(capacity);
  const nextSeq = Array<number>(SENDERS).fill(0);
  const sent = new Set<number>(); // values whose send succeeded
  const failed = new Set<number>(); // values whose send failed
  const taken: number[] = []; // values in the order they left the channel
  const controllers: AbortController[] = [];
  const pending: Promise<unknown>[] = [];
  const reasons = new Set<unknown>();

  const encode = (sender: number) => sender * 1000 + nextSeq[sender]!++;
  const expectFailure = (error: unknown) => {
    // Rejected by close, or by its own abort.
    assert.ok(error instanceof ChannelClosedError || reasons.has(error));
  };

  for (const command of commands) {
    switch (command.kind) {
      case "send": {
        const value = encode(command.sender);
        let signal: AbortSignal | undefined;
        if (command.abortable) {
          const controller = new AbortController();
          controllers.push(controller);
          signal = controller.signal;
        }
        pending.push(
          channel.send(value, { signal }).then(
            () => sent.add(value),
            (error) => {
              expectFailure(error);
              if (error instanceof ChannelClosedError) {
                assert.equal(error.value, value);
              }
              failed.add(value);
            },
          ),
        );
        break;
      }
      case "trySend": {
        const value = encode(command.sender);
        try {
          if (channel.trySend(value)) sent.add(value);
          else failed.add(value);
        } catch (error) {
          assert.ok(channel.closed && error instanceof ChannelClosedError);
          failed.add(value);
        }
        break;
      }
      case "receive": {
        let signal: AbortSignal | undefined;
        if (command.abortable) {
          const controller = new AbortController();
          controllers.push(controller);
          signal = controller.signal;
        }
        // `then` on the channel's own promise: its reaction is queued when
        // the value is taken, so `taken` records the order values left.
        pending.push(
          channel.receive({ signal }).then(
            (value) => taken.push(value),
            expectFailure,
          ),
        );
        break;
      }
      case "tryReceive": {
        const result = channel.tryReceive();
        // Queued now, behind the reactions of values taken earlier.
        if (result.ok) queueMicrotask(() => taken.push(result.value));
        break;
      }
      case "abort": {
        if (controllers.length > 0) {
          const reason = new Error("Aborted");
          reasons.add(reason);
          controllers[command.pick % controllers.length]!.abort(reason);
        }
        break;
      }
      case "tick":
        await drainMicrotasks();
        break;
      case "close":
        channel.close(command.withReason ? new Error("Closed") : undefined);
        break;
    }
    assert.ok(channel.size <= capacity);
  }

  channel.close();
  await Promise.all(pending);
  for (
    let result = channel.tryReceive();
    result.ok;
    result = channel.tryReceive()
  ) {
    taken.push(result.value);
  }
  await drainMicrotasks();

  assert.equal(taken.length, new Set(taken).size, "a value was received twice");
  assert.deepEqual(
    new Set(taken),
    sent,
    "received values differ from sent ones",
  );
  for (const value of failed) assert.ok(!sent.has(value));
  for (let sender = 0; sender < SENDERS; sender++) {
    const ofSender = taken.filter((v) => Math.floor(v / 1000) === sender);
    assert.deepEqual(ofSender, ofSender.toSorted((a, b) => a - b), "FIFO");
  }
}

Deno.test("Channel delivers every value sent before close exactly once, in FIFO order per sender, for random schedules", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 3 }),
      fc.array(commandArbitrary, { maxLength: 60 }),
      runSchedule,
    ),
    { numRuns: 300 },
  );
});

Deno.test("Channel loses and duplicates no value when fc.scheduler interleaves producers, consumers, aborts and close", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 4 }),
      async (s, capacity, producers, consumers, aborts) => {
        const channel = new Channel<number>(capacity);
        const sent: number[][] = Array.from({ length: producers }, () => []);
        const received: number[] = [];
        const current: (AbortController | undefined)[] = [];

        const produce = async (id: number) => {
          for (let seq = 0; seq < 4; seq++) {
            await s.schedule(Promise.resolve(), `producer ${id} step`);
            const value = id * 1000 + seq;
            try {
              await channel.send(value);
              sent[id]!.push(value);
            } catch (error) {
              assert.ok(error instanceof ChannelClosedError);
              assert.equal(error.value, value);
              return;
            }
          }
        };
        const consume = async (id: number) => {
          while (true) {
            await s.schedule(Promise.resolve(), `consumer ${id} step`);
            const controller = new AbortController();
            current[id] = controller;
            try {
              const value = await channel.receive({
                signal: controller.signal,
              });
              received.push(value);
            } catch (error) {
              if (error instanceof ChannelClosedError) return;
              assert.equal(error, "abort");
            }
          }
        };
        const abort = async () => {
          for (let i = 0; i < aborts; i++) {
            await s.schedule(Promise.resolve(), "abort");
            current[i % consumers]?.abort("abort");
          }
        };
        const close = async () => {
          await s.schedule(Promise.resolve(), "close");
          channel.close();
        };

        const tasks = [
          ...Array.from({ length: producers }, (_, id) => produce(id)),
          ...Array.from({ length: consumers }, (_, id) => consume(id)),
          abort(),
          close(),
        ];
        await s.waitFor(Promise.all(tasks));

        // Values sent but still buffered at close are drained here.
        for (let r = channel.tryReceive(); r.ok; r = channel.tryReceive()) {
          received.push(r.value);
        }
        const allSent = sent.flat();
        assert.deepEqual(
          received.toSorted((a, b) => a - b),
          allSent.toSorted((a, b) => a - b),
        );
        for (let id = 0; id < producers; id++) {
          const ofProducer = received.filter((v) =>
            Math.floor(v / 1000) === id
          );
          assert.deepEqual(ofProducer, sent[id]);
        }
      },
    ),
    { numRuns: 300 },
  );
});
