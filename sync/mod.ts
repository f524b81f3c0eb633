// Copyright the @seed/concurrency authors. MIT license.

/**
 * Coordination primitives for async code.
 *
 * The classes here coordinate tasks on **one event loop** (one thread): the
 * main thread, or inside a single worker. They do not exclude across
 * workers; for that, use the shared-memory primitives (`Shared*`) exported
 * next to them, which work over a `SharedArrayBuffer`.
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
 *   reaches some state another task will signal ("queue not empty"). If the
 *   state is a single flag, an `Event` is simpler.
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
 * To pass values between tasks rather than guard shared state, use the
 * channels of `@seed/concurrency/channels`.
 *
 * ## Common rules
 *
 * - Every wait takes `{ signal }`. An already aborted signal rejects at once
 *   with `signal.reason`; an abort while waiting removes the waiter from the
 *   queue and rejects with `signal.reason`, and whatever it would have
 *   received (a lock, a permit, a notification) goes to the next waiter. A
 *   waiter served in the same tick as its abort, before its abort listener
 *   ran, is rejected and passes on what it was given.
 * - Queues are FIFO, and `try*` methods never overtake a waiter.
 * - Guards release once: a second `release()` or dispose is a no-op. Use
 *   them with `using`.
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
