// Copyright the @seed/concurrency authors. MIT license.
// Test fixture: worker processes (`cluster/worker.ts`) whose output lines the
// tests wait on, and the directory the test tasks share.

const WORKER = new URL("./worker.ts", import.meta.url).pathname;
export const TASKS = new URL("./_test_tasks.ts", import.meta.url).pathname;

interface Waiter {
  pattern: RegExp;
  resolve(line: string): void;
}

/** A `deno run cluster/worker.ts` child process. */
export class WorkerProcess {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #done: Promise<void>;
  #stderr = "";

  constructor(args: string[], env: Record<string, string>) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WORKER, ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = this.#read(this.child.stdout, (line) => this.#line(line));
    const err = this.#read(this.child.stderr, (line) => {
      this.#stderr = (this.#stderr + line + "\n").slice(-4000);
    });
    this.#done = Promise.all([out, err]).then(() => {});
  }

  get pid(): number {
    return this.child.pid;
  }

  async #read(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const parts = buffer.split("\n");
      buffer = parts.pop() as string;
      for (const line of parts) onLine(line);
    }
    if (buffer !== "") onLine(buffer);
  }

  #line(line: string): void {
    this.lines.push(line);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i] as Waiter;
      if (waiter.pattern.test(line)) {
        this.#waiters.splice(i, 1);
        waiter.resolve(line);
      }
    }
  }

  /** Resolves with the first line (printed so far or later) that matches. */
  waitFor(pattern: RegExp): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ pattern, resolve });
      this.child.status.then((status) =>
        reject(
          new Error(
            `Worker ${this.pid} exited (${status.code}) before printing ${pattern}: ${this.#stderr}`,
          ),
        )
      );
    });
  }

  /** Sends a signal and waits for the process and its output to end. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // Exited already.
    }
    const status = await this.child.status;
    await this.#done;
    return status;
  }
}

/** Starts a worker process and waits until it serves. */
export async function startWorker(
  servers: string,
  queue: string,
  options: {
    size?: number;
    ackWaitMs?: number;
    dir: string;
    isolation?: "thread" | "process";
  },
): Promise<WorkerProcess> {
  const worker = new WorkerProcess([
    ...(options.isolation === undefined
      ? []
      : ["--isolation", options.isolation]),
    "--servers",
    servers,
    "--queue",
    queue,
    "--module",
    TASKS,
    "--size",
    `${options.size ?? 1}`,
    "--ack-wait-ms",
    `${options.ackWaitMs ?? 30_000}`,
  ], { SEED_TEST_DIR: options.dir });
  try {
    await worker.waitFor(/^serving queue /);
  } catch (error) {
    await worker.stop("SIGKILL");
    throw error;
  }
  return worker;
}
