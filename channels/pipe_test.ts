// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import { pipe, PipeEnd } from "./pipe.ts";
import { ChannelClosedError } from "../errors/channel_closed_error.ts";
import { WorkerCrashedError } from "../errors/worker_crashed_error.ts";
import { stateOf } from "./_test_helpers.ts";
import { soloPools } from "./_test_workers.ts";
import { encodeValues } from "../_wire.ts";

/** What a pool does to an end it passes to a worker: the port it sends. */
function toWire(end: object): MessagePort {
  const encoded = encodeValues([end]);
  assert.ok(encoded !== undefined);
  assert.equal(encoded.transfer.length, 1);
  return encoded.transfer[0] as MessagePort;
}

// ---- in one thread ---------------------------------------------------------

Deno.test("pipe() connects two ends: each receives what the other sends, in order", async () => {
  const [a, b] = pipe<number, string>();
  for (let i = 0; i < 5; i++) await a.send(i);
  await b.send("x");
  await b.send("y");
  const fromA: number[] = [];
  for (let i = 0; i < 5; i++) fromA.push(await b.receive());
  assert.deepEqual(fromA, [0, 1, 2, 3, 4]);
  assert.equal(await a.receive(), "x");
  assert.equal(await a.receive(), "y");
  a.close();
  b.close();
});

Deno.test("PipeEnd.close() is seen by the other end after it drains, and fails its sends", async () => {
  const [a, b] = pipe<number>();
  await a.send(1);
  await a.send(2);
  a.close(new Error("Done"));
  a.close(new Error("Ignored"));
  assert.equal(a.closed, true);
  await assert.rejects(a.receive(), ChannelClosedError);
  await assert.rejects(a.send(3), ChannelClosedError);
  const received: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const value of b) received.push(value);
    })(),
    (error) => {
      assert.ok(error instanceof ChannelClosedError);
      assert.equal((error.cause as Error).message, "Done");
      return true;
    },
  );
  assert.deepEqual(received, [1, 2]);
  assert.equal(b.closed, true);
  await assert.rejects(b.send(9), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.value, 9);
    return true;
  });
});

Deno.test("PipeEnd iteration ends quietly when the other end closes without a reason", async () => {
  const [a, b] = pipe<string>();
  const reading = (async () => {
    const received: string[] = [];
    for await (const value of b) received.push(value);
    return received;
  })();
  await a.send("one");
  a.close();
  assert.deepEqual(await reading, ["one"]);
});

Deno.test("PipeEnd.send() waits while 'capacity' values are outstanding", async () => {
  const [a, b] = pipe<number>({ capacity: 2 });
  await a.send(1);
  await a.send(2);
  const third = a.send(3);
  // Nothing has been received, so no room can have been made.
  assert.equal(await stateOf(third), "pending");
  assert.equal(await b.receive(), 1);
  await third;
  assert.equal(await b.receive(), 2);
  assert.equal(await b.receive(), 3);
  a.close();
  b.close();
});

Deno.test("PipeEnd.send() aborted while waiting sends nothing", async () => {
  const [a, b] = pipe<number>({ capacity: 1 });
  await a.send(1);
  const controller = new AbortController();
  const reason = new Error("Gave up");
  const waiting = a.send(2, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  assert.equal(await b.receive(), 1);
  await a.send(3);
  assert.equal(await b.receive(), 3);
  a.close();
  b.close();
});

Deno.test("PipeEnd.receive() aborted while waiting takes nothing", async () => {
  const [a, b] = pipe<number>();
  const controller = new AbortController();
  const waiting = b.receive({ signal: controller.signal });
  controller.abort(new Error("Gave up"));
  await assert.rejects(waiting, { message: "Gave up" });
  await a.send(1);
  assert.equal(await b.receive(), 1);
  a.close();
  b.close();
});

Deno.test("PipeEnd.send() rejects a value that cannot be cloned with a TypeError naming it", async () => {
  const [a, b] = pipe<unknown>({ capacity: 1 });
  await assert.rejects(a.send(() => 1), (error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /a function/);
    return true;
  });
  await a.send("ok");
  // The waiting path checks too.
  await assert.rejects(a.send(Symbol("s")), TypeError);
  assert.equal(await b.receive(), "ok");
  a.close();
  b.close();
});

