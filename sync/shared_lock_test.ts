// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import { WorkerPool } from "../pool.ts";
import { reviveValues } from "../_wire_revive.ts";
import { pendingAsyncWaits } from "./_atomics.ts";
import { flushMicrotasks, type Probe, probe } from "./_test_util.ts";
import { SharedEvent } from "./shared_event.ts";
import { SharedLock, type SharedLockGuard } from "./shared_lock.ts";
import { SharedValue } from "./shared_value.ts";

function guardOf(box: { readonly current: Probe<SharedLockGuard> }) {
  assert.equal(box.current.state, "fulfilled");
  return (box.current as { value: SharedLockGuard }).value;
}

Deno.test("SharedLock.tryAcquire() takes a free lock and fails on a held one", () => {
  const lock = new SharedLock();
  assert.equal(lock.locked, false);
  const guard = lock.tryAcquire();
  assert.ok(guard !== undefined);
  assert.equal(lock.locked, true);
  assert.equal(lock.tryAcquire(), undefined);
  guard.release();
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock guard released twice releases once", async () => {
  const lock = new SharedLock();
  const first = await lock.acquire();
  first.release();
  const second = lock.tryAcquire();
  assert.ok(second !== undefined);
  first.release(); // must not release `second`'s hold
  first[Symbol.dispose]();
  assert.equal(lock.locked, true);
  second.release();
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock guard release throws when the lock is not held", () => {
  // A lock over memory this test controls, as a worker would revive it.
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const values: unknown[] = [{
    $seedWire: "SharedLock",
    data: { buffer: cells.buffer, byteOffset: 0 },
  }];
  return reviveValues(values, [[0]]).then(() => {
    const lock = values[0] as SharedLock;
    const guard = lock.tryAcquire()!;
    assert.equal(Atomics.load(cells, 0), 1, "the lock word is shared");
    Atomics.store(cells, 0, 0); // unlocked behind the guard's back
    assert.throws(() => guard.release(), {
      name: "TypeError",
      message: /^Cannot release SharedLock as it is not held/,
    });
    guard.release(); // later releases are no-ops
    assert.equal(lock.locked, false);
  });
});

Deno.test("SharedLock.acquire() resolves at once when the lock is free", async () => {
  const lock = new SharedLock();
  const acquiring = probe(lock.acquire());
  await flushMicrotasks();
  assert.equal(lock.locked, true);
  assert.equal(pendingAsyncWaits(), 0, "the fast path holds no keep-alive");
  guardOf(acquiring).release();
});

Deno.test("SharedLock.acquire() waits while the lock is held and gets it on release", async () => {
  const lock = new SharedLock();
  const holder = await lock.acquire();
  const acquiring = lock.acquire();
  const state = probe(acquiring);
  await flushMicrotasks();
  assert.equal(state.current.state, "pending");
  assert.equal(pendingAsyncWaits(), 1, "a keep-alive is held while waiting");
  holder.release();
  const guard = await acquiring;
  assert.equal(lock.locked, true);
  assert.equal(pendingAsyncWaits(), 0, "the keep-alive is gone");
  guard.release();
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock.acquire() with an aborted signal rejects with the reason even when free", async () => {
  const lock = new SharedLock();
  const reason = new Error("already aborted");
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock.acquire() aborted while waiting rejects with signal.reason and the next waiter gets the lock", async () => {
  const lock = new SharedLock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  const reason = new Error("gave up");
  // `first` waits on the lock word before `second`: if its abandoned wait
  // stayed registered, the release's single wake-up would be spent on it and
  // `second` would never wake.
  const first = probe(lock.acquire({ signal: controller.signal }));
  const second = lock.acquire();
  await flushMicrotasks();
  controller.abort(reason);
  await flushMicrotasks();
  assert.equal(first.current.state, "rejected");
  assert.equal((first.current as { reason: unknown }).reason, reason);
  assert.equal(pendingAsyncWaits(), 1, "only `second` still waits");
  holder.release();
  const guard = await second;
  assert.equal(lock.locked, true);
  guard.release();
  assert.equal(lock.locked, false);
  assert.equal(pendingAsyncWaits(), 0);
});

