// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: waits for a condition over an object's state, such as "every
 * worker has exited", re-checked whenever the object says its state
 * changed. The pool's `close()`, `terminate()` and `ready()` wait this way.
 *
 * Invariants: a pending wait is in `#pending` exactly until it settles
 * (resolved by `changed()` once its condition holds, or rejected by its
 * signal), so a settled wait is never checked again.
 *
 * @module
 */

export class Conditions {
  readonly #pending = new Set<() => void>();

  /** How many waits are pending. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Resolves once `holds()` is true, checked now and on every `changed()`;
   * `holds` must become true eventually for the wait to end, unless `signal`
   * aborts it first.
   *
   * @throws {unknown} `signal.reason`, if it aborts first.
   */
  until(holds: () => boolean, signal?: AbortSignal): Promise<void> {
    if (holds()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(check);
        reject(signal?.reason);
      };
      const check = () => {
        if (!holds()) return;
        this.#pending.delete(check);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#pending.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The state changed: settle the waits whose condition now holds. */
  changed(): void {
    for (const check of this.#pending) check();
  }
}
