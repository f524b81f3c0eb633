// Copyright the @seed/concurrency authors. MIT license.

import assert from "node:assert/strict";
import {
  heldLifelines,
  holdLifeline,
  LIFELINE_PREFIX,
  newLifelineName,
  watchLifeline,
} from "./_lifeline.ts";
import type { HideReport } from "./_test_lifeline_worker.ts";

/** Resolves when the lifeline `name` is free. */
function ended(name: string, signal = new AbortController().signal) {
  return new Promise<void>((resolve) => watchLifeline(name, signal, resolve));
}

/**
 * Starts `_test_lifeline_worker.ts` with the scenario `name` and returns the
 * worker with its one report.
 */
async function startWorker<R>(name: string): Promise<[Worker, R]> {
  const worker = new Worker(
    new URL("./_test_lifeline_worker.ts", import.meta.url),
    { type: "module", name },
  );
  const report = await new Promise<R>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as R);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
  return [worker, report];
}

Deno.test("newLifelineName() makes a new name under the prefix each time", () => {
  const a = newLifelineName("pipe");
  const b = newLifelineName("pipe");
  assert.ok(a.startsWith(`${LIFELINE_PREFIX}pipe/`), a);
  assert.notEqual(a, b);
});

Deno.test("holdLifeline() holds the lock until released, and watchLifeline() then sees it free", async () => {
  const name = newLifelineName("test");
  const release = await holdLifeline(name);
  let free = false;
  const watched = ended(name).then(() => (free = true));
  assert.deepEqual(await heldLifelines([name]), new Set([name]));
  assert.equal(free, false); // Still held: the watch cannot have been granted.
  release();
  release(); // A second call does nothing.
  await watched;
  assert.equal(free, true);
});

Deno.test("heldLifelines() reports only the given names that are held", async () => {
  const [held, free] = [newLifelineName("test"), newLifelineName("test")];
  const other = newLifelineName("test");
  const releases = await Promise.all([holdLifeline(held), holdLifeline(other)]);
  try {
    assert.deepEqual(await heldLifelines([held, free]), new Set([held]));
    assert.deepEqual(await heldLifelines([]), new Set());
  } finally {
    for (const release of releases) release();
  }
});

Deno.test("watchLifeline() never calls onEnd once its signal aborted", async () => {
  const name = newLifelineName("test");
  const release = await holdLifeline(name);
  const stop = new AbortController();
  let called = false;
  watchLifeline(name, stop.signal, () => (called = true));
  stop.abort();
  // Lock requests are granted in order: once a later watch sees the lifeline
  // free, the aborted one would have been called already.
  const later = ended(name);
  release();
  await later;
  assert.equal(called, false);
});

Deno.test("A worker's lifeline is freed when the worker ends", async () => {
  const [worker, name] = await startWorker<string>("hold");
  try {
    assert.deepEqual(await heldLifelines([name]), new Set([name]));
    const watched = ended(name);
    worker.terminate();
    await watched; // Granted: the worker's hold has ended.
  } finally {
    worker.terminate();
  }
});

Deno.test("hideLifelines() hides lifelines from navigator.locks in a worker, while _lifeline.ts keeps working", async () => {
  const [worker, report] = await startWorker<HideReport>("hide");
  try {
    // Task code saw the other lock, but no lifeline, held or pending.
    assert.ok(report.queried.includes(report.plain), String(report.queried));
    assert.deepEqual(
      report.queried.filter((name) => name.startsWith(LIFELINE_PREFIX)),
      [],
    );
    // Task code could neither take, steal nor queue for one.
    assert.deepEqual(report.requestErrors, [
      "NotAllowedError",
      "NotAllowedError",
      "NotAllowedError",
      "NotAllowedError",
    ]);
    // The library still could.
    assert.equal(report.heldSeen, true);
    assert.equal(report.watchEnded, true);
    // Hiding is local to that worker: this thread still sees its lifeline.
    assert.deepEqual(
      await heldLifelines([report.lifeline]),
      new Set([report.lifeline]),
    );
  } finally {
    worker.terminate();
  }
});
