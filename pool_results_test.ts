// Copyright the @seed/concurrency authors. MIT license.
// When results reach their callers: never held back behind a long task on the
// same worker, even one of the same function that has always been quick.
import assert from "node:assert/strict";
import { THREADS_ONLY, WorkerPool } from "./_test_pool.ts";
import { flags, signal, until } from "./_test_atomics.ts";

/** Returns `x` (as an object if `boxed`); blocks first if given a gate. */
function job(
  x: number,
  boxed: boolean,
  gate?: Int32Array,
): number | { x: number } {
  if (gate !== undefined) {
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0, 20);
  }
  return boxed ? { x } : x;
}

for (const boxed of [false, true]) {
  const what = boxed ? "an object" : "a number";
  Deno.test(
    `a quick task's result (${what}) reaches its caller while a long task of the same function blocks its worker`,
    THREADS_ONLY,
    async () => {
      await using pool = new WorkerPool({ size: 1 });
      // Teach the worker that the function is quick.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => pool.run(job, [i, boxed])),
      );
      const gate = flags();
      const quick = pool.run(job, [7, boxed]);
      const blocker = pool.run(job, [8, boxed, gate]);
      try {
        assert.deepEqual(await quick, boxed ? { x: 7 } : 7);
        await until(gate, 1, 1);
        // Still blocked: the quick result did not wait for it.
        assert.equal(Atomics.load(gate, 0), 0);
      } finally {
        signal(gate, 0, 1);
      }
      assert.deepEqual(await blocker, boxed ? { x: 8 } : 8);
    },
  );
}

Deno.test("results in the ring survive their worker's death and are delivered", async () => {
  await using pool = new WorkerPool({ size: 1 });
  const quick = Array.from(
    { length: 50 },
    (_, i) => pool.run((x: number) => x, [i]),
  );
  const crash = pool.run(() => {
    // Dies at once, results still unannounced in the ring.
    Deno.exit(1);
  }).catch((e) => e);
  assert.deepEqual(
    await Promise.all(quick),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal((await crash).name, "WorkerCrashedError");
  assert.equal(pool.stats.failed, 1);
  assert.equal(pool.stats.completed, 50);
});
