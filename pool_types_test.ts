// Copyright the @seed/concurrency authors. MIT license.
// What TypeScript tells a user who calls a task with the wrong arguments:
// the overload that names the task and its parameter, and nothing pointing
// into pool.ts.
import assert from "node:assert/strict";

Deno.test("a wrong argument to a task is reported against the task's parameters, without TS2793", async () => {
  const dir = await Deno.makeTempDir({ prefix: "seed-types-" });
  try {
    const file = `${dir}/wrong.ts`;
    const pool = new URL("./pool.ts", import.meta.url).href;
    const tasks = new URL("./testdata/tasks.ts", import.meta.url).href;
    await Deno.writeTextFile(
      file,
      `import { WorkerPool } from "${pool}";
import type * as Tasks from "${tasks}";
const pool = new WorkerPool<typeof Tasks>(new URL("${tasks}"));
await pool.run("square", ["seven"]);
await pool.submit("add", [1]);
await pool.map("add", [1, 2]);
await pool.starmap("add", [["1", 2]]);
`,
    );
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    assert.match(text, /Found 4 errors/, text);
    assert.match(text, /"square", args: \[x: number\]/);
    assert.match(text, /Type 'string' is not assignable to type 'number'/);
    assert.match(text, /Argument of type '"add"' is not assignable/);
    assert.doesNotMatch(text, /TS2793/);
    assert.doesNotMatch(text, /implementation/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
