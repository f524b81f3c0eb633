// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  asCompleted,
  Future,
  type FutureController,
  type ReturnWhen,
  wait,
} from "./future.ts";
import { onFutureCancel, settleFuture } from "./_future_internals.ts";

/** A pending future with the controller that settles it. */
function deferred<T>(): { future: Future<T>; controller: FutureController<T> } {
  let controller!: FutureController<T>;
  const future = new Future<T>((c) => {
    controller = c;
  });
  return { future, controller };
}

/**
 * Whether `promise` has settled once the microtask queue has drained (a
 * zero-delay timer runs only after it). Used only to check that something has
 * *not* happened yet, never to wait for something to happen.
 */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

/**
 * Collects the next `count` errors reported as uncaught and keeps them from
 * failing the test run. Resolves once `count` have arrived.
 */
function catchUncaught(count: number): Promise<unknown[]> {
  const errors: unknown[] = [];
  return new Promise((resolve) => {
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      errors.push(event.error);
      if (errors.length === count) {
        globalThis.removeEventListener("error", onError);
        resolve(errors);
      }
    };
    globalThis.addEventListener("error", onError);
  });
}

/** An abort signal that counts its registered abort listeners. */
function countedSignal(controller: AbortController): {
  signal: AbortSignal;
  listeners: () => number;
} {
  const signal = controller.signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ) => {
    if (type === "abort") live.add(listener);
    add(type, listener, options);
  };
  signal.removeEventListener = (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ) => {
    if (type === "abort") live.delete(listener);
    remove(type, listener, options);
  };
  add("abort", () => live.clear());
  return { signal, listeners: () => live.size };
}

// Future: settling

Deno.test("Future settles once: the first of resolve, reject and cancel wins", async (t) => {
  await t.step("resolve then reject keeps the value", async () => {
    const { future, controller } = deferred<number>();
    controller.resolve(1);
    controller.reject(new Error("late"));
    assert.equal(future.state, "fulfilled");
    assert.equal(future.value, 1);
    assert.equal(future.error, undefined);
    assert.equal(await future, 1);
  });

  await t.step("reject then resolve keeps the error", async () => {
    const { future, controller } = deferred<number>();
    const error = new Error("first");
    controller.reject(error);
    controller.resolve(2);
    assert.equal(future.state, "rejected");
    assert.equal(future.error, error);
    await assert.rejects(Promise.resolve(future), (e) => e === error);
  });

  await t.step("resolve twice keeps the first value", () => {
    const { future, controller } = deferred<string>();
    controller.resolve("a");
    controller.resolve("b");
    assert.equal(future.value, "a");
  });

  await t.step("resolve after cancel is ignored", async () => {
    const { future, controller } = deferred<number>();
    const reason = new Error("stop");
    assert.equal(future.cancel(reason), true);
    controller.resolve(3);
    controller.reject(new Error("late"));
    assert.equal(future.state, "cancelled");
    assert.equal(future.error, reason);
    await assert.rejects(Promise.resolve(future), (e) => e === reason);
  });

  await t.step("settleFuture() reports whether it settled", () => {
    const future = new Future<number>();
    assert.equal(settleFuture(future, true, 5), true);
    assert.equal(settleFuture(future, false, new Error("late")), false);
    assert.equal(future.value, 5);
  });

  await t.step("settleFuture() rejects with the value when not ok", () => {
    const future = new Future<number>();
    const error = new Error("failed");
    assert.equal(settleFuture(future, false, error), true);
    assert.equal(future.state, "rejected");
    assert.equal(future.error, error);
  });
});

