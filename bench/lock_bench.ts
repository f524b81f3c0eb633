// Copyright the @seed/concurrency authors. MIT license.
// Lock beside async-mutex's Mutex, on the same machine in the same run. Read
// the results as ratios within a group ("x faster than async-mutex").
//
//   deno bench -A bench/lock_bench.ts
//
// Floors, for reading the absolute numbers: a loop of bare
// `await Promise.resolve()` is the cost of the `await` every acquire pays,
// and a loop of `using` over a trivial disposable is what the `using` form
// adds on this Deno version.
import { Mutex } from "async-mutex";
import { Lock } from "../sync/lock.ts";

const OPS = 1_000_000;
const TASKS = 100;
const PER_TASK = 10_000;
const UNCONTENDED = "Lock uncontended (1,000,000 acquire/release)";
const CONTENDED = "Lock contended (100 tasks x 10,000)";
// Each iteration runs a million operations (~0.1 s or more): a few suffice.
// async-mutex takes over a second per iteration, so it gets fewer.
const HINTS = { n: 10, warmup: 3 } as const;
const SLOW_HINTS = { n: 4, warmup: 1 } as const;

// ---- uncontended: one task, acquire then release, 1,000,000 times -----------

Deno.bench({
  name: "async-mutex: acquire() + release()",
  group: UNCONTENDED,
  baseline: true,
  ...SLOW_HINTS,
  async fn() {
    const mutex = new Mutex();
    for (let i = 0; i < OPS; i++) {
      const release = await mutex.acquire();
      release();
    }
  },
});

Deno.bench({
  name: "async-mutex: runExclusive()",
  group: UNCONTENDED,
  ...SLOW_HINTS,
  async fn() {
    const mutex = new Mutex();
    let count = 0;
    const increment = () => {
      count++;
    };
    for (let i = 0; i < OPS; i++) await mutex.runExclusive(increment);
    if (count !== OPS) throw new Error(`Expected ${OPS}: received ${count}`);
  },
});

Deno.bench({
  name: "Lock: acquire() + guard.release()",
  group: UNCONTENDED,
  ...HINTS,
  async fn() {
    const lock = new Lock();
    for (let i = 0; i < OPS; i++) {
      const guard = await lock.acquire();
      guard.release();
    }
  },
});

Deno.bench({
  name: "Lock: using _ = await acquire()",
  group: UNCONTENDED,
  ...HINTS,
  async fn() {
    const lock = new Lock();
    for (let i = 0; i < OPS; i++) {
      using _ = await lock.acquire();
    }
  },
});

Deno.bench({
  name: "Lock: run()",
  group: UNCONTENDED,
  ...HINTS,
  async fn() {
    const lock = new Lock();
    let count = 0;
    const increment = () => {
      count++;
    };
    for (let i = 0; i < OPS; i++) await lock.run(increment);
    if (count !== OPS) throw new Error(`Expected ${OPS}: received ${count}`);
  },
});

// Floors: what the loop costs with no lock at all.

Deno.bench({
  name: "floor: await Promise.resolve()",
  group: UNCONTENDED,
  ...HINTS,
  async fn() {
    for (let i = 0; i < OPS; i++) await Promise.resolve();
  },
});

const trivial: Disposable = { [Symbol.dispose]() {} };

Deno.bench({
  name: "floor: using _ = trivial disposable (no await)",
  group: UNCONTENDED,
  ...HINTS,
  fn() {
    for (let i = 0; i < OPS; i++) {
      using _ = trivial;
    }
  },
});

Deno.bench({
  name: "floor: await Promise.resolve() + using _ = trivial",
  group: UNCONTENDED,
  ...HINTS,
  async fn() {
    for (let i = 0; i < OPS; i++) {
      using _ = await Promise.resolve(trivial);
    }
  },
});

// ---- contended: 100 tasks share one lock and one counter --------------------
//
// Every 1,024th critical section yields between reading and writing the
// counter: a lock that does not exclude loses increments there, and the check
// after each iteration throws instead of reporting a fast time.

function check(counter: number): void {
  if (counter !== TASKS * PER_TASK) {
    throw new Error(
      `Lock failed to exclude: counter is ${counter}, expected ${
        TASKS * PER_TASK
      }`,
    );
  }
}

Deno.bench({
  name: "async-mutex: acquire() + release()",
  group: CONTENDED,
  baseline: true,
  ...SLOW_HINTS,
  async fn() {
    const mutex = new Mutex();
    let counter = 0;
    const task = async () => {
      for (let i = 0; i < PER_TASK; i++) {
        const release = await mutex.acquire();
        const seen = counter;
        if ((i & 1023) === 0) await null;
        counter = seen + 1;
        release();
      }
    };
    const tasks = new Array<Promise<void>>(TASKS);
    for (let t = 0; t < TASKS; t++) tasks[t] = task();
    await Promise.all(tasks);
    check(counter);
  },
});

Deno.bench({
  name: "Lock: acquire() + guard.release()",
  group: CONTENDED,
  ...HINTS,
  async fn() {
    const lock = new Lock();
    let counter = 0;
    const task = async () => {
      for (let i = 0; i < PER_TASK; i++) {
        const guard = await lock.acquire();
        const seen = counter;
        if ((i & 1023) === 0) await null;
        counter = seen + 1;
        guard.release();
      }
    };
    const tasks = new Array<Promise<void>>(TASKS);
    for (let t = 0; t < TASKS; t++) tasks[t] = task();
    await Promise.all(tasks);
    check(counter);
  },
});

Deno.bench({
  name: "Lock: using _ = await acquire()",
  group: CONTENDED,
  ...HINTS,
  async fn() {
    const lock = new Lock();
    let counter = 0;
    const task = async () => {
      for (let i = 0; i < PER_TASK; i++) {
        using _ = await lock.acquire();
        const seen = counter;
        if ((i & 1023) === 0) await null;
        counter = seen + 1;
      }
    };
    const tasks = new Array<Promise<void>>(TASKS);
    for (let t = 0; t < TASKS; t++) tasks[t] = task();
    await Promise.all(tasks);
    check(counter);
  },
});
