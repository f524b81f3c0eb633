// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import { behindLongMs, planSteal } from "./_balance.ts";
import type { WorkerHandle } from "./_worker_handle.ts";

function worker(backlog: number, lastProgressAt: number): WorkerHandle {
  return { state: "ready", backlog, lastProgressAt } as unknown as WorkerHandle;
}

Deno.test("planSteal takes half the backlog, rounded up, of the busiest worker", () => {
  const thief = worker(0, 0);
  const busy = worker(5, 0);
  const plan = planSteal(thief, [thief, worker(2, 0), busy], 3, 100, 0);
  assert.equal(plan?.victim, busy);
  assert.equal(plan?.want, 3);
  assert.equal(planSteal(thief, [thief, worker(0, 0)], 3, 100, 0), undefined);
});

Deno.test("planSteal with minSilentMs passes over workers that answered recently", () => {
  const thief = worker(0, 0);
  const answering = worker(6, 99); // answered 1 ms ago
  const stuck = worker(2, 50); // silent for 50 ms: behind a long task
  const minSilent = behindLongMs(3);
  assert.equal(minSilent, 6);
  const plan = planSteal(thief, [thief, answering, stuck], 3, 100, minSilent);
  assert.equal(plan?.victim, stuck);
  assert.equal(plan?.want, 1);
  assert.equal(behindLongMs(0.01), 1, "at least a millisecond");
});