Deno.test("Future state, done, value and error describe each state", async (t) => {
  await t.step(
    "pending: done is false, value throws, error is undefined",
    () => {
      const future = new Future<number>();
      assert.equal(future.state, "pending");
      assert.equal(future.done, false);
      assert.equal(future.error, undefined);
      assert.throws(() => future.value, {
        name: "Error",
        message:
          "Cannot read the value of a pending future: await it or check 'done' first",
      });
    },
  );

  await t.step("fulfilled: value is the result, error is undefined", () => {
    const future = new Future<{ n: number }>((c) => c.resolve({ n: 1 }));
    assert.equal(future.state, "fulfilled");
    assert.equal(future.done, true);
    assert.deepEqual(future.value, { n: 1 });
    assert.equal(future.error, undefined);
  });

  await t.step(
    "fulfilled with undefined: value is undefined and does not throw",
    () => {
      const future = new Future<undefined>((c) => c.resolve(undefined));
      assert.equal(future.state, "fulfilled");
      assert.equal(future.value, undefined);
    },
  );

  await t.step(
    "rejected: value throws the error itself, error is the error",
    () => {
      const error = new RangeError("bad");
      const future = new Future<number>((c) => c.reject(error));
      assert.equal(future.state, "rejected");
      assert.equal(future.done, true);
      assert.equal(future.error, error);
      assert.throws(() => future.value, (e) => e === error);
    },
  );

  await t.step("rejected with a non-error: value throws that value", () => {
    const future = new Future<number>((c) => c.reject("plain"));
    assert.throws(() => future.value, (e) => e === "plain");
    assert.equal(future.error, "plain");
  });

  await t.step(
    "cancelled: value throws the reason, error is the reason",
    () => {
      const future = new Future<number>();
      const reason = { why: "shutdown" };
      future.cancel(reason);
      assert.equal(future.state, "cancelled");
      assert.equal(future.done, true);
      assert.equal(future.error, reason);
      assert.throws(() => future.value, (e) => e === reason);
    },
  );
});

Deno.test("new Future() rejects with what the executor throws", async (t) => {
  await t.step("an error thrown by the executor", async () => {
    const error = new TypeError("executor failed");
    const future = new Future<number>(() => {
      throw error;
    });
    assert.equal(future.state, "rejected");
    assert.equal(future.error, error);
    await assert.rejects(Promise.resolve(future), (e) => e === error);
  });

  await t.step("a throw after resolve does not change the result", () => {
    const future = new Future<number>((c) => {
      c.resolve(1);
      throw new Error("after");
    });
    assert.equal(future.state, "fulfilled");
    assert.equal(future.value, 1);
  });

  await t.step("no executor leaves the future pending", () => {
    assert.equal(new Future<number>().state, "pending");
  });
});

// Future: cancel

Deno.test("Future.cancel() cancels once and calls the canceller with the reason", async (t) => {
  await t.step("returns true once, then false", () => {
    const future = new Future<number>();
    assert.equal(future.cancel(), true);
    assert.equal(future.cancel(), false);
    assert.equal(future.state, "cancelled");
  });

  await t.step(
    "returns false for a fulfilled or rejected future and keeps its state",
    () => {
      const fulfilled = new Future<number>((c) => c.resolve(1));
      const rejected = new Future<number>((c) => c.reject(new Error("x")));
      assert.equal(fulfilled.cancel(), false);
      assert.equal(rejected.cancel(), false);
      assert.equal(fulfilled.state, "fulfilled");
      assert.equal(rejected.state, "rejected");
    },
  );

  await t.step("calls the canceller once, with the reason", () => {
    const calls: unknown[] = [];
    const future = new Future<number>((c) => c.onCancel((r) => calls.push(r)));
    const reason = new Error("enough");
    future.cancel(reason);
    future.cancel(new Error("again"));
    assert.deepEqual(calls, [reason]);
    assert.equal(calls[0], reason);
  });

  await t.step("calls the canceller set last by onFutureCancel()", () => {
    const calls: unknown[] = [];
    const future = new Future<number>();
    onFutureCancel(future, () => calls.push("replaced"));
    onFutureCancel(future, (r) => calls.push(r));
    future.cancel("why");
    assert.deepEqual(calls, ["why"]);
  });

  await t.step(
    "does not call the canceller of a future that settled first",
    () => {
      let called = false;
      const { future, controller } = deferred<number>();
      controller.onCancel(() => {
        called = true;
      });
      controller.resolve(1);
      assert.equal(future.cancel(), false);
      assert.equal(called, false);
    },
  );

  await t.step("calls only the last canceller set", () => {
    const calls: string[] = [];
    const future = new Future<number>((c) => {
      c.onCancel(() => calls.push("first"));
      c.onCancel(() => calls.push("second"));
    });
    future.cancel();
    assert.deepEqual(calls, ["second"]);
  });

  await t.step(
    "the default reason is a DOMException named AbortError",
    async () => {
      let received: unknown;
      const future = new Future<number>((c) =>
        c.onCancel((r) => (received = r))
      );
      future.cancel();
      assert.ok(future.error instanceof DOMException);
      assert.equal(future.error.name, "AbortError");
      assert.equal(received, future.error);
      await assert.rejects(
        Promise.resolve(future),
        (e) => e instanceof DOMException && e.name === "AbortError",
      );
    },
  );

  await t.step(
    "awaiting a cancelled future throws the reason itself",
    async () => {
      const future = new Future<number>();
      const reason = new Error("cancelled by test");
      future.cancel(reason);
      await assert.rejects(async () => await future, (e) => e === reason);
    },
  );

  await t.step(
    "a pending await rejects when the future is cancelled later",
    async () => {
      const future = new Future<number>();
      const awaiting = (async () => await future)();
      future.cancel("later");
      await assert.rejects(awaiting, (e) => e === "later");
    },
  );
});

