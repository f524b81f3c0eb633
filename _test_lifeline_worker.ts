// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal test worker for `_lifeline_test.ts` (not published: `_test_*.ts`).
 * Its `name` picks the scenario; it posts one report, then waits to be
 * terminated.
 *
 * - `"hold"`: holds a new lifeline and posts its name.
 * - `"hide"`: calls `hideLifelines()`, then looks at lifelines the way task
 *   code would (through `navigator.locks`) and the way the library does
 *   (through `_lifeline.ts`), and posts what each saw.
 *
 * @module
 */

import {
  heldLifelines,
  hideLifelines,
  holdLifeline,
  LIFELINE_PREFIX,
  newLifelineName,
  watchLifeline,
} from "./_lifeline.ts";

interface LockManagerLike {
  request(
    name: string,
    options: Record<string, unknown>,
    callback: () => unknown,
  ): Promise<unknown>;
  query(): Promise<
    { held?: { name?: string }[]; pending?: { name?: string }[] }
  >;
}

/** What the `"hide"` scenario reports. */
export interface HideReport {
  /** The lifeline this worker holds (and keeps until it ends). */
  lifeline: string;
  /** Every lock name `navigator.locks.query()` showed, held or pending. */
  queried: string[];
  /** A lock that is not a lifeline, held by this worker. */
  plain: string;
  /** The error names of task-like requests for the lifeline. */
  requestErrors: string[];
  /** Whether `heldLifelines()` still saw the held lifeline. */
  heldSeen: boolean;
  /** Whether `watchLifeline()` still saw another lifeline's release. */
  watchEnded: boolean;
}

const scope = self as unknown as {
  name: string;
  postMessage(message: unknown): void;
};

function noop(): void {}

/** The two-argument form, `request(name, callback)`. */
function request2(locks: LockManagerLike, name: string): Promise<unknown> {
  return (locks.request as (...args: unknown[]) => Promise<unknown>).call(
    locks,
    name,
    noop,
  );
}

async function hide(): Promise<HideReport> {
  hideLifelines();
  const locks = (navigator as unknown as { locks: LockManagerLike }).locks;
  const lifeline = newLifelineName("test");
  await holdLifeline(lifeline);
  // A pending request for a lifeline: a watch of the one held above.
  const stopWatch = new AbortController();
  watchLifeline(lifeline, stopWatch.signal, () => {});
  const plain = `plain/${crypto.randomUUID()}`;
  await new Promise<void>((held) => {
    locks.request(plain, {}, () => {
      held();
      return new Promise(() => {}); // Held until the worker ends.
    });
  });
  const snapshot = await locks.query();
  const queried = [...snapshot.held ?? [], ...snapshot.pending ?? []]
    .map((lock) => lock.name ?? "");
  stopWatch.abort();

  const requestErrors: string[] = [];
  const prototype = Object.getPrototypeOf(locks) as LockManagerLike;
  // None of these would wait if the lifeline were visible: each would
  // succeed at once (and be reported as "none").
  const attempts = [
    () => locks.request(lifeline, { ifAvailable: true }, () => {}),
    () => locks.request(lifeline, { steal: true }, () => {}),
    () => prototype.request.call(locks, lifeline, { ifAvailable: true }, noop),
    () => request2(locks, `${LIFELINE_PREFIX}free/${crypto.randomUUID()}`),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
      requestErrors.push("none");
    } catch (error) {
      requestErrors.push((error as Error).name);
    }
  }

  const heldSeen = (await heldLifelines([lifeline])).has(lifeline);
  const other = newLifelineName("test");
  const release = await holdLifeline(other);
  const watchEnded = await new Promise<boolean>((ended) => {
    watchLifeline(other, new AbortController().signal, () => ended(true));
    release();
  });
  return { lifeline, queried, plain, requestErrors, heldSeen, watchEnded };
}

async function hold(): Promise<string> {
  const lifeline = newLifelineName("test");
  await holdLifeline(lifeline);
  return lifeline;
}

scope.postMessage(scope.name === "hide" ? await hide() : await hold());
