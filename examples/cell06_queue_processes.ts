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
// version. Here the channel is passed to each task as an argument, the two
// tasks run in two workers of one pool (a task that receives a channel goes to
// an idle worker, so neither can queue behind the other), the producer closes
// the channel when it is done, and the consumer prints from its worker until
// then.
//
// It runs twice: with worker threads, whose channel is shared memory, then
// with worker processes (`isolation: "process"`), the faithful translation:
// the producer and the consumer are two child processes, and the channel's
// messages pass through this program, as a `multiprocessing.Queue`'s pass
// through a pipe and a feeder thread.
import assert from "node:assert/strict";
import { WorkerPool } from "../mod.ts";
import { WorkerChannel } from "../channels/mod.ts";

for (const isolation of ["thread", "process"] as const) {
  console.log(
    isolation === "thread"
      ? "Threads: producer and consumer in two worker threads"
      : "Processes: producer and consumer in two child processes",
  );
  await using pool = new WorkerPool({ size: 2, isolation });
  const q = new WorkerChannel<number>(2);

  const p1 = pool.run(async (q: WorkerChannel<number>) => {
    for (let i = 0; i < 5; i++) await q.send(i);
    q.close();
    return Deno.pid;
  }, [q]);
  const p2 = pool.run(async (q: WorkerChannel<number>) => {
    const consumed: number[] = [];
    for await (const item of q) {
      console.log(`  Consumed ${item}`);
      consumed.push(item);
    }
    return { pid: Deno.pid, consumed };
  }, [q]);

  const [producerPid, consumer] = await Promise.all([p1, p2]);
  assert.deepEqual(consumer.consumed, [0, 1, 2, 3, 4]);
  if (isolation === "thread") {
    assert.equal(producerPid, Deno.pid);
    assert.equal(consumer.pid, Deno.pid);
  } else {
    assert.notEqual(producerPid, Deno.pid);
    assert.notEqual(consumer.pid, Deno.pid);
    assert.notEqual(producerPid, consumer.pid);
    console.log(
      `  (producer pid ${producerPid}, consumer pid ${consumer.pid}, ` +
        `this program pid ${Deno.pid})`,
    );
  }
}
