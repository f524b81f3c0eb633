// Copyright the @seed/concurrency authors. MIT license.
// The baseline scheduler of payload_bench.ts and tail_bench.ts: raw Workers
// that each take the next item when free. One item per message, copied (no
// transfer), no queue object, no errors, no cancellation: greedy list
// scheduling, the simplest dispatch that balances uneven work.

/** Raw Workers (bench/_raw_task_worker.ts) fed one item at a time. */
export class RawQueue {
  readonly #workers: Worker[] = [];

  /** Starts `size` workers at once. */
  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      this.#workers.push(
        new Worker(new URL("./_raw_task_worker.ts", import.meta.url), {
          type: "module",
        }),
      );
    }
  }

  /**
   * Sends item 0 to worker 0, item 1 to worker 1, and so on; each worker
   * that answers gets the next unsent item. Resolves to the answers in input
   * order. One call at a time per queue.
   */
  run<T, R>(items: readonly T[]): Promise<R[]> {
    const results = items.slice() as unknown as R[]; // packed, overwritten
    if (items.length === 0) return Promise.resolve(results);
    let next = 0;
    let answered = 0;
    return new Promise((resolve) => {
      for (const worker of this.#workers) {
        let current = -1;
        const give = () => {
          if (next === items.length) return;
          current = next++;
          worker.postMessage(items[current]);
        };
        worker.onmessage = (event: MessageEvent) => {
          results[current] = event.data as R;
          if (++answered === items.length) resolve(results);
          else give();
        };
        give();
      }
    });
  }

  /** Terminates the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}
