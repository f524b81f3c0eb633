// Copyright the @seed/concurrency authors. MIT license.
// The imap bodies of pool_regression_test.ts: close() during an endless
// iteration, a source that pauses, a signal that aborts while imap waits for
// its source, and an item that cannot be cloned.
import assert from "node:assert/strict";
import { WorkerPool } from "../pool.ts";
import { PoolClosedError } from "../errors/pool_closed_error.ts";
import { until } from "../_test_atomics.ts";
import { expectedValue } from "./storm_tasks.ts";
import {
  assertNoneRanTwice,
  counters,
  dispose,
  item,
  range,
  stormPool,
  watchdog,
} from "./storm_harness.ts";

const value = (index: number) => expectedValue(index);

/** close() while an endless imap is iterated. */
export async function closeEndsEndlessImap(): Promise<void> {
  const pool = stormPool({ size: 2 });
  const runs = counters(100_000);
  function* endless() {
    for (let i = 0; i < runs.length; i++) yield item(runs, i, "ok");
  }
  const yielded: unknown[] = [];
  let closing: Promise<void> | undefined;
  try {
    const iterating = (async () => {
      for await (
        const v of pool.imap("step", endless(), {
          chunkSize: 1,
          maxInFlight: 4,
        })
      ) {
        yielded.push(v);
        if (yielded.length === 10) closing = pool.close();
      }
    })();
    const error = await watchdog(
      iterating.then(() => "ended without an error", (e) => e),
      "the imap iteration after close()",
      () => ({ yielded: yielded.length, stats: pool.stats }),
    );
    assert.ok(error instanceof PoolClosedError, String(error));
    assert.deepEqual(yielded, range(0, yielded.length).map(value));
    const ran = [...runs].filter((n) => n > 0).length;
    assert.equal(yielded.length, ran, "every task that ran was yielded");
    await watchdog(closing!, "close()");
    assertNoneRanTwice(runs);
  } finally {
    await dispose(pool);
  }
}

/** imap over an async source that pauses after three items. */
export async function imapYieldsWhileSourcePauses(): Promise<void> {
  const pool = stormPool({ size: 2 });
  const runs = counters(4);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  async function* source() {
    for (let i = 0; i < 3; i++) yield item(runs, i, "ok");
    await released;
    yield item(runs, 3, "ok");
  }
  try {
    const iterator = pool.imap("step", source(), { chunkSize: 1 });
    const first: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      first.push(
        (await watchdog(
          iterator.next(),
          `result ${i} while the source pauses`,
          () => pool.stats,
        )).value,
      );
    }
    assert.deepEqual(first, range(0, 3).map(value));
    release();
    const rest = await watchdog(Array.fromAsync(iterator), "the rest");
    assert.deepEqual(rest, [value(3)]);
    await watchdog(pool.close(), "close()");
  } finally {
    release();
    await dispose(pool);
  }
}

/** imap whose signal aborts while it waits for its source. */
export async function imapSignalInterruptsSourceWait(): Promise<void> {
  const pool = stormPool({ size: 1 });
  const runs = counters(2);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  async function* source() {
    yield item(runs, 0, "ok");
    await released;
  }
  try {
    const controller = new AbortController();
    const iterator = pool.imap("step", source(), {
      chunkSize: 1,
      signal: controller.signal,
    });
    const next = iterator.next();
    await watchdog(until(runs, 0, 1), "the first item to run");
    const reason = new Error("stop reading");
    controller.abort(reason);
    let outcome = await watchdog(
      next.catch((e) => e),
      "the iteration after the abort",
    );
    if (outcome?.value === value(0)) {
      outcome = await watchdog(
        iterator.next().catch((e) => e),
        "the next step after the abort",
      );
    }
    assert.equal(outcome, reason);
  } finally {
    release();
    await dispose(pool);
  }
}

/** imap over items one of which cannot be cloned. */
export async function imapNamesUncloneableItem(): Promise<void> {
  await using pool = new WorkerPool({ size: 1 });
  for (const chunkSize of [1, 2]) {
    const items: unknown[] = [1, 2, () => 3, 4];
    const error = await watchdog(
      Array.fromAsync(pool.imap((x: unknown) => x, items, { chunkSize }))
        .catch(
          (e) => e,
        ),
      "imap",
    );
    assert.ok(error instanceof Error, String(error));
    assert.match(
      error.message,
      /item 2\b/,
      `chunkSize ${chunkSize}: ${error.message}`,
    );
    assert.doesNotMatch(error.message, /NaN/);
  }
}
