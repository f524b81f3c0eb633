// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal: the pool's counters and duration summaries, and the public
 * {@linkcode PoolStats} snapshot built from them.
 *
 * Each task is counted once when it is accepted (`submitted`) and once when
 * it settles (`completed`, `failed` or `cancelled`), so at rest
 * `submitted === completed + failed + cancelled`. Its wait is recorded once,
 * when it is first sent to a worker, however often it moves afterwards.
 *
 * @module
 */

import { type DurationSummary, Summary } from "./_summary.ts";
import type { Outcome } from "./_task.ts";

/** A snapshot of a pool's activity. */
export interface PoolStats {
  /** The most workers the pool runs at once. */
  size: number;
  /** Workers alive now, starting or running (started on demand: at most `size`). */
  workers: number;
  /** Workers holding tasks (running one, or with some waiting their turn). */
  busy: number;
  /** Tasks not started yet: in the pool's queue, or held by a worker. */
  queued: number;
  /** `run`/`submit` calls waiting for room in a full queue (`maxQueue`). */
  waiting: number;
  /**
   * Tasks accepted: each `run`/`submit` call, and each chunk of a
   * `map`/`imap`. At rest it equals `completed + failed + cancelled`.
   */
  submitted: number;
  /** Tasks that fulfilled. */
  completed: number;
  /**
   * Tasks that rejected: their own error, a crash, a value that could not be
   * sent, or the pool ending under them.
   */
  failed: number;
  /** Tasks cancelled by their signal or future before they finished. */
  cancelled: number;
  /** Tasks an idle worker took over from a busy one before they started. */
  stolen: number;
  /** Workers that died (or broke the protocol) and were replaced. */
  crashedWorkers: number;
  /**
   * Workers terminated (and replaced) because a cancelled task, a timed-out
   * one say, did not stop within `abortGraceMs`. Not counted as crashes.
   */
  terminatedWorkers: number;
  /**
   * Terminated workers whose thread may still be running: a task that
   * ignored its cancellation, busy in a synchronous loop, which Deno cannot
   * stop (see the pool's docs). Each burns a core until its loop ends; the
   * count drops as their threads end, also after the pool has closed.
   */
  abandonedWorkers: number;
  /** How long tasks ran in a worker. A `map` chunk counts as one task. */
  runTimeMs: DurationSummary;
  /** How long tasks waited before they were first sent to a worker. */
  waitTimeMs: DurationSummary;
}

/** The live figures the scheduler reads into a snapshot. */
export interface LiveFigures {
  size: number;
  workers: number;
  busy: number;
  queued: number;
  waiting: number;
  abandonedWorkers: number;
}

export class StatsRecorder {
  submitted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  stolen = 0;
  crashedWorkers = 0;
  terminatedWorkers = 0;
  readonly #runTime = new Summary();
  readonly #waitTime = new Summary();
  /** A running average of run times, in ms (0 before the first). */
  avgRunMs = 0;

  count(outcome: Outcome): void {
    this[outcome]++;
  }

  recordRun(ms: number): void {
    this.#runTime.record(ms);
    this.avgRunMs = this.avgRunMs === 0
      ? ms || 1e-3
      : this.avgRunMs * 0.875 + ms * 0.125;
  }

  recordWait(ms: number): void {
    this.#waitTime.record(ms);
  }

  snapshot(live: LiveFigures): PoolStats {
    return {
      ...live,
      submitted: this.submitted,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      stolen: this.stolen,
      crashedWorkers: this.crashedWorkers,
      terminatedWorkers: this.terminatedWorkers,
      runTimeMs: this.#runTime.snapshot(),
      waitTimeMs: this.#waitTime.snapshot(),
    };
  }
}
