// Copyright the @seed/concurrency authors. MIT license.

/**
 * Coordination primitives for async code, in one event loop or across
 * workers.
 *
 * Most classes here coordinate tasks on **one event loop** (one thread): the
 * main thread, or inside a single worker. They do not exclude across
 * workers; for that, use the shared-memory primitives (`Shared*`), which
 * work over a `SharedArrayBuffer` from the main thread and from every worker
 * they are passed to.
 *
 * ## Choosing a primitive
 *
 * Shared state, guarded:
 *
 * - {@linkcode Lock}: one task at a time in a critical section that spans
 *   `await`s (a read-modify-write of shared state, a connection that takes
 *   one request at a time). If the section has no `await`, you need no lock:
 *   one event loop already runs it without interruption.
 * - {@linkcode RwLock}: like `Lock`, but readers share the lock and only
 *   writers exclude. Worth it when reads are frequent, long, and
 *   concurrent; otherwise a `Lock` is simpler and as fast.
 * - {@linkcode Semaphore}: at most `n` tasks at a time, to bound
 *   concurrency (open files, requests to one host). With `n = 1` it is a
 *   lock that can be released without the guard.
 * - {@linkcode Condition}: wait, holding a `Lock`, until shared state
 *   reaches some state another task will signal ("queue not empty"). Its
 *   methods take the lock's guard as proof that the caller holds the lock
 *   (`condition.wait(guard)`). If the state is a single flag, an `Event` is
 *   simpler.
 *
 * Signalling:
 *
 * - {@linkcode Event}: a flag that many tasks wait for and that stays set
 *   ("config loaded", "shutting down"). For a one-time value, a promise is
 *   enough.
 * - {@linkcode Barrier}: a fixed number of tasks meet before any goes on,
 *   generation after generation (phases of a simulation, rounds of a
 *   benchmark).
 *
 * Structured concurrency:
 *
 * - {@linkcode TaskGroup}: run tasks together, cancel the rest when one
 *   fails, and never let one outlive its block (`await using`). Prefer it to
 *   a bare `Promise.all`, which leaves the other tasks running after the
 *   first rejection.
 *
 * Across workers (shared memory), Python's `multiprocessing` primitives.
 * They work with worker **threads** (the default pool); a pool with
 * `isolation: "process"` shares no memory with its workers, so a call that
 * passes one of them fails with a `TypeError` (pass a `WorkerChannel` or a
 * `pipe()` end instead, which work across processes):
 *
 * - {@linkcode SharedValue} and {@linkcode SharedArray}: typed numbers that
 *   the main thread and pool workers read and write in place
 *   (`Value('i', 0)`, `Array('i', [1, 2, 3])`), each with its own lock.
 *   For a single integer counter, their atomic helpers (`add`,
 *   `compareExchange`) need no lock at all. To hand results back, returning
 *   them from a task is simpler.
 * - {@linkcode SharedLock}: one thread at a time in a critical section,
 *   across the main thread and workers. Not FIFO. Only when the state it
 *   guards is shared between threads; in one event loop, `Lock` is simpler
 *   and fair.
 * - {@linkcode SharedEvent}: a flag that threads wait for ("workers may
 *   start", "stop now"). For a one-time result, awaiting the task is enough.
 *
 * Pass shared objects to a task as arguments (`pool.run(fn, [counter])`,
 * also nested in arrays, plain objects, Map values or Set members) or return
 * them as a task's result; inside a class instance they cannot be found, and
 * cloning one there throws. On the main thread, wait
 * with the async methods (`acquire`, `wait`), which never block the event
 * loop; the blocking ones (`acquireSync`, `waitSync`) are for synchronous
 * code in workers and throw on the main thread.
 *
 * To pass values between tasks rather than guard shared state, use the
 * channels of `@seed/concurrency/channels`.
 *
 * ## Common rules
 *
 * - Every async wait takes `{ signal }`. An already aborted signal rejects
 *   at once with `signal.reason`; an abort while waiting removes the waiter
 *   from the queue and rejects with `signal.reason`, and whatever it would
 *   have received (a lock, a permit, a notification) goes to the next
 *   waiter. A waiter served in the same tick as its abort, before its abort
 *   listener ran, is rejected and passes on what it was given. Blocking
 *   waits (`*Sync`, workers only) take `{ timeoutMs }` instead and throw a
 *   `"TimeoutError"` `DOMException`.
 * - Queues of the in-loop primitives are FIFO, and their `try*` methods
 *   never overtake a waiter. The shared primitives are not FIFO: a released
 *   `SharedLock` goes to whichever thread takes it first.
 * - Guards release once: a second `release()` or dispose is a no-op. Use
 *   them with `using`. A guard is also the proof of holding a `Lock` that a
 *   `Condition` asks for; `lock.run(fn)` passes it to `fn`.
 *
 * @example Usage
 * ```ts
 * import { Lock, Semaphore, TaskGroup } from "@seed/concurrency/sync";
 * import assert from "node:assert/strict";
 *
 * const downloads = new Semaphore(2); // at most 2 at once
 * const lock = new Lock(); // guards `index`
 * const index = new Map<string, number>();
 *
 * async function download(url: string, signal: AbortSignal): Promise<void> {
 *   using _permit = await downloads.acquire({ signal });
 *   const size = url.length; // stands in for a fetch(url, { signal })
 *   using _guard = await lock.acquire({ signal });
 *   index.set(url, size);
 * }
 *
 * {
 *   await using group = new TaskGroup();
 *   for (const url of ["https://a.example", "https://bb.example"]) {
 *     group.spawn((signal) => download(url, signal));
 *   }
 * }
 * assert.equal(index.get("https://bb.example"), 18);
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./rw_lock.ts";
export * from "./semaphore.ts";
export * from "./condition.ts";
export * from "./event.ts";
export * from "./barrier.ts";
export * from "./task_group.ts";

// Cross-worker shared-memory primitives: another engineer adds their
// `export * from "./shared_*.ts";` lines below this comment.
export * from "./shared_lock.ts";
export * from "./shared_event.ts";
export * from "./shared_value.ts";
export * from "./shared_array.ts";
