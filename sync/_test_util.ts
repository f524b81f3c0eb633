// Copyright the @seed/concurrency authors. MIT license.
// Test helpers for sync/: a microtask flush, a promise state probe, and a
// model-based checker for the FIFO permit primitives (Lock, Semaphore,
// RwLock), driven by fast-check command lists.

import assert from "node:assert/strict";
import fc from "fast-check";

/**
 * Lets every promise reaction already queued, and the reactions they queue
 * in turn (up to `rounds` deep), run. The primitives settle a waiter
 * synchronously, so one or two rounds reach every `.then` callback; 20 is a
 * wide margin. No timer is involved.
 */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** The settled state of a promise, read after a microtask flush. */
export type Probe<T> =
  | { state: "pending" }
  | { state: "fulfilled"; value: T }
  | { state: "rejected"; reason: unknown };

/** Tracks a promise's state so that tests can assert it synchronously. */
export function probe<T>(promise: Promise<T>): { readonly current: Probe<T> } {
  const box: { current: Probe<T> } = { current: { state: "pending" } };
  promise.then(
    (value) => box.current = { state: "fulfilled", value },
    (reason) => box.current = { state: "rejected", reason },
  );
  return box;
}

/** A guard as handed out by Lock, Semaphore and RwLock. */
export interface AnyGuard extends Disposable {
  release(): void;
}

/** Adapts one FIFO permit primitive to the model checker. */
export interface FairSubject {
  /** Total permits of the model. */
  readonly max: number;
  /** Permits taken by each kind of acquire (index = kind). */
  readonly weights: readonly number[];
  acquire(kind: number, signal?: AbortSignal): Promise<AnyGuard>;
  tryAcquire(kind: number): AnyGuard | undefined;
  /** Free permits as seen through the public API. */
  available(): number;
}

/** One step of a scenario. `flush` lets microtasks run after the step. */
export type FairCommand =
  | { op: "acquire"; kind: number; abortable: boolean; flush: boolean }
  | { op: "tryAcquire"; kind: number; flush: boolean }
  | { op: "release"; pick: number; twice: boolean; flush: boolean }
  | { op: "abort"; pick: number; flush: boolean }
  | {
    op: "abortWhileReleasing";
    pick: number;
    release: number;
    flush: boolean;
  };

/** Random scenarios: up to `maxLength` steps over `kinds` acquire kinds. */
export function fairCommands(
  kinds: number,
  maxLength = 40,
): fc.Arbitrary<FairCommand[]> {
  const kind = fc.nat({ max: kinds - 1 });
  const pick = fc.nat({ max: 15 });
  const flush = fc.boolean();
  const command: fc.Arbitrary<FairCommand> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("acquire" as const),
        kind,
        abortable: fc.boolean(),
        flush,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("tryAcquire" as const),
        kind,
        flush,
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("release" as const),
        pick,
        twice: fc.boolean(),
        flush,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant("abort" as const), pick, flush }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("abortWhileReleasing" as const),
        pick,
        release: pick,
        flush,
      }),
    },
  );
  return fc.array(command, { maxLength });
}

interface Actor {
  readonly id: number;
  readonly weight: number;
  /** What the model says. */
  model: "waiting" | "holding" | "released" | "aborted";
  /** What the promise did. */
  observed: Probe<AnyGuard>;
  /** Released through its guard (observed side). */
  released: boolean;
  readonly controller: AbortController | undefined;
  readonly reason: Error;
  /** Runs inside the source signal's abort dispatch, before the waiter's. */
  duringAbort: (() => void) | undefined;
}

/**
 * Runs `commands` against `subject` and against a model of a fair FIFO
 * batch semaphore, checking after every flushed step that:
 * the same actors hold permits (mutual exclusion / permit bound),
 * permits were granted in the same order (FIFO), aborted waits rejected
 * with their own `signal.reason`, and the free permit count agrees. At the
 * end every permit must come back.
 */
