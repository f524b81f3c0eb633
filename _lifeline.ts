// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: how one thread learns that another has ended, however it ended
 * (an uncaught error, `self.close()`, `Deno.exit()`, `terminate()`). The
 * pool watches its workers this way, and channel and pipe ends watch the
 * threads at their other side.
 *
 * Neither a `Worker` nor a `MessagePort` gives an event when the thread
 * behind it dies. Web Locks are process-wide, though, and a lock is freed
 * when the thread that holds it ends. So the thread that may die holds a lock
 * with a unique name (its lifeline, {@linkcode holdLifeline}), and the thread
 * that must know queues a request for the same lock
 * ({@linkcode watchLifeline}): the request is granted when the holder
 * releases the lock or its thread ends.
 *
 * Task code shares its worker's realm with the library, and a lock name it
 * can see it can take (`steal: true`) or hold, which would fake a death or
 * hide one. So the functions here are captured when this module loads,
 * before any task code runs, and {@linkcode hideLifelines} then hides every
 * lifeline from the `navigator.locks` that task code sees.
 *
 * A held lock and a queued request each keep their thread's event loop
 * alive, so both are given up as soon as they are done with.
 *
 * @module
 */

interface LockInfo {
  name?: string;
  mode?: string;
  clientId?: string;
}

interface LockSnapshot {
  held?: LockInfo[] | undefined;
  pending?: LockInfo[] | undefined;
}

type Request = (
  name: string,
  options: { signal?: AbortSignal; steal?: boolean; ifAvailable?: boolean },
  callback: (lock: unknown) => unknown,
) => Promise<unknown>;

type Query = () => Promise<LockSnapshot>;

interface LockManagerLike {
  request: Request;
  query: Query;
}

const manager = (navigator as unknown as { locks: LockManagerLike }).locks;
// Bound now: later changes to the prototype or to Function.prototype cannot
// reach these.
const request: Request = manager.request.bind(manager);
const query: Query = manager.query.bind(manager);

/** The prefix of every lifeline name. */
export const LIFELINE_PREFIX = "@seed/concurrency/life/";

/** Makes a new, unique lifeline name. */
export function newLifelineName(kind: string): string {
  return `${LIFELINE_PREFIX}${kind}/${crypto.randomUUID()}`;
}

/**
 * Takes the lock `name` and holds it until the returned function is called
 * (or the thread ends).
 *
 * @returns A promise of the function that releases the lock, resolved once
 *   the lock is held.
 */
export function holdLifeline(name: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    request(name, {}, () =>
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
 * thread ended. Aborting `signal` stops watching (and lets this thread's
 * event loop end); `onEnd` is then never called.
 */
export function watchLifeline(
  name: string,
  signal: AbortSignal,
  onEnd: () => void,
): void {
  request(name, { signal }, () => {
    if (!signal.aborted) onEnd();
  }).catch(() => {
    // Watching was stopped.
  });
}

/**
 * Which of `names` are held right now (by any thread). Unlike a watch, this
 * keeps nothing alive, so a timer that must not hold the process open can
 * poll it.
 */
export async function heldLifelines(
  names: Iterable<string>,
): Promise<Set<string>> {
  const wanted = new Set(names);
  const { held = [] } = await query();
  const out = new Set<string>();
  for (const lock of held) {
    if (lock.name !== undefined && wanted.has(lock.name)) out.add(lock.name);
  }
  return out;
}

/**
 * Hides every lifeline from the `navigator.locks` of this thread: `query()`
 * leaves them out and `request()` of one rejects. Called in a pool worker
 * before task code runs; the functions of this module keep working.
 */
export function hideLifelines(): void {
  const isLifeline = (name: unknown) =>
    typeof name === "string" && name.startsWith(LIFELINE_PREFIX);
  const visible = (locks: LockInfo[] | undefined) =>
    locks?.filter((lock) => !isLifeline(lock.name));
  const methods = {
    async query(): Promise<LockSnapshot> {
      const snapshot = await query();
      return {
        held: visible(snapshot.held),
        pending: visible(snapshot.pending),
      };
    },
    request(name: unknown, ...rest: unknown[]): Promise<unknown> {
      if (isLifeline(name)) {
        return Promise.reject(
          new DOMException(
            "Cannot request a lock that @seed/concurrency reserves",
            "NotAllowedError",
          ),
        );
      }
      return (request as (...args: unknown[]) => Promise<unknown>)(
        name,
        ...rest,
      );
    },
  };
  for (const target of [Object.getPrototypeOf(manager), manager]) {
    for (const [key, value] of Object.entries(methods)) {
      Object.defineProperty(target, key, {
        value,
        writable: true,
        configurable: true,
      });
    }
  }
}
