// A task module for the process worker tests (`_proc_*_test.ts`).

export function echo<T>(value: T): T {
  return value;
}

export function exit(code: number): never {
  Deno.exit(code);
}

/** Throws outside any call, from a timer. */
export function throwLater(message: string): Promise<never> {
  setTimeout(() => {
    throw new TypeError(message);
  });
  return new Promise(() => {});
}

/** Rejects a promise nobody handles. */
export function rejectLater(message: string): Promise<never> {
  void Promise.reject(new RangeError(message));
  return new Promise(() => {});
}

/** Keeps what it allocates until the heap runs out. */
export function allocate(): never {
  const kept: unknown[] = [];
  while (true) kept.push(new Array(100_000).fill({ n: kept.length }));
}

/** Spins forever in a synchronous loop. */
export function spin(): never {
  while (true) {
    // A task that never yields.
  }
}

export function readText(path: string): Promise<string> {
  return Deno.readTextFile(path);
}

export function pid(): number {
  return Deno.pid;
}

export function uncloneable(): () => void {
  return () => {};
}

/** Writes stray bytes into the channel, as broken task code could. */
export async function corrupt(): Promise<void> {
  const { Socket } = await import("node:net");
  new Socket({ fd: 3, readable: false, writable: true }).write("garbage!");
  return new Promise(() => {});
}
