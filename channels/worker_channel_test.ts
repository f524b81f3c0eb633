// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import fc from "fast-check";
import { WorkerChannel } from "./worker_channel.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import { WorkerPool } from "../pool.ts";
import { drainMicrotasks, stateOf } from "./_test_helpers.ts";
import { flags, signal, soloPools, until } from "./_test_workers.ts";

// ---- on the owner's thread -------------------------------------------------

Deno.test("WorkerChannel delivers values in FIFO order and applies backpressure on its own thread", async () => {
  const channel = new WorkerChannel<number>(2);
  await channel.send(1);
  await channel.send(2);
  const third = channel.send(3);
  assert.equal(await stateOf(third), "pending");
  assert.equal(await channel.receive(), 1);
  await third;
  channel.close();
  const rest: number[] = [];
  for await (const value of channel) rest.push(value);
  assert.deepEqual(rest, [2, 3]);
});

Deno.test("WorkerChannel.send() copies the value, so a receiver never shares it with the sender", async () => {
  const channel = new WorkerChannel<{ n: number }>(1);
  const sent = { n: 1 };
  await channel.send(sent);
  sent.n = 2;
  const received = await channel.receive();
  assert.deepEqual(received, { n: 1 });
  assert.notEqual(received, sent);
  channel.close();
});

Deno.test("WorkerChannel.send() rejects a value that cannot be cloned with a TypeError naming it", async () => {
  const channel = new WorkerChannel<unknown>(4);
  await assert.rejects(channel.send(function compute() {}), (error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /a function named "compute"/);
    return true;
  });
  await channel.send("fine");
  assert.equal(await channel.receive(), "fine");
  channel.close();
});

Deno.test("WorkerChannel.receive() aborted while waiting leaves the channel as if it was never called", async () => {
  const channel = new WorkerChannel<number>();
  const controller = new AbortController();
  const reason = new Error("Gave up");
  const receiving = channel.receive({ signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(receiving, (error) => error === reason);
  // No receiver waits any more: a rendezvous send has nobody to go to.
  const sending = channel.send(1);
  assert.equal(await stateOf(sending), "pending");
  assert.equal(await channel.receive(), 1);
  await sending;
  channel.close();
});

Deno.test("WorkerChannel.close() rejects waiting sends with their values and keeps buffered values", async () => {
  const channel = new WorkerChannel<string>(1);
  await channel.send("kept");
  const waiting = channel.send("unsent");
  channel.close(new Error("Stop"));
  channel.close(new Error("Ignored"));
  await assert.rejects(waiting, (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.value, "unsent");
    assert.equal((error.cause as Error).message, "Stop");
    return true;
  });
  assert.equal(await channel.receive(), "kept");
  await assert.rejects(channel.receive(), ChannelClosedError);
});

Deno.test("WorkerChannel() rejects a bad capacity", () => {
  assert.throws(() => new WorkerChannel(-1), RangeError);
  assert.throws(() => new WorkerChannel(1.5), RangeError);
  assert.throws(() => new WorkerChannel("2" as unknown as number), TypeError);
  assert.throws(
    () => new WorkerChannel({ capacity: "2" as unknown as number }),
    TypeError,
  );
  assert.equal(new WorkerChannel({}).capacity, 0);
});

// ---- across workers --------------------------------------------------------

type Ch<T> = WorkerChannel<T>;

Deno.test("WorkerChannel passes every value once and in order from a producer worker to a consumer worker", async () => {
  await using pools = soloPools(2);
  const [producers, consumers] = [pools[0]!, pools[1]!];
  const channel = new WorkerChannel<number>(3);
  const producer = producers.run(async (channel: Ch<number>, n: number) => {
    for (let i = 0; i < n; i++) await channel.send(i);
    channel.close();
  }, [channel, 50]);
  const consumer = consumers.run(async (channel: Ch<number>) => {
    const received: number[] = [];
    for await (const value of channel) received.push(value);
    return received;
  }, [channel]);
  await producer;
  assert.deepEqual(
    await consumer,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(channel.closed, true);
});

Deno.test("WorkerChannel shared by several consumer workers gives each value to exactly one of them", async () => {
  await using pools = soloPools(3);
  const channel = new WorkerChannel<number>(2);
  const consumers = pools.map((pool) =>
    pool.run(async (channel: Ch<number>) => {
      const received: number[] = [];
      for await (const value of channel) received.push(value);
      return received;
    }, [channel])
  );
  for (let i = 0; i < 60; i++) await channel.send(i);
  channel.close();
  const all = (await Promise.all(consumers)).flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => i));
  for (const received of await Promise.all(consumers)) {
    assert.deepEqual(received, [...received].sort((a, b) => a - b));
  }
});

