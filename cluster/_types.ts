// Copyright the @seed/concurrency authors. MIT license.
// Internal: the types ClusterPool's pieces share; cluster_pool.ts exports them.

import type { DurationSummary } from "../_summary.ts";

/**
 * A {@linkcode ClusterPool}'s lifecycle: connecting to the server,
 * accepting calls (`"open"`), unable to reach the server or set up its queue
 * at start (`"broken"`: every call rejects with the reason), finishing its
 * calls after `close()` (`"closing"`), or ended (`"closed"`).
 */
export type ClusterPoolState =
  | "connecting"
  | "open"
  | "broken"
  | "closing"
  | "closed";

/** A snapshot of a {@linkcode ClusterPool}'s activity. */
export interface ClusterPoolStats {
  /** The pool's lifecycle state. */
  state: ClusterPoolState;
  /** Calls not sent yet: over `maxInFlight`, or the server is not reached yet. */
  waiting: number;
  /** Calls sent and not settled: queued on the server or running on a worker. */
  inFlight: number;
  /** Calls accepted: each `run`/`submit`, and each chunk of a `map`/`imap`. */
  submitted: number;
  /** Calls that fulfilled. */
  completed: number;
  /** Calls that rejected: their task's error, a crash, or the pool ending. */
  failed: number;
  /** Calls cancelled by their signal or future before a result came. */
  cancelled: number;
  /**
   * Results dropped because their call had settled already: a redelivered
   * task that ran twice, or a result for a cancelled call.
   */
  duplicates: number;
  /** Results that did not decode, dropped. */
  malformed: number;
  /** From sending a call to its result, per call. */
  roundTripMs: DurationSummary;
}
