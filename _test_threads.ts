// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal test helpers (not published: `_test_*.ts`): how many pool worker
 * threads are alive, and how many OS threads the process has, so tests can
 * check that nothing is left running after a pool closes.
 *
 * @module
 */

import { LIFELINE_PREFIX } from "./_lifeline.ts";

interface LockInfo {
  name?: string;
  clientId?: string;
}

interface Locks {
  query(): Promise<{ held?: LockInfo[] }>;
  request(name: string, callback: () => Promise<unknown>): Promise<unknown>;
}

/**
 * How many pool worker threads (of any pool in this process) are alive: the
 * pool-worker lifelines held right now by a thread other than this one. A
 * worker holds its lifeline for as long as its thread lives; this thread
 * holds one only for a moment, when it learns that the worker has ended.
 */
export async function liveWorkerThreads(): Promise<number> {
  const locks = (navigator as unknown as { locks: Locks }).locks;
  const probe = `${LIFELINE_PREFIX}probe/${crypto.randomUUID()}`;
  const self = await locks.request(probe, async () => {
    const { held = [] } = await locks.query();
    return held.find((lock) => lock.name === probe)?.clientId;
  });
  const { held = [] } = await locks.query();
  return held.filter((lock) =>
    lock.name?.startsWith(`${LIFELINE_PREFIX}pool-worker/`) &&
    lock.clientId !== self
  ).length;
}

/** The OS threads of this process (the `Threads:` line of /proc/self/status). */
export function osThreads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const match = /^Threads:\s+(\d+)$/m.exec(status);
  if (match === null) throw new Error("No Threads: line in /proc/self/status");
  return Number(match[1]);
}