Deno.test("WorkerChannel.close() on main is seen by a worker blocked in receive", async () => {
  await using pools = soloPools(1);
  const cells = flags();
  const channel = new WorkerChannel<number>();
  const consumer = pools[0]!.run(
    async (channel: Ch<number>, cells: Int32Array) => {
      const receiving = channel.receive();
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
      try {
        await receiving;
        return ["received"];
      } catch (error) {
        const e = error as Error;
        return [e.name, (e.cause as Error).message, String(channel.closed)];
      }
    },
    [channel, cells],
  );
  await until(cells, 0, 1);
  channel.close(new Error("No more"));
  assert.deepEqual(await consumer, ["ChannelClosedError", "No more", "true"]);
});

Deno.test("WorkerChannel.close() in a worker is seen on main, with its reason", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<number>(1);
  const receiving = assert.rejects(channel.receive(), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.ok(error.cause instanceof RangeError);
    assert.equal(error.cause.message, "Out of input");
    return true;
  });
  await pools[0]!.run((channel: Ch<number>) => {
    channel.close(new RangeError("Out of input"));
  }, [channel]);
  await receiving;
  assert.equal(channel.closed, true);
  await assert.rejects(channel.send(1), ChannelClosedError);
});

Deno.test("WorkerChannel.close() in one worker is seen by another worker blocked in receive", async () => {
  await using pools = soloPools(2);
  const cells = flags();
  const channel = new WorkerChannel<number>();
  const waiter = pools[0]!.run(
    async (channel: Ch<number>, cells: Int32Array) => {
      const receiving = channel.receive();
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
      try {
        return `received ${await receiving}`;
      } catch (error) {
        return `${(error as Error).name}: ${
          ((error as Error).cause as Error).message
        }`;
      }
    },
    [channel, cells],
  );
  await until(cells, 0, 1);
  await pools[1]!.run((channel: Ch<number>) => {
    channel.close(new Error("Closed by a peer"));
  }, [channel]);
  assert.equal(await waiter, "ChannelClosedError: Closed by a peer");
  assert.equal(channel.closed, true);
});

Deno.test("WorkerChannel: a ChannelClosedError that fails a task arrives as one, with its value and cause", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<number>();
  channel.close(new Error("Shut"));
  await assert.rejects(
    pools[0]!.run(async (channel: Ch<number>) => {
      await channel.send(42);
    }, [channel]),
    (error) => {
      assert.ok(error instanceof ChannelClosedError);
      assert.equal(error.value, 42);
      assert.equal((error.cause as Error).message, "Shut");
      return true;
    },
  );
});

Deno.test("WorkerChannel rejects a worker's send of a value that cannot be cloned with a TypeError naming it", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<unknown>(1);
  const result = await pools[0]!.run(async (channel: Ch<unknown>) => {
    try {
      await channel.send(Symbol("secret"));
      return "sent";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  }, [channel]);
  assert.match(result, /^TypeError: .*a symbol \(secret\)/);
  channel.close();
  await assert.rejects(channel.receive(), ChannelClosedError);
});

