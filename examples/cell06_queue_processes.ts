// Notebook cell In [6], "Sharing Data Between Processes" with
// `multiprocessing.Queue`: the same producer and consumer, as two processes.
//
//   q = multiprocessing.Queue()
//
//   def producer():
//       for i in range(5):
//           q.put(i)
//
//   def consumer():
//       while not q.empty():
//           item = q.get()
//           print(f"Consumed {item}")
//
//   p1 = multiprocessing.Process(target=producer)
//   p2 = multiprocessing.Process(target=consumer)
//   p1.start(); p2.start(); p1.join(); p2.join()
//
// The notebook's processes reach `q` as a global, which works only where
// processes are forked, and its consumer has the same race as the thread
// version. Here the channel is passed to each task as an argument, each task
// runs in a worker of its own (one pool per role, as one Process each: they
// wait on each other, so neither may queue behind the other), the producer
// closes the channel when it is done, and the consumer prints from its worker
// until then.
import { WorkerPool } from "../mod.ts";
import { WorkerChannel } from "../channels/mod.ts";

await using producers = new WorkerPool({ size: 1 });
await using consumers = new WorkerPool({ size: 1 });
const q = new WorkerChannel<number>(2);

const p1 = producers.run(async (q: WorkerChannel<number>) => {
  for (let i = 0; i < 5; i++) await q.send(i);
  q.close();
}, [q]);
const p2 = consumers.run(async (q: WorkerChannel<number>) => {
  for await (const item of q) console.log(`Consumed ${item}`);
}, [q]);

await Promise.all([p1, p2]);
