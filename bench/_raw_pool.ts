// A minimal dispatcher over raw Workers: the floor a pool adds its cost to.
// No queue, no errors, no cancellation: each call goes to the next worker
// round-robin, and replies are matched in order per worker.

export class RawPool {
  readonly #workers: Worker[] = [];
  readonly #waiting: ((value: unknown) => void)[][] = [];
  #next = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./_raw_worker.ts", import.meta.url), {
        type: "module",
      });
      const waiting: ((value: unknown) => void)[] = [];
      let head = 0;
      worker.onmessage = (event) => {
        const resolve = waiting[head] as (value: unknown) => void;
        waiting[head++] = undefined as unknown as (value: unknown) => void;
        if (head === waiting.length) {
          waiting.length = 0;
          head = 0;
        }
        resolve(event.data);
      };
      this.#workers.push(worker);
      this.#waiting.push(waiting);
    }
  }

  call<T>(message: unknown): Promise<T> {
    const index = this.#next;
    this.#next = (index + 1) % this.#workers.length;
    return new Promise<T>((resolve) => {
      (this.#waiting[index] as ((value: unknown) => void)[]).push(
        resolve as (value: unknown) => void,
      );
      (this.#workers[index] as Worker).postMessage(message);
    });
  }

  /** Squares every item, in `chunks` batches spread over the workers. */
  async map(items: number[], chunks: number): Promise<number[]> {
    const size = Math.ceil(items.length / chunks);
    const out = items.slice(); // packed, overwritten below
    const parts: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += size) {
      const offset = i;
      parts.push(
        this.call<number[]>(items.slice(i, i + size)).then((values) => {
          for (let j = 0; j < values.length; j++) {
            out[offset + j] = values[j] as number;
          }
        }),
      );
    }
    await Promise.all(parts);
    return out;
  }

  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}
