// Notebook cell In [2]: the same pool map, with the task in a module of its
// own, as a larger program would have it: the task name and argument types are
// checked by TypeScript against the module.
import { WorkerPool } from "../mod.ts";

await using pool = new WorkerPool<typeof import("./tasks.ts")>(
  new URL("./tasks.ts", import.meta.url),
  { size: 4 },
);
const results = await pool.map(
  "square",
  Array.from({ length: 10 }, (_, i) => i),
);
console.log(`[${results.join(", ")}]`);
