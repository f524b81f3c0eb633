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