// Future: onSettled

Deno.test("Future.onSettled() calls back for settled and later-settled futures", async (t) => {
  await t.step(
    "an already-settled future calls back at once with itself",
    () => {
      const future = new Future<number>((c) => c.resolve(1));
      const seen: Future<number>[] = [];
      future.onSettled((f) => seen.push(f));
      assert.equal(seen.length, 1);
      assert.equal(seen[0], future);
    },
  );

  await t.step(
    "a pending future calls back when it settles, in registration order",
    () => {
      const { future, controller } = deferred<number>();
      const seen: string[] = [];
      future.onSettled((f) => seen.push(`a:${f.state}`));
      future.onSettled((f) => seen.push(`b:${f.state}`));
      assert.deepEqual(seen, []);
      controller.reject(new Error("x"));
      assert.deepEqual(seen, ["a:rejected", "b:rejected"]);
    },
  );

  await t.step("a cancelled future calls back with state cancelled", () => {
    const future = new Future<number>();
    const seen: string[] = [];
    future.onSettled((f) => seen.push(f.state));
    future.cancel();
    assert.deepEqual(seen, ["cancelled"]);
  });

  await t.step("callbacks run once even if the future is settled again", () => {
    const { future, controller } = deferred<number>();
    let calls = 0;
    future.onSettled(() => calls++);
    controller.resolve(1);
    controller.resolve(2);
    future.cancel();
    assert.equal(calls, 1);
  });

  await t.step("a callback added by a callback runs at once", () => {
    const { future, controller } = deferred<number>();
    const seen: string[] = [];
    future.onSettled((f) => {
      seen.push("outer");
      f.onSettled(() => seen.push("inner"));
    });
    controller.resolve(1);
    assert.deepEqual(seen, ["outer", "inner"]);
  });
});

Deno.test("Future.onSettled() reports a throwing callback as uncaught and runs the others", async (t) => {
  await t.step("when the future settles later", async () => {
    const uncaught = catchUncaught(2);
    const { future, controller } = deferred<number>();
    const first = new Error("first callback");
    const third = new Error("third callback");
    const seen: string[] = [];
    future.onSettled(() => {
      throw first;
    });
    future.onSettled(() => seen.push("second"));
    future.onSettled(() => {
      throw third;
    });
    future.onSettled(() => seen.push("fourth"));
    controller.resolve(1);
    assert.deepEqual(seen, ["second", "fourth"]);
    assert.equal(future.value, 1);
    assert.deepEqual(await uncaught, [first, third]);
  });

  await t.step(
    "when the future has settled already (no synchronous throw)",
    async () => {
      const uncaught = catchUncaught(1);
      const future = new Future<number>((c) => c.resolve(1));
      const error = new Error("callback on settled future");
      assert.doesNotThrow(() =>
        future.onSettled(() => {
          throw error;
        })
      );
      const [reported] = await uncaught;
      assert.equal(reported, error);
    },
  );
});

// Future: no unhandled rejections

