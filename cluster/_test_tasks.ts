// Copyright the @seed/concurrency authors. MIT license.
// Test fixture: the task module the cluster tests' worker processes serve.
// Tasks that the tests watch print a line on the process's stdout, which the
// tests read (`_test_cluster.ts`); files go in $SEED_TEST_DIR.

import { currentTask } from "../task.ts";

function testDir(): string {
  const dir = Deno.env.get("SEED_TEST_DIR");
  if (dir === undefined) throw new Error("SEED_TEST_DIR is not set");
  return dir;
}

export function square(x: number): number {
  return x * x;
}

export function label(x: string): string {
  return `<${x}>`;
}

export function pid(): number {
  return Deno.pid;
}

/** Prints that it ran. */
export function echo(tag: string): string {
  console.log(`ran ${tag}`);
  return tag;
}

/**
 * Squares `x`, except that the first run for 7 or for `x >= 1000` prints
 * `holding x pid` and never ends (later runs square).
 */
export function holdOnce(x: number): Promise<number> {
  if (x !== 7 && x < 1000) return Promise.resolve(x * x);
  try {
    Deno.writeTextFileSync(`${testDir()}/held-${x}`, "", { createNew: true });
  } catch {
    return Promise.resolve(x * x);
  }
  console.log(`holding ${x} ${Deno.pid}`);
  return new Promise(() => {});
}

/** Kills its thread from outside the task. */
export function crash(): Promise<never> {
  setTimeout(() => {
    throw new Error("boom outside the task");
  });
  return new Promise(() => {});
}

/** Prints `running tag`, waits for its cancellation, prints `aborted tag`. */
export async function waitForAbort(tag: string): Promise<void> {
  const { signal } = currentTask();
  console.log(`running ${tag}`);
  await new Promise((resolve) =>
    signal.addEventListener("abort", resolve, { once: true })
  );
  console.log(`aborted ${tag}`);
}

/** Prints `waiting x`, waits for the file `gate`, returns x squared. */
export async function gated(x: number): Promise<number> {
  const gate = `${testDir()}/gate`;
  console.log(`waiting ${x}`);
  const exists = () => Deno.stat(gate).then(() => true, () => false);
  if (!(await exists())) {
    using watcher = Deno.watchFs(testDir());
    if (!(await exists())) {
      for await (const _ of watcher) if (await exists()) break;
    }
  }
  return x * x;
}

/** Prints `spinning tag`, then spins in a synchronous loop for ever. */
export function spin(tag: string): never {
  console.log(`spinning ${tag}`);
  while (true) {
    // Only a kill ends this.
  }
}