Deno.test("WorkerChannel: an aborted receive in a worker is removed as if it never happened", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<number>();
  const outcome = await pools[0]!.run(async (channel: Ch<number>) => {
    const controller = new AbortController();
    const receiving = channel.receive({ signal: controller.signal });
    controller.abort(new Error("Gave up"));
    try {
      return `received ${await receiving}`;
    } catch (error) {
      return (error as Error).message;
    }
  }, [channel]);
  assert.equal(outcome, "Gave up");
  // Had the worker's receive stayed queued, this rendezvous send would have
  // gone to it at once.
  const sending = channel.send(7);
  assert.equal(await stateOf(sending), "pending");
  assert.equal(await channel.receive(), 7);
  await sending;
  channel.close();
});

Deno.test("WorkerChannel: an aborted send in a worker delivers nothing", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<string>();
  const outcome = await pools[0]!.run(async (channel: Ch<string>) => {
    const controller = new AbortController();
    const sending = channel.send("withdrawn", { signal: controller.signal });
    controller.abort(new Error("Changed my mind"));
    try {
      await sending;
      return "sent";
    } catch (error) {
      return (error as Error).message;
    }
  }, [channel]);
  assert.equal(outcome, "Changed my mind");
  const receiving = channel.receive();
  await channel.send("next");
  assert.equal(await receiving, "next");
  channel.close();
});

Deno.test("WorkerChannel applies backpressure across the boundary: a worker's sends wait while the buffer is full", async () => {
  await using pools = soloPools(1);
  const progress = flags();
  const channel = new WorkerChannel<number>(2);
  const producer = pools[0]!.run(
    async (channel: Ch<number>, progress: Int32Array) => {
      for (let i = 0; i < 6; i++) {
        await channel.send(i);
        Atomics.store(progress, 0, i + 1);
        Atomics.notify(progress, 0);
      }
      channel.close();
    },
    [channel, progress],
  );
  await until(progress, 0, 2);
  // Nobody has received: a third send could only have completed by going
  // over the capacity.
  assert.equal(Atomics.load(progress, 0), 2);
  const received: number[] = [];
  for await (const value of channel) received.push(value);
  await producer;
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5]);
  assert.equal(Atomics.load(progress, 0), 6);
});

Deno.test("WorkerChannel: a worker that dies holding a value it has not read gives it back to main", async () => {
  const channel = new WorkerChannel<number>();
  const cells = flags();
  await using pools = soloPools(1);
  const sending = channel.send(1);
  const doomed = pools[0]!.run((channel: Ch<number>, cells: Int32Array) => {
    void channel.receive();
    // Block, so the value that arrives for that receive is never read.
    Atomics.wait(cells, 0, 0);
    self.close();
    return new Promise(() => {});
  }, [channel, cells]);
  await sending; // The owner handed the value to the worker's receive.
  signal(cells, 0, 1);
  await assert.rejects(doomed, WorkerCrashedError);
  assert.equal(await channel.receive(), 1);
  channel.close();
});

Deno.test("WorkerChannel: a worker that dies holding a value gives it to another worker waiting in receive", async () => {
  const channel = new WorkerChannel<number>();
  const cells = flags();
  await using pools = soloPools(2);
  const sending = channel.send(1);
  const doomed = pools[0]!.run((channel: Ch<number>, cells: Int32Array) => {
    void channel.receive();
    Atomics.wait(cells, 0, 0);
    self.close();
    return new Promise(() => {});
  }, [channel, cells]);
  await sending;
  const survivor = pools[1]!.run(
    (channel: Ch<number>) => channel.receive(),
    [channel],
  );
  signal(cells, 0, 1);
  await assert.rejects(doomed, WorkerCrashedError);
  assert.equal(await survivor, 1);
  channel.close();
});