Deno.test("A rejected or cancelled future that nobody awaits is no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const { promise: controlSeen, resolve } = Promise.withResolvers<void>();
  const control = new Error("control rejection");
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
    if (event.reason === control) resolve();
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const rejected = new Future<number>((c) => c.reject(new Error("ignored")));
    const cancelled = new Future<number>();
    cancelled.cancel();
    const thrown = new Future<number>(() => {
      throw new Error("executor");
    });
    // A plain rejected promise created after the futures: once it is
    // reported, any unhandled rejection from the futures has been too.
    Promise.reject(control);
    await controlSeen;
    assert.deepEqual(unhandled, [control]);
    assert.equal(rejected.state, "rejected");
    assert.equal(cancelled.state, "cancelled");
    assert.equal(thrown.state, "rejected");
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});

// Future: then

Deno.test("Future.then() works with await and chaining", async (t) => {
  await t.step("await gives a value set before or after awaiting", async () => {
    assert.equal(await new Future<number>((c) => c.resolve(5)), 5);
    const { future, controller } = deferred<string>();
    const awaiting = (async () => await future)();
    controller.resolve("later");
    assert.equal(await awaiting, "later");
  });

  await t.step("then() chains like a promise", async () => {
    const future = new Future<number>((c) => c.resolve(2));
    const result = await future.then((n) => n * 3).then((n) => `${n}!`);
    assert.equal(result, "6!");
  });

  await t.step(
    "onrejected receives the error and its result continues the chain",
    async () => {
      const error = new Error("no");
      const future = new Future<number>((c) => c.reject(error));
      const recovered = await future.then(
        () => "fulfilled",
        (e) => (e === error ? "recovered" : "wrong error"),
      );
      assert.equal(recovered, "recovered");
    },
  );

  await t.step(
    "then() without onrejected returns a promise that rejects",
    async () => {
      const error = new Error("no");
      const future = new Future<number>((c) => c.reject(error));
      await assert.rejects(future.then((n) => n + 1), (e) => e === error);
    },
  );

  await t.step("every then() call sees the same result", async () => {
    const { future, controller } = deferred<number>();
    const a = future.then((n) => n);
    const b = future.then((n) => n + 1);
    controller.resolve(10);
    assert.deepEqual(await Promise.all([a, b, future]), [10, 11, 10]);
  });

  await t.step("Promise.resolve() adopts the future's result", async () => {
    const future = new Future<number>((c) => c.resolve(7));
    assert.equal(await Promise.resolve(future), 7);
  });
});

// asCompleted

/**
 * Collects what `asCompleted` yields. TypeScript types a `for await` variable
 * over thenables as their result; at run time it is the future.
 */
async function collect<T>(
  iterable: AsyncIterable<Future<T>>,
): Promise<Future<T>[]> {
  const out: Future<T>[] = [];
  for await (const future of iterable) out.push(future as Future<T>);
  return out;
}

