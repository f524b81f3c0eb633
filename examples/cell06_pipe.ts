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
// receives a pipe end goes to an idle worker). It runs twice: with worker
// threads, where the two ends talk to each other directly, then with worker
// processes (`isolation: "process"`), the faithful translation: sender and
// receiver are two child processes, and the message passes through this
// program. Either way the main program only starts and waits.
import assert from "node:assert/strict";
import { WorkerPool } from "../mod.ts";
import { pipe, type PipeEnd } from "../channels/mod.ts";

for (const isolation of ["thread", "process"] as const) {
  // Both workers started up front, as the notebook starts both processes:
  // otherwise the sender, which never waits for the receiver, would be done
  // before a second worker was up, and the receiver would run after it in
  // the same worker.
  await using pool = new WorkerPool({ size: 2, minSize: 2, isolation });
  await pool.ready();
  const [parentConn, childConn] = pipe<string>();

  const p1 = pool.run(async (conn: PipeEnd<string>) => {
    await conn.send("Hello from the sender!");
    conn.close();
    return Deno.pid;
  }, [childConn]);
  const p2 = pool.run(async (conn: PipeEnd<string>) => {
    const msg = await conn.receive();
    console.log(`Received: ${msg}`);
    // The sender closed its end: the next receive says so.
    const next = await conn.receive().then(
      () => "a message",
      (error: Error) => error.name,
    );
    return { pid: Deno.pid, msg, next };
  }, [parentConn]);

  const [senderPid, receiver] = await Promise.all([p1, p2]);
  assert.equal(receiver.msg, "Hello from the sender!");
  assert.equal(receiver.next, "ChannelClosedError");
  if (isolation === "thread") {
    assert.equal(senderPid, Deno.pid);
    assert.equal(receiver.pid, Deno.pid);
    console.log("  (threads: sender and receiver in this process)");
  } else {
    assert.notEqual(senderPid, Deno.pid);
    assert.notEqual(receiver.pid, Deno.pid);
    assert.notEqual(senderPid, receiver.pid);
    console.log(
      `  (processes: sender pid ${senderPid}, receiver pid ${receiver.pid}, ` +
        `this program pid ${Deno.pid})`,
    );
  }
}
