// Notebook cell In [6], the Lock and Event parts: a critical section under a
// lock, and one thread that waits for an event until another sets it.
//
//   lock = threading.Lock()
//
//   def thread_safe_function():
//       with lock:
//           # Critical section of code
//           pass
//
//   event = threading.Event()
//
//   def wait_for_event():
//       event.wait()  # Wait until the event is set
//       print("Event occurred!")
//
//   def trigger_event():
//       event.set()  # Signal the event
//
// First in one event loop, with the in-loop `Lock` and `Event` (async tasks
// play the threads), then across a worker, with `SharedLock` and
// `SharedEvent` over shared memory.
import { WorkerPool } from "../mod.ts";
import {
  Event,
  Lock,
  SharedEvent,
  SharedLock,
  SharedValue,
} from "../sync/mod.ts";

// ---- one event loop ---------------------------------------------------------

const lock = new Lock();
let balance = 0;

async function threadSafeFunction(): Promise<void> {
  using _guard = await lock.acquire();
  // Critical section: a read, an await (where other tasks run), a write.
  const seen = balance;
  await Promise.resolve();
  balance = seen + 1;
}

await Promise.all(Array.from({ length: 5 }, threadSafeFunction));
console.log(
  `Critical section ran 5 times, one at a time: balance = ${balance}`,
);

const event = new Event();

async function waitForEvent(): Promise<void> {
  await event.wait(); // Wait until the event is set
  console.log("Event occurred!");
}

function triggerEvent(): void {
  event.set(); // Signal the event
}

const waiting = waitForEvent();
triggerEvent();
await waiting;

// ---- across a worker --------------------------------------------------------

await using pool = new WorkerPool({ size: 1 });

// The main thread and a worker both run a critical section under one
// SharedLock. The worker blocks in acquireSync(); the main thread awaits
// acquire(), which never blocks its event loop.
const sharedLock = new SharedLock();
const total = new SharedValue("i32", 0);
const inWorker = pool.run((lock: SharedLock, total: SharedValue<"i32">) => {
  for (let i = 0; i < 1000; i++) {
    using _guard = lock.acquireSync();
    total.value += 1; // a load, then a store: needs the lock
  }
}, [sharedLock, total]);
for (let i = 0; i < 1000; i++) {
  using _guard = await sharedLock.acquire();
  total.value += 1;
}
await inWorker;
console.log(`Main thread and worker, 1000 each: total = ${total.value}`);

// A worker waits for an event that the main thread sets...
const started = new SharedEvent();
const go = new SharedEvent();
const waiter = pool.run((started: SharedEvent, go: SharedEvent) => {
  started.set();
  go.waitSync(); // blocks this worker only
  return "Event occurred! (seen by a worker)";
}, [started, go]);
await started.wait();
go.set();
console.log(await waiter);

// ...and the main thread waits, without blocking, for one a worker sets.
const done = new SharedEvent();
const trigger = pool.run((done: SharedEvent) => done.set(), [done]);
await done.wait();
console.log("Event occurred! (set by a worker)");
await trigger;
