// A parent for the no-orphans test: starts two process workers, sets the
// second spinning in a synchronous loop, prints their pids as one JSON line,
// and waits to be killed.
import { CALL } from "../_proc_protocol.ts";
import { ProcessWorker } from "../_proc_spawn.ts";

const moduleUrl = new URL("./proc_tasks.ts", import.meta.url).href;
const workers = [
  new ProcessWorker({ moduleUrl }),
  new ProcessWorker({ moduleUrl }),
];
await Promise.all(workers.map((worker) => worker.ready));
workers[1]!.send([CALL, 0, "spin", []]);
await workers[1]!.flush();
console.log(JSON.stringify(workers.map((worker) => worker.pid)));
// Kept alive by the workers' channels until killed.