Deno.test("asCompleted() yields futures in the order they settle", async (t) => {
  await t.step(
    "futures settled while iterating come in settle order",
    async () => {
      const ds = [0, 1, 2].map(() => deferred<number>());
      const it = asCompleted(ds.map((d) => d.future));
      const first = it.next();
      ds[1]!.controller.resolve(1);
      assert.equal((await first).value, ds[1]!.future);
      const second = it.next();
      ds[2]!.controller.reject(new Error("two"));
      assert.equal((await second).value, ds[2]!.future);
      const third = it.next();
      ds[0]!.future.cancel();
      assert.equal((await third).value, ds[0]!.future);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    },
  );

  await t.step(
    "futures settled before the first next() come in settle order",
    async () => {
      const ds = [0, 1, 2].map(() => deferred<number>());
      const iterable = asCompleted(ds.map((d) => d.future));
      ds[2]!.controller.resolve(2);
      ds[0]!.controller.resolve(0);
      ds[1]!.controller.resolve(1);
      const order = (await collect(iterable)).map((f) => f.value);
      assert.deepEqual(order, [2, 0, 1]);
    },
  );

  await t.step(
    "already-settled futures come first, in the given order",
    async () => {
      const pending = deferred<string>();
      const b = new Future<string>((c) => c.resolve("b"));
      const a = new Future<string>((c) => c.reject(new Error("a")));
      const c = new Future<string>((c) => c.resolve("c"));
      const iterable = asCompleted([b, pending.future, a, c]);
      pending.controller.resolve("late");
      const yielded = await collect(iterable);
      assert.deepEqual(yielded, [b, a, c, pending.future]);
    },
  );

  await t.step("a future given twice is yielded once", async () => {
    const a = new Future<number>((c) => c.resolve(1));
    const b = deferred<number>();
    const iterable = asCompleted([a, b.future, a, b.future]);
    b.controller.resolve(2);
    assert.deepEqual(await collect(iterable), [a, b.future]);
  });

  await t.step("no futures ends at once", async () => {
    const it = asCompleted<number>([]);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  await t.step("ends after the last future, and stays ended", async () => {
    const a = new Future<number>((c) => c.resolve(1));
    const it = asCompleted([a]);
    assert.deepEqual(await it.next(), { value: a, done: false });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  await t.step("it is its own async iterator", () => {
    const it = asCompleted<number>([]);
    assert.equal(it[Symbol.asyncIterator](), it);
  });

  await t.step(
    "a next() stays pending while no future has settled",
    async () => {
      const d = deferred<number>();
      const it = asCompleted([d.future]);
      const next = it.next();
      assert.equal(await settledYet(next), false);
      d.controller.resolve(1);
      assert.deepEqual(await next, { value: d.future, done: false });
    },
  );
});

Deno.test("asCompleted() yields any settle order, however settling and next() interleave", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }).chain((n) =>
        fc.record({
          order: fc.shuffledSubarray([...Array(n).keys()], {
            minLength: n,
            maxLength: n,
          }),
          // Per step: settle before calling next(), or while it waits.
          settleFirst: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
          // Per future: 0 resolve, 1 reject, 2 cancel.
          how: fc.array(fc.integer({ min: 0, max: 2 }), {
            minLength: n,
            maxLength: n,
          }),
        })
      ),
      async ({ order, settleFirst, how }) => {
        const ds = order.map(() => deferred<number>());
        const settle = (i: number) => {
          const { future, controller } = ds[i]!;
          if (how[i] === 0) controller.resolve(i);
          else if (how[i] === 1) controller.reject(new Error(`${i}`));
          else future.cancel(i);
        };
        const it = asCompleted(ds.map((d) => d.future));
        const yielded: Future<number>[] = [];
        for (const [step, i] of order.entries()) {
          let result: IteratorResult<Future<number>>;
          if (settleFirst[step]) {
            settle(i);
            result = await it.next();
          } else {
            const next = it.next();
            settle(i);
            result = await next;
          }
          assert.equal(result.done, false);
          yielded.push(result.value);
        }
        assert.deepEqual(yielded, order.map((i) => ds[i]!.future));
        assert.equal((await it.next()).done, true);
      },
    ),
  );
});