Deno.test("SharedLock.run() releases the lock when the function throws", async () => {
  const lock = new SharedLock();
  await assert.rejects(
    lock.run(() => {
      assert.equal(lock.locked, true);
      throw new RangeError("inside");
    }),
    RangeError,
  );
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock.run() does not call the function when aborted while waiting", async () => {
  const lock = new SharedLock();
  const holder = await lock.acquire();
  const controller = new AbortController();
  let called = false;
  const running = lock.run(() => {
    called = true;
  }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(running, { name: "AbortError" });
  assert.equal(called, false);
  holder.release();
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock.acquireSync() and runSync() throw on the main thread", () => {
  const lock = new SharedLock();
  assert.throws(() => lock.acquireSync(), {
    name: "TypeError",
    message:
      "Cannot acquire SharedLock synchronously on the main thread as it would block the event loop: use 'await lock.acquire()', or call it in a worker",
  });
  assert.throws(() => lock.runSync(() => assert.fail("not called")), TypeError);
  assert.equal(lock.locked, false);
});

Deno.test("SharedLock.acquireSync() rejects a bad timeoutMs", () => {
  const lock = new SharedLock();
  for (const timeoutMs of [-1, NaN]) {
    assert.throws(() => lock.acquireSync({ timeoutMs }), {
      name: "RangeError",
      message:
        /^Cannot acquire SharedLock as 'timeoutMs' must be a non-negative number or Infinity: received/,
    });
  }
  assert.throws(
    () => lock.acquireSync({ timeoutMs: "5" as unknown as number }),
    {
      name: "TypeError",
      message: /^Cannot acquire SharedLock as 'timeoutMs' must be a number/,
    },
  );
});

Deno.test("SharedLock excludes across workers", async (t) => {
  await using pool = new WorkerPool({ size: 2 });

  await t.step(
    "a worker's acquireSync() times out while main holds the lock, leaving it consistent",
    async () => {
      const lock = new SharedLock();
      const holder = await lock.acquire();
      const outcome = await pool.run((lock: SharedLock) => {
        try {
          lock.acquireSync({ timeoutMs: 0 });
          return "acquired";
        } catch (error) {
          return (error as DOMException).name;
        }
      }, [lock]);
      assert.equal(outcome, "TimeoutError");
      holder.release();
      assert.equal(lock.locked, false);
      const taken = await pool.run((lock: SharedLock) => {
        const guard = lock.acquireSync({ timeoutMs: 0 });
        guard.release();
        return true;
      }, [lock]);
      assert.equal(taken, true);
      assert.equal(lock.locked, false);
    },
  );

  await t.step(
    "main's async acquire() waits while a worker holds the lock",
    async () => {
      const lock = new SharedLock();
      const held = new SharedEvent();
      const go = new SharedEvent();
      const inside = new SharedValue("i32", 0);
      const worker = pool.run(
        (
          lock: SharedLock,
          held: SharedEvent,
          go: SharedEvent,
          inside: SharedValue<"i32">,
        ) => {
          const guard = lock.acquireSync();
          inside.value = 1;
          held.set();
          go.waitSync();
          inside.value = 2; // the last write of the critical section
          inside.value = 0;
          guard.release();
        },
        [lock, held, go, inside],
      );
      await held.wait();
      assert.equal(lock.locked, true);
      const acquiring = lock.acquire();
      const state = probe(acquiring);
      await flushMicrotasks();
      assert.equal(state.current.state, "pending", "main waits for the worker");
      assert.equal(inside.value, 1);
      go.set();
      const guard = await acquiring;
      assert.equal(inside.value, 0, "the worker left its section first");
      inside.value = 3;
      guard.release();
      await worker;
      assert.equal(inside.value, 3);
      assert.equal(lock.locked, false);
    },
  );

  await t.step(
    "an aborted main waiter does not keep a waiting worker from the lock",
    async () => {
      const lock = new SharedLock();
      const started = new SharedEvent();
      const order = new SharedValue("i32", 0);
      const holder = await lock.acquire();
      const controller = new AbortController();
      const abandoned = lock.acquire({ signal: controller.signal });
      const worker = pool.run(
        (lock: SharedLock, started: SharedEvent, order: SharedValue<"i32">) => {
          started.set();
          const guard = lock.acquireSync();
          const seen = order.value;
          guard.release();
          return seen;
        },
        [lock, started, order],
      );
      await started.wait();
      const reason = new Error("no longer needed");
      controller.abort(reason);
      await assert.rejects(abandoned, (error) => error === reason);
      order.value = 1; // written under the lock, before the worker can read
      holder.release();
      assert.equal(await worker, 1);
      assert.equal(lock.locked, false);
    },
  );

  await t.step(
    "main and two workers never overlap in the critical section",
    async () => {
      const n = 2_000;
      const lock = new SharedLock();
      const counter = new SharedValue("i32", 0);
      const inside = new SharedValue("i32", 0);
      const hammer = (
        lock: SharedLock,
        counter: SharedValue<"i32">,
        inside: SharedValue<"i32">,
        n: number,
      ) => {
        let overlaps = 0;
        for (let i = 0; i < n; i++) {
          const guard = lock.acquireSync();
          if (inside.exchange(1) !== 0) overlaps++;
          counter.value += 1;
          inside.value = 0;
          guard.release();
        }
        return overlaps;
      };
      const workers = [1, 2].map(() =>
        pool.run(hammer, [lock, counter, inside, n])
      );
      let mainOverlaps = 0;
      for (let i = 0; i < n; i++) {
        const guard = await lock.acquire();
        if (inside.exchange(1) !== 0) mainOverlaps++;
        counter.value += 1;
        await Promise.resolve(); // other tasks of this loop may run meanwhile
        inside.value = 0;
        guard.release();
      }
      assert.deepEqual(await Promise.all(workers), [0, 0]);
      assert.equal(mainOverlaps, 0);
      assert.equal(counter.value, 3 * n);
      assert.equal(lock.locked, false);
    },
  );
});

// ---- property: random acquire / tryAcquire / release / abort sequences ------

type Command =
  | { op: "acquire"; abortable: boolean }
  | { op: "tryAcquire" }
  | { op: "release"; pick: number; twice: boolean }
  | { op: "abort"; pick: number }
  | { op: "settle" };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("acquire" as const),
      abortable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "tryAcquire" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      pick: fc.nat({ max: 15 }),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("abort" as const),
      pick: fc.nat({ max: 15 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: "settle" as const }) },
);