export async function checkFairScenario(
  subject: FairSubject,
  commands: readonly FairCommand[],
): Promise<void> {
  const actors: Actor[] = [];
  const queue: Actor[] = [];
  const modelGrants: number[] = [];
  const observedGrants: number[] = [];
  let available = subject.max;

  const serve = () => {
    while (queue.length > 0 && available >= queue[0]!.weight) {
      const actor = queue.shift()!;
      available -= actor.weight;
      actor.model = "holding";
      modelGrants.push(actor.id);
    }
  };
  const modelAbort = (actor: Actor) => {
    if (actor.model !== "waiting") return; // granted first: abort ignored
    const index = queue.indexOf(actor);
    queue.splice(index, 1);
    actor.model = "aborted";
    if (index === 0) serve();
  };
  const modelRelease = (actor: Actor) => {
    actor.model = "released";
    available += actor.weight;
    serve();
  };
  const releasable = () =>
    actors.filter((a) =>
      a.observed.state === "fulfilled" && !a.released && a.model === "holding"
    );
  const abortable = () =>
    actors.filter((a) =>
      a.controller !== undefined && !a.controller.signal.aborted
    );
  const releaseActor = (actor: Actor, twice: boolean) => {
    assert.equal(actor.observed.state, "fulfilled");
    const guard = (actor.observed as { value: AnyGuard }).value;
    actor.released = true;
    modelRelease(actor);
    guard.release();
    if (twice) guard[Symbol.dispose](); // a no-op
  };

  const check = () => {
    let held = 0;
    for (const actor of actors) {
      const { observed } = actor;
      switch (actor.model) {
        case "waiting":
          assert.equal(observed.state, "pending", `actor ${actor.id} waits`);
          break;
        case "holding":
        case "released":
          assert.equal(observed.state, "fulfilled", `actor ${actor.id} holds`);
          if (!actor.released) held += actor.weight;
          break;
        case "aborted":
          assert.equal(observed.state, "rejected", `actor ${actor.id} aborted`);
          assert.equal(
            (observed as { reason: unknown }).reason,
            actor.reason,
            "an aborted wait rejects with signal.reason, unwrapped",
          );
          break;
      }
    }
    assert.ok(held <= subject.max, "permits held never exceed the total");
    assert.deepEqual(observedGrants, modelGrants, "grants are FIFO");
    assert.equal(subject.available(), available, "free permits agree");
  };

  const newActor = (kind: number, abortable: boolean): Actor => {
    const id = actors.length;
    const controller = abortable ? new AbortController() : undefined;
    const actor: Actor = {
      id,
      weight: subject.weights[kind]!,
      model: "waiting",
      observed: { state: "pending" },
      released: false,
      controller,
      reason: new Error(`abort ${id}`),
      duringAbort: undefined,
    };
    actors.push(actor);
    return actor;
  };

  for (const command of commands) {
    switch (command.op) {
      case "acquire": {
        const actor = newActor(command.kind, command.abortable);
        let signal: AbortSignal | undefined;
        if (actor.controller !== undefined) {
          // The primitive listens on a dependent signal, so a listener on the
          // source runs while the primitive's signal is aborted but its own
          // listener has not run yet: the same-tick race.
          actor.controller.signal.addEventListener("abort", () => {
            actor.duringAbort?.();
          }, { once: true });
          signal = AbortSignal.any([actor.controller.signal]);
        }
        const promise = subject.acquire(command.kind, signal);
        promise.then((guard) => {
          actor.observed = { state: "fulfilled", value: guard };
          observedGrants.push(actor.id);
        }, (reason) => {
          actor.observed = { state: "rejected", reason };
        });
        if (queue.length === 0 && available >= actor.weight) {
          available -= actor.weight;
          actor.model = "holding";
          modelGrants.push(actor.id);
        } else {
          queue.push(actor);
        }
        break;
      }
      case "tryAcquire": {
        const weight = subject.weights[command.kind]!;
        const guard = subject.tryAcquire(command.kind);
        if (queue.length === 0 && available >= weight) {
          assert.ok(guard !== undefined, "tryAcquire succeeds when free");
          const actor = newActor(command.kind, false);
          available -= weight;
          actor.model = "holding";
          modelGrants.push(actor.id);
          // Observed in a microtask, in line with the promise callbacks.
          queueMicrotask(() => {
            actor.observed = { state: "fulfilled", value: guard };
            observedGrants.push(actor.id);
          });
        } else {
          assert.equal(guard, undefined, "tryAcquire never overtakes");
        }
        break;
      }
      case "release": {
        const candidates = releasable();
        if (candidates.length === 0) break;
        releaseActor(
          candidates[command.pick % candidates.length]!,
          command.twice,
        );
        break;
      }
      case "abort": {
        const candidates = abortable();
        if (candidates.length === 0) break;
        const actor = candidates[command.pick % candidates.length]!;
        modelAbort(actor);
        actor.controller!.abort(actor.reason);
        break;
      }
      case "abortWhileReleasing": {
        const candidates = abortable();
        const holders = releasable();
        if (candidates.length === 0 || holders.length === 0) break;
        const actor = candidates[command.pick % candidates.length]!;
        const holder = holders[command.release % holders.length]!;
        // The release runs inside the abort dispatch: the waiter counts as
        // aborted, so whatever the release frees goes past it.
        modelAbort(actor);
        actor.duringAbort = () => releaseActor(holder, false);
        actor.controller!.abort(actor.reason);
        break;
      }
    }
    if (command.flush) {
      await flushMicrotasks();
      check();
    }
  }
  await flushMicrotasks();
  check();

  // Wind down: abort every waiter, release every holder; all permits return.
  for (const actor of abortable()) {
    modelAbort(actor);
    actor.controller!.abort(actor.reason);
  }
  await flushMicrotasks();
  for (let round = 0; queue.length > 0 || releasable().length > 0; round++) {
    assert.ok(round < actors.length + 1, "every waiter is served");
    for (const actor of releasable()) releaseActor(actor, false);
    await flushMicrotasks();
  }
  check();
  assert.equal(subject.available(), subject.max, "no permit leaked");
}