Deno.test("WorkerChannel: a worker that crashes while waiting in receive does not take later values", async () => {
  const channel = new WorkerChannel<number>();
  await using pools = soloPools(1);
  const doomed = pools[0]!.run((channel: Ch<number>) => {
    const receiving = channel.receive();
    setTimeout(() => {
      throw new Error("A crash outside the task");
    });
    return receiving;
  }, [channel]);
  await assert.rejects(doomed, WorkerCrashedError);
  const sending = channel.send(2);
  assert.equal(await channel.receive(), 2);
  await sending;
  channel.close();
});

Deno.test("WorkerChannel returned by a task comes back as the same object", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<number>(1);
  const back = await pools[0]!.run(async (channel: Ch<number>) => {
    await channel.send(5);
    return channel;
  }, [channel]);
  assert.equal(back, channel);
  assert.equal(await channel.receive(), 5);
  channel.close();
});

Deno.test("WorkerChannel passed to a task after it closed and drained arrives closed", async () => {
  await using pools = soloPools(1);
  const channel = new WorkerChannel<number>();
  channel.close(new Error("Long gone"));
  const seen = await pools[0]!.run(async (channel: Ch<number>) => {
    const closed = channel.closed;
    try {
      await channel.receive();
      return "received";
    } catch (error) {
      return `${closed} ${(error as Error).name} ${
        ((error as Error).cause as Error).message
      }`;
    }
  }, [channel]);
  assert.equal(seen, "true ChannelClosedError Long gone");
});

Deno.test("WorkerChannel: every value whose send resolved is received exactly once, FIFO per sender, under random schedules", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const ops = ["send", "receive", "abortedReceive", "yield", "close"] as const;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 8 }),
      fc.array(fc.constantFrom(...ops), { maxLength: 16 }),
      async (capacity, workerSends, workerCloseAt, mainOps) => {
        const channel = new WorkerChannel<string>(capacity);
        const worker = pool.run(
          async (channel: Ch<string>, count: number, closeAt: number) => {
            const sent: string[] = [];
            for (let i = 0; i < count; i++) {
              if (i === closeAt) channel.close();
              try {
                await channel.send(`w${i}`);
                sent.push(`w${i}`);
              } catch (error) {
                if ((error as Error).name !== "ChannelClosedError") throw error;
              }
            }
            return sent;
          },
          [channel, workerSends, workerCloseAt],
        );
        const sent: string[] = [];
        const received: string[] = [];
        const pending: Promise<unknown>[] = [];
        const expectClosed = (error: unknown) => {
          if (!(error instanceof ChannelClosedError)) throw error;
        };
        let next = 0;
        for (const op of mainOps) {
          if (op === "send") {
            const value = `m${next++}`;
            pending.push(
              channel.send(value).then(() => sent.push(value), expectClosed),
            );
          } else if (op === "receive") {
            pending.push(
              channel.receive().then((v) => received.push(v), expectClosed),
            );
          } else if (op === "abortedReceive") {
            const controller = new AbortController();
            const reason = new Error("aborted");
            pending.push(
              channel.receive({ signal: controller.signal }).then(
                (v) => received.push(v),
                (error) => {
                  if (error !== reason) expectClosed(error);
                },
              ),
            );
            await drainMicrotasks();
            controller.abort(reason);
          } else if (op === "yield") {
            await drainMicrotasks();
          } else {
            channel.close();
          }
        }
        // Drain what is left while the worker finishes, then close.
        const draining = (async () => {
          while (true) {
            try {
              received.push(await channel.receive());
            } catch (error) {
              expectClosed(error);
              return;
            }
          }
        })();
        sent.push(...await worker);
        channel.close();
        await draining;
        await Promise.all(pending);

        assert.equal(received.length, new Set(received).size);
        assert.deepEqual([...received].sort(), [...sent].sort());
        for (const prefix of ["m", "w"]) {
          const order = received
            .filter((v) => v.startsWith(prefix))
            .map((v) => Number(v.slice(1)));
          assert.deepEqual(order, [...order].sort((a, b) => a - b));
        }
      },
    ),
    { numRuns: 60 },
  );
});