interface Actor {
  observed: Probe<SharedLockGuard>;
  settled: Promise<unknown>;
  released: boolean;
  controller: AbortController | undefined;
  abortedWhilePending: boolean;
  reason: Error;
}

async function runScenario(commands: readonly Command[]): Promise<void> {
  const lock = new SharedLock();
  const actors: Actor[] = [];
  let overlaps = 0; // guards handed out while another was held

  const holders = () =>
    actors.filter((a) => a.observed.state === "fulfilled" && !a.released);
  const pending = () => actors.filter((a) => a.observed.state === "pending");
  const check = () => {
    const held = holders().length;
    assert.equal(overlaps, 0, "a guard is handed out only while none is held");
    assert.ok(held <= 1, "at most one holder");
    assert.equal(lock.locked, held === 1, "locked agrees with the holders");
    for (const actor of actors) {
      if (!actor.abortedWhilePending) continue;
      assert.equal(actor.observed.state, "rejected", "an aborted wait rejects");
      assert.equal(
        (actor.observed as { reason: unknown }).reason,
        actor.reason,
        "with signal.reason, unwrapped",
      );
    }
  };
  const track = (promise: Promise<SharedLockGuard>, actor: Actor) => {
    actor.settled = promise.then((guard) => {
      // Mutual exclusion at the moment the guard arrives.
      if (holders().length > 0) overlaps++;
      actor.observed = { state: "fulfilled", value: guard };
    }, (reason) => {
      actor.observed = { state: "rejected", reason };
    });
  };
  const newActor = (abortable: boolean): Actor => {
    const actor: Actor = {
      observed: { state: "pending" },
      settled: Promise.resolve(),
      released: false,
      controller: abortable ? new AbortController() : undefined,
      abortedWhilePending: false,
      reason: new Error(`abort ${actors.length}`),
    };
    actors.push(actor);
    return actor;
  };
  const release = (actor: Actor, twice: boolean) => {
    const guard = (actor.observed as { value: SharedLockGuard }).value;
    actor.released = true;
    guard.release();
    if (twice) guard[Symbol.dispose]();
  };
  // A real signal, not a sleep: with the lock free, one waiter must get it.
  const settleOne = async () => {
    const waiting = pending();
    if (waiting.length === 0 || holders().length > 0) return;
    await Promise.race(waiting.map((a) => a.settled));
  };

  for (const step of commands) {
    switch (step.op) {
      case "acquire": {
        const actor = newActor(step.abortable);
        const signal = actor.controller?.signal;
        track(lock.acquire(signal ? { signal } : {}), actor);
        break;
      }
      case "tryAcquire": {
        const free = holders().length === 0;
        const guard = lock.tryAcquire();
        // With waiters woken but not yet run, a try may win: no FIFO here.
        if (!free) assert.equal(guard, undefined, "no try while held");
        if (guard !== undefined) {
          const actor = newActor(false);
          track(Promise.resolve(guard), actor);
        }
        break;
      }
      case "release": {
        const candidates = holders();
        if (candidates.length === 0) break;
        release(candidates[step.pick % candidates.length]!, step.twice);
        break;
      }
      case "abort": {
        const candidates = pending().filter((a) => a.controller !== undefined);
        if (candidates.length === 0) break;
        const actor = candidates[step.pick % candidates.length]!;
        actor.abortedWhilePending = true;
        actor.controller!.abort(actor.reason);
        break;
      }
      case "settle":
        await settleOne();
        break;
    }
    await flushMicrotasks();
    check();
  }

  // Wind down: release every holder and serve every waiter.
  for (let round = 0; pending().length > 0 || holders().length > 0; round++) {
    assert.ok(round <= 2 * actors.length, "every waiter is served");
    for (const actor of holders()) release(actor, false);
    await settleOne();
    await flushMicrotasks();
    check();
  }
  assert.equal(lock.locked, false, "no lock leaked");
  assert.equal(pendingAsyncWaits(), 0, "no keep-alive leaked");
  const guard = lock.tryAcquire();
  assert.ok(guard !== undefined, "the next acquirer gets the lock");
  guard.release();
}

Deno.test("SharedLock keeps mutual exclusion and leaks nothing over random acquire, release and abort sequences", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 40 }), runScenario),
    { numRuns: 150 },
  );
});
