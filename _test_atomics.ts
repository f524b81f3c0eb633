// Copyright the @seed/concurrency authors. MIT license.

/**
 * Internal test helpers over shared memory (not published: `_test_*.ts`):
 * tests synchronise with workers through `Atomics`, never through sleeps.
 *
 * @module
 */

/** A few `Int32Array` cells in shared memory, all `0`. */
export function flags(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(16));
}

/**
 * Waits, without blocking the event loop, until `cells[index]` is at least
 * `value`. The writer notifies; the bounded wait only re-checks in case a
 * notification came between the load and the wait.
 */
export async function until(
  cells: Int32Array,
  index: number,
  value: number,
): Promise<void> {
  while (true) {
    const current = Atomics.load(cells, index);
    if (current >= value) return;
    const result = Atomics.waitAsync(cells, index, current, 50);
    if (result.async) {
      // A pending waitAsync does not keep the event loop alive.
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await result.value;
      } finally {
        clearInterval(keepAlive);
      }
    }
  }
}

/** Stores `value` in `cells[index]` and wakes its waiters. */
export function signal(cells: Int32Array, index: number, value: number): void {
  Atomics.store(cells, index, value);
  Atomics.notify(cells, index);
}