Deno.test("PipeEnd cannot be passed twice, nor after it was used, nor used after it was passed", async () => {
  const [a, b] = pipe<number>();
  const port = toWire(b);
  assert.throws(() => toWire(b), TypeError);
  await assert.rejects(b.send(1), TypeError);
  await assert.rejects(b.receive(), TypeError);
  assert.throws(() => b.close(), TypeError);
  b[Symbol.dispose](); // a no-op for a passed end
  await a.send(1);
  assert.throws(() => toWire(a), TypeError);
  a.close();
  port.close();
});

Deno.test("pipe() rejects bad options and PipeEnd cannot be constructed directly", () => {
  assert.throws(() => pipe({ capacity: 0 }), RangeError);
  assert.throws(() => pipe({ capacity: 1.5 }), RangeError);
  assert.throws(
    () => pipe({ capacity: "1" as unknown as number }),
    TypeError,
  );
  assert.throws(() => pipe(5 as unknown as object), TypeError);
  assert.throws(() => new PipeEnd(), TypeError);
  const [a, b] = pipe({ capacity: Infinity });
  assert.equal(a.capacity, Infinity);
  a.close();
  b.close();
});

// ---- across workers --------------------------------------------------------

type End<S, R = S> = PipeEnd<S, R>;

Deno.test("pipe() carries values both ways between main and a worker", async () => {
  await using pools = soloPools(1);
  const [here, there] = pipe<number>({ capacity: 2 });
  const task = pools[0]!.run(async (end: End<number>) => {
    let total = 0;
    for await (const value of end) {
      total += value;
      await end.send(total);
    }
    return total;
  }, [there]);
  const totals: number[] = [];
  for (let i = 1; i <= 10; i++) {
    await here.send(i);
    totals.push(await here.receive());
  }
  here.close();
  assert.deepEqual(totals, [1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
  assert.equal(await task, 55);
});

Deno.test("pipe() connects two workers directly, both ways, and the close reaches the other worker", async () => {
  await using pools = soloPools(2);
  const [a, b] = pipe<string>({ capacity: 1 });
  const asker = pools[0]!.run(async (end: End<string>) => {
    const answers: string[] = [];
    for (const question of ["one", "two", "three"]) {
      await end.send(question);
      answers.push(await end.receive());
    }
    end.close();
    return answers;
  }, [a]);
  const answerer = pools[1]!.run(async (end: End<string>) => {
    let count = 0;
    for await (const question of end) {
      await end.send(question.toUpperCase());
      count++;
    }
    return count;
  }, [b]);
  assert.deepEqual(await asker, ["ONE", "TWO", "THREE"]);
  assert.equal(await answerer, 3);
});

Deno.test("pipe() end closed in a worker: main drains what it sent, then sees the close", async () => {
  await using pools = soloPools(1);
  const [here, there] = pipe<string>();
  const sender = pools[0]!.run(async (end: End<string>) => {
    await end.send("Hello from the sender!");
    end.close(new Error("Bye"));
  }, [there]);
  await sender;
  assert.equal(await here.receive(), "Hello from the sender!");
  await assert.rejects(here.receive(), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal((error.cause as Error).message, "Bye");
    return true;
  });
});

Deno.test("pipe() end whose worker dies is seen as closed with a WorkerCrashedError cause", async () => {
  await using pools = soloPools(1);
  const [here, there] = pipe<string>();
  const receiving = here.receive();
  const doomed = pools[0]!.run((end: End<string>) => {
    void end;
    self.close();
    return new Promise(() => {});
  }, [there]);
  await assert.rejects(doomed, WorkerCrashedError);
  await assert.rejects(receiving, (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.ok(error.cause instanceof WorkerCrashedError);
    return true;
  });
  assert.equal(here.closed, true);
  here.close();
});

Deno.test("pipe() end in a worker rejects a value that cannot be cloned with a TypeError naming it", async () => {
  await using pools = soloPools(1);
  const [here, there] = pipe<unknown>();
  const outcome = await pools[0]!.run(async (end: End<unknown>) => {
    try {
      await end.send(function secret() {});
      return "sent";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      end.close();
    }
  }, [there]);
  assert.match(outcome, /^TypeError: .*a function named "secret"/);
  await assert.rejects(here.receive(), ChannelClosedError);
});
