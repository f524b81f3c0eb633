// Notebook cell In [6], "Sharing Data Between Threads" with `queue.Queue`: a
// producer thread puts 0..4 on a queue and a consumer thread prints them.
//
//   q = queue.Queue()
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
//   t1 = threading.Thread(target=producer)
//   t2 = threading.Thread(target=consumer)
//   t1.start(); t2.start(); t1.join(); t2.join()
//
// The notebook's consumer stops as soon as it finds the queue empty, so it may
// print fewer than five lines (or none) if it gets ahead of the producer. Here
// the producer closes the channel when it is done and the consumer reads until
// then: always all five. Handing values between tasks of one program needs no
// threads: two async tasks share an in-loop Channel.
import { Channel } from "../channels/mod.ts";

const q = new Channel<number>(2);

async function producer(): Promise<void> {
  for (let i = 0; i < 5; i++) await q.send(i);
  q.close();
}

async function consumer(): Promise<void> {
  for await (const item of q) console.log(`Consumed ${item}`);
}

await Promise.all([producer(), consumer()]);
