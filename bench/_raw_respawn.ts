// Copyright the @seed/concurrency authors. MIT license.
// The floor of crash_bench.ts's "2% crash rate" group: raw Workers that
// each hold two items (one running, one waiting in its port, so that no
// worker idles while the main thread answers), where a worker that dies is
// terminated and replaced by a new Worker at once. The item that killed it
// counts as done, as a rejected call does in the pool; the item it held
// behind that one is sent to the replacement straight away (a Worker queues
// messages until its module has loaded). No queue object, no drain of the
// dead worker's port, no cancellation: what a hand-written pool that
// survives crashes must pay for them.

const WORKER_URL = new URL("./_raw_crash_worker.ts", import.meta.url);
/** Items a worker holds at once. */
const DEPTH = 2;

/** Raw Workers that replace any of their number that dies. */
export class RawRespawn {
  readonly #workers: Worker[] = [];

  /** Starts `size` workers at once. */
  constructor(size: number) {
    for (let i = 0; i < size; i++) this.#workers.push(spawn());
  }

  /**
   * Runs every item (a `burn` iteration count, negative to crash), replacing
   * the workers that die.
   *
   * @returns How many workers died.
   */
  run(items: readonly number[]): Promise<number> {
    let next = 0;
    let done = 0;
    let deaths = 0;
    return new Promise((resolve) => {
      const finish = () => {
        if (++done === items.length) resolve(deaths);
      };
      const serve = (slot: number, held: number[]) => {
        const worker = this.#workers[slot] as Worker;
        const give = (item: number) => {
          held.push(item);
          worker.postMessage(items[item]);
        };
        worker.onmessage = () => {
          held.shift();
          finish();
          if (next < items.length) give(next++);
        };
        worker.onerror = (event) => {
          event.preventDefault();
          worker.terminate();
          deaths++;
          held.shift(); // the item that killed it
          this.#workers[slot] = spawn();
          serve(slot, held.splice(0));
          finish();
        };
        for (const item of held.splice(0)) give(item);
        while (held.length < DEPTH && next < items.length) give(next++);
      };
      for (let slot = 0; slot < this.#workers.length; slot++) serve(slot, []);
    });
  }

  /** Terminates the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

function spawn(): Worker {
  return new Worker(WORKER_URL, { type: "module" });
}
