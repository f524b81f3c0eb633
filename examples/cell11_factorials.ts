// Notebook cell In [11]: ThreadPoolExecutor().map(factorial, 1..10), printed
// as the notebook prints it. Exact for any n, with BigInt.
import { WorkerPool } from "../mod.ts";

const numbers = Array.from({ length: 10 }, (_, i) => i + 1);

await using pool = new WorkerPool<typeof import("./tasks.ts")>(
  new URL("./tasks.ts", import.meta.url),
);
const results = await pool.map("factorial", numbers);

numbers.forEach((number, i) => {
  console.log(`Factorial of ${number} is ${results[i]}`);
});