Deno.test("asCompleted() stops on return() (break)", async (t) => {
  await t.step(
    "break ends the iteration and later settles are not yielded",
    async () => {
      const a = new Future<number>((c) => c.resolve(1));
      const b = new Future<number>((c) => c.resolve(2));
      const c = deferred<number>();
      const it = asCompleted([a, b, c.future]);
      const seen: Future<number>[] = [];
      for await (const future of it) {
        seen.push(future as unknown as Future<number>);
        break;
      }
      c.controller.resolve(3);
      assert.deepEqual(seen, [a]);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    },
  );

  await t.step("return() resolves a waiting next() as done", async () => {
    const d = deferred<number>();
    const it = asCompleted([d.future]);
    const next = it.next();
    assert.deepEqual(await it.return!(), { value: undefined, done: true });
    assert.deepEqual(await next, { value: undefined, done: true });
    d.controller.resolve(1);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  await t.step("return() removes the abort listener", async () => {
    const controller = new AbortController();
    const { signal, listeners } = countedSignal(controller);
    const it = asCompleted([deferred<number>().future], { signal });
    assert.equal(listeners(), 1);
    await it.return!();
    assert.equal(listeners(), 0);
  });
});

Deno.test("asCompleted() serves several waiting next() calls in call order", async () => {
  const ds = [0, 1].map(() => deferred<number>());
  const it = asCompleted(ds.map((d) => d.future));
  const first = it.next();
  const second = it.next();
  const third = it.next();
  ds[1]!.controller.resolve(1);
  ds[0]!.controller.resolve(0);
  assert.deepEqual(await first, { value: ds[1]!.future, done: false });
  assert.deepEqual(await second, { value: ds[0]!.future, done: false });
  assert.deepEqual(await third, { value: undefined, done: true });
});

Deno.test("asCompleted() with a signal rejects with signal.reason", async (t) => {
  await t.step(
    "aborting rejects the waiting next() with the reason itself",
    async () => {
      const controller = new AbortController();
      const { signal, listeners } = countedSignal(controller);
      const d = deferred<number>();
      const it = asCompleted([d.future], { signal });
      const next = it.next();
      const reason = new Error("stop waiting");
      controller.abort(reason);
      await assert.rejects(next, (e) => e === reason);
      assert.equal(listeners(), 0);
      assert.equal(d.future.state, "pending", "the future is not cancelled");
      d.controller.resolve(1);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    },
  );

  await t.step("aborting rejects every waiting next()", async () => {
    const controller = new AbortController();
    const it = asCompleted([deferred<number>().future], {
      signal: controller.signal,
    });
    const nexts = [it.next(), it.next()];
    controller.abort("why");
    for (const next of nexts) await assert.rejects(next, (e) => e === "why");
  });

  await t.step(
    "a pre-aborted signal rejects the first next() with the reason",
    async () => {
      const reason = new Error("already aborted");
      const it = asCompleted([new Future<number>((c) => c.resolve(1))], {
        signal: AbortSignal.abort(reason),
      });
      await assert.rejects(it.next(), (e) => e === reason);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    },
  );

  await t.step(
    "aborting between next() calls rejects the following next()",
    async () => {
      const controller = new AbortController();
      const a = new Future<number>((c) => c.resolve(1));
      const b = new Future<number>((c) => c.resolve(2));
      const it = asCompleted([a, b], { signal: controller.signal });
      assert.deepEqual(await it.next(), { value: a, done: false });
      controller.abort("between");
      await assert.rejects(it.next(), (e) => e === "between");
    },
  );

  await t.step(
    "the listener is removed once all futures are yielded",
    async () => {
      const controller = new AbortController();
      const { signal, listeners } = countedSignal(controller);
      const d = deferred<number>();
      const iterable = asCompleted([d.future], { signal });
      assert.equal(listeners(), 1);
      d.controller.resolve(1);
      assert.deepEqual(await collect(iterable), [d.future]);
      assert.equal(listeners(), 0);
    },
  );
});

// wait

Deno.test("wait() returns when its returnWhen condition holds", async (t) => {
  await t.step(
    "all-completed (the default) waits for every future",
    async () => {
      const ds = [0, 1, 2].map(() => deferred<number>());
      const waiting = wait(ds.map((d) => d.future));
      ds[0]!.controller.resolve(0);
      ds[1]!.controller.reject(new Error("one"));
      assert.equal(await settledYet(waiting), false);
      ds[2]!.future.cancel();
      const { done, pending } = await waiting;
      assert.deepEqual(done, new Set(ds.map((d) => d.future)));
      assert.equal(pending.size, 0);
    },
  );

  await t.step("first-completed returns when any future settles", async () => {
    const ds = [0, 1, 2].map(() => deferred<number>());
    const waiting = wait(ds.map((d) => d.future), {
      returnWhen: "first-completed",
    });
    ds[1]!.controller.resolve(1);
    ds[2]!.controller.resolve(2); // after the return: not in `done`
    const { done, pending } = await waiting;
    assert.deepEqual(done, new Set([ds[1]!.future]));
    assert.deepEqual(pending, new Set([ds[0]!.future, ds[2]!.future]));
  });

  await t.step(
    "first-completed returns at once for an already-settled future",
    async () => {
      const settled = new Future<number>((c) => c.reject(new Error("x")));
      const other = deferred<number>();
      const { done, pending } = await wait([other.future, settled], {
        returnWhen: "first-completed",
      });
      assert.deepEqual(done, new Set([settled]));
      assert.deepEqual(pending, new Set([other.future]));
    },
  );

  await t.step("first-error returns on the first rejected future", async () => {
    const ds = [0, 1, 2].map(() => deferred<number>());
    const waiting = wait(ds.map((d) => d.future), {
      returnWhen: "first-error",
    });
    ds[0]!.controller.resolve(0);
    ds[1]!.controller.reject(new Error("one"));
    ds[2]!.controller.resolve(2);
    const { done, pending } = await waiting;
    assert.deepEqual(done, new Set([ds[0]!.future, ds[1]!.future]));
    assert.deepEqual(pending, new Set([ds[2]!.future]));
  });

  await t.step(
    "first-error returns on the first cancelled future",
    async () => {
      const ds = [0, 1].map(() => deferred<number>());
      const waiting = wait(ds.map((d) => d.future), {
        returnWhen: "first-error",
      });
      ds[1]!.future.cancel();
      ds[0]!.controller.resolve(0);
      const { done, pending } = await waiting;
      assert.deepEqual(done, new Set([ds[1]!.future]));
      assert.deepEqual(pending, new Set([ds[0]!.future]));
    },
  );

  await t.step(
    "first-error returns at once for an already-rejected future",
    async () => {
      const fulfilled = new Future<number>((c) => c.resolve(1));
      const rejected = new Future<number>((c) => c.reject(new Error("x")));
      const other = deferred<number>();
      const { done, pending } = await wait(
        [fulfilled, other.future, rejected],
        {
          returnWhen: "first-error",
        },
      );
      assert.deepEqual(done, new Set([fulfilled, rejected]));
      assert.deepEqual(pending, new Set([other.future]));
    },
  );

  await t.step("first-error returns when all fulfil", async () => {
    const ds = [0, 1].map(() => deferred<number>());
    const waiting = wait(ds.map((d) => d.future), {
      returnWhen: "first-error",
    });
    ds[0]!.controller.resolve(0);
    assert.equal(await settledYet(waiting), false);
    ds[1]!.controller.resolve(1);
    const { done, pending } = await waiting;
    assert.deepEqual(done, new Set(ds.map((d) => d.future)));
    assert.equal(pending.size, 0);
  });

  await t.step("a future given twice counts once", async () => {
    const d = deferred<number>();
    const waiting = wait([d.future, d.future]);
    d.controller.resolve(1);
    const { done, pending } = await waiting;
    assert.deepEqual(done, new Set([d.future]));
    assert.equal(pending.size, 0);
  });

  await t.step("wait() never rejects because a future failed", async () => {
    const rejected = new Future<number>((c) => c.reject(new Error("x")));
    const { done } = await wait([rejected]);
    assert.deepEqual(done, new Set([rejected]));
  });
});

Deno.test("wait() on no futures resolves with two empty sets in every mode", async () => {
  for (
    const returnWhen of [
      "first-completed",
      "first-error",
      "all-completed",
    ] as const
  ) {
    const { done, pending } = await wait<number>([], { returnWhen });
    assert.equal(done.size, 0, returnWhen);
    assert.equal(pending.size, 0, returnWhen);
  }
});

Deno.test("wait() rejects with TypeError for an unknown returnWhen", async () => {
  await assert.rejects(
    wait([new Future<number>()], {
      returnWhen: "first-success" as ReturnWhen,
    }),
    {
      name: "TypeError",
      message:
        'Cannot wait as \'returnWhen\' must be "first-completed", "first-error" or "all-completed": received first-success',
    },
  );
});

Deno.test("wait() with a signal rejects with signal.reason", async (t) => {
  await t.step(
    "aborting while waiting rejects with the reason itself",
    async () => {
      const controller = new AbortController();
      const { signal, listeners } = countedSignal(controller);
      const d = deferred<number>();
      const waiting = wait([d.future], { signal });
      assert.equal(listeners(), 1);
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(waiting, (e) => e === reason);
      assert.equal(d.future.state, "pending", "the future is not cancelled");
    },
  );

  await t.step(
    "a pre-aborted signal rejects, even with settled futures",
    async () => {
      const reason = new Error("already");
      await assert.rejects(
        wait([new Future<number>((c) => c.resolve(1))], {
          signal: AbortSignal.abort(reason),
        }),
        (e) => e === reason,
      );
    },
  );

  await t.step("the listener is removed when wait() returns", async () => {
    const controller = new AbortController();
    const { signal, listeners } = countedSignal(controller);
    const d = deferred<number>();
    const waiting = wait([d.future], { signal });
    d.controller.resolve(1);
    await waiting;
    assert.equal(listeners(), 0);
    controller.abort("late");
    const { done } = await waiting;
    assert.deepEqual(done, new Set([d.future]));
  });
});
