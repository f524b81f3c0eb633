// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: how one side of a port learns that the thread at the other side
 * has ended, however it ended (an uncaught error, `self.close()`,
 * `Deno.exit()`, `terminate()`).
 *
 * A `MessagePort` gives no event when the thread holding its peer dies. Web
 * Locks are process-wide, though, and a lock is freed when the thread that
 * holds it ends. So the side that may die holds a lock with a unique name for
 * as long as it uses the port ({@linkcode holdLifeLock}), says so over the
 * port once it holds it, and the other side queues a request for the same
 * lock ({@linkcode watchLifeLock}): the request is granted when the holder
 * releases the lock or its thread ends.
 *
 * A held lock and a queued request each keep their thread's event loop
 * alive, so both are given up as soon as the port is done with.
 *
 * @module
 */

interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown>;
}

function locks(): LockManagerLike {
  return (navigator as unknown as { locks: LockManagerLike }).locks;
}

/** The prefix of the lock names of this library's ports. */
export const LIFE_LOCK_PREFIX = "@seed/concurrency/life/";

/** Makes a new, unique life lock name. */
export function newLifeLockName(kind: string): string {
  return `${LIFE_LOCK_PREFIX}${kind}/${crypto.randomUUID()}`;
}

/**
 * Whether this code runs in a worker. The main thread never holds a life
 * lock: when it ends, the process ends with it.
 */
export function isWorkerThread(): boolean {
  return typeof (globalThis as { WorkerGlobalScope?: unknown })
    .WorkerGlobalScope === "function";
}

/**
 * Takes the lock `name` and holds it until the returned function is called
 * (or the thread ends).
 *
 * @returns A promise of the function that releases the lock, resolved once
 *   the lock is held.
 */
export function holdLifeLock(name: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    locks().request(name, {}, () =>
      new Promise<void>((release) => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          release();
        });
      })).catch(reject);
  });
}

/**
 * Calls `onEnd` once the lock `name` is free: its holder released it or its
 * thread ended. Aborting `signal` stops watching (and lets this thread's event
 * loop end).
 */
export function watchLifeLock(
  name: string,
  signal: AbortSignal,
  onEnd: () => void,
): void {
  locks().request(name, { signal }, () => {
    if (!signal.aborted) onEnd();
  }).catch(() => {
    // Watching was stopped: the port is done with.
  });
}
