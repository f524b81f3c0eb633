// Notebook cell In [1]: a pool of 4 workers squares 0..9.
//
//   with multiprocessing.Pool(processes=4) as pool:
//       results = pool.map(worker_function, range(10))
//   print(results)
import { WorkerPool } from "../mod.ts";

await using pool = new WorkerPool({ size: 4 });
const results = await pool.map(
  (x: number) => x * x,
  Array.from({ length: 10 }, (_, i) => i),
);
console.log(`[${results.join(", ")}]`);
