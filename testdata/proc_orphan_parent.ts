// A parent for the no-orphans test: starts two process workers, prints their
// pids as one JSON line once both are ready, and waits to be killed.
import { ProcessWorker } from "../_proc_spawn.ts";

const moduleUrl = new URL("./proc_tasks.ts", import.meta.url).href;
const workers = [
  new ProcessWorker({ moduleUrl }),
  new ProcessWorker({ moduleUrl }),
];
await Promise.all(workers.map((worker) => worker.ready));
console.log(JSON.stringify(workers.map((worker) => worker.pid)));
// Kept alive by the workers' channels until killed.
