// Copyright the @seed/concurrency authors. MIT license.
import assert from "node:assert/strict";
import {
  behindLongMs,
  planSteal,
  STALL_MS,
  stalledOnChannels,
} from "./_balance.ts";
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

Deno.test("stalledOnChannels: only when tasks are queued, the pool is full, and every worker waits on a channel long", () => {
  const waiting = (state: string, waits: number, lastProgressAt: number) =>
    ({
      state,
      lastProgressAt,
      control: { waiting: () => waits },
    }) as unknown as WorkerHandle;
  const now = 10_000;
  const old = now - STALL_MS - 1;
  const stuck = [waiting("ready", 1, old), waiting("ready", 2, old)];
  assert.equal(stalledOnChannels(stuck, 2, 3, now), true);
  assert.equal(stalledOnChannels(stuck, 2, 0, now), false, "nothing queued");
  assert.equal(stalledOnChannels(stuck, 3, 3, now), false, "room to start");
  const busy = [waiting("ready", 1, old), waiting("ready", 0, old)];
  assert.equal(stalledOnChannels(busy, 2, 3, now), false, "one computes");
  const recent = [waiting("ready", 1, old), waiting("ready", 1, now - 5)];
  assert.equal(stalledOnChannels(recent, 2, 3, now), false, "one answered");
  const starting = [...stuck, waiting("starting", 0, now)];
  assert.equal(stalledOnChannels(starting, 3, 3, now), false);
});
