// Notebook cell In [6], `multiprocessing.Pipe`: a two-way connection between
// two processes; the sender sends one message and closes its end.
//
//   parent_conn, child_conn = multiprocessing.Pipe()
//
//   def sender(conn):
//       conn.send("Hello from the sender!")
//       conn.close()
//
//   def receiver(conn):
//       msg = conn.recv()
//       print(f"Received: {msg}")
//
//   p1 = multiprocessing.Process(target=sender, args=(child_conn,))
//   p2 = multiprocessing.Process(target=receiver, args=(parent_conn,))
//   p1.start(); p2.start(); p1.join(); p2.join()
//
// Here each end is passed to a task in a pool of two workers (a task that
// receives a pipe end goes to an idle worker), and the two ends talk to each
// other directly: the main thread only starts and waits.
import { WorkerPool } from "../mod.ts";
import { pipe, type PipeEnd } from "../channels/mod.ts";

await using pool = new WorkerPool({ size: 2 });
const [parentConn, childConn] = pipe<string>();

const p1 = pool.run(async (conn: PipeEnd<string>) => {
  await conn.send("Hello from the sender!");
  conn.close();
}, [childConn]);
const p2 = pool.run(async (conn: PipeEnd<string>) => {
  const msg = await conn.receive();
  console.log(`Received: ${msg}`);
}, [parentConn]);

await Promise.all([p1, p2]);
