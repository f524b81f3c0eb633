// Copyright the @seed/concurrency authors. MIT license.
// The doorbell's two halves on one control block, in one thread: what a
// worker and the main thread each conclude when the other has moved. The
// halves across threads are exercised by pool_doorbell_test.ts and the
// storms.
import assert from "node:assert/strict";
import { ControlBlock } from "./_control.ts";
import { Doorbell, DoorbellWorker, NO_TASK } from "./_doorbell.ts";

function pair() {
  const control = new ControlBlock();
  return {
    main: new Doorbell(control, () => {}),
    worker: new DoorbellWorker(control),
  };
}

Deno.test("a worker that has read everything parks until its park ends; then no bell rings", () => {
  const { main, worker } = pair();
  main.willPost();
  worker.received();
  // Nothing is rung from this thread meanwhile: the park times out, and
  // the worker is awake again (a bell now would never be taken).
  assert.equal(worker.park(), NO_TASK);
  assert.equal(main.ring(7), false);
});

Deno.test("an announcement with no pool waiting says so, so that it is posted", () => {
  const { worker } = pair();
  assert.equal(worker.announce(), false);
});

Deno.test("a listening worker takes a bell rung before a message, before it counts the message", () => {
  const { main, worker } = pair();
  const rung: unknown[] = [];
  worker.listen((value) => rung.push(value));
  assert.equal(main.ring(5), true);
  main.willPost(); // the next message, after the bell in the pool's order
  assert.deepEqual(rung, []); // the waitAsync task has not run: same thread
  worker.received();
  assert.deepEqual(rung, [5]);
  // Taken once: the listen's own wake-up finds nothing more.
  worker.settle();
  assert.deepEqual(rung, [5]);
});

Deno.test("a listening worker is not rung once a message is posted to it", () => {
  const { main, worker } = pair();
  const rung: unknown[] = [];
  worker.listen((value) => rung.push(value));
  main.willPost();
  assert.equal(main.ring(5), false);
  worker.received();
  assert.deepEqual(rung, []);
});

Deno.test("a listening worker is handed the bell from its event loop", async () => {
  const { main, worker } = pair();
  // A pending Atomics.waitAsync does not keep Deno's event loop alive (a
  // worker's port does): this timer does, and is cleared at the end.
  const alive = setTimeout(() => {}, 60_000);
  const rung = Promise.withResolvers<unknown>();
  worker.listen(rung.resolve);
  assert.equal(main.ring(true), true);
  assert.equal(await rung.promise, true);
  // It counted the bell as a message: the next park may be rung again.
  assert.equal(main.ring(1.5), false); // awake, not parked or listening
  const again = Promise.withResolvers<unknown>();
  worker.listen(again.resolve);
  assert.equal(main.ring(1.5), true);
  assert.equal(await again.promise, 1.5);
  clearTimeout(alive);
});
