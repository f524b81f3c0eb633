// Notebook cell In [3]: a producer thread adds 0..9 to a shared list and a
// consumer thread removes them, both under a Lock, pacing themselves with
// sleeps.
//
//   shared_list = []
//   list_lock = threading.Lock()
//
//   def add_to_list():
//       for i in range(10):
//           with list_lock:
//               shared_list.append(i)
//               print(f"Added {i} to list")
//           time.sleep(0.1)
//
//   def remove_from_list():
//       for i in range(10):
//           with list_lock:
//               if shared_list:
//                   removed = shared_list.pop(0)
//                   print(f"Removed {removed} from list")
//           time.sleep(0.15)
//   ...
//   print("Final list:", shared_list)
//
// Two tasks that share a list need no threads in Deno: two async tasks of one
// event loop share it, and the in-loop `Lock` guards it. (Code between two
// `await`s is never interrupted, so these short sections would be safe even
// without the lock; it becomes necessary as soon as a section awaits, say to
// write the item to a file. It is kept here to mirror the notebook.)
//
// The notebook's consumer makes 10 attempts and skips those that find the
// list empty, so its "Final list: []" depends on timing. Ours keeps going
// until it has removed 10 items: the list always ends empty. It also starts
// 25 ms late, so that the two tasks never wake at the same moment and the
// order of the lines does not depend on timer jitter.
import { Lock } from "../sync/mod.ts";

const sharedList: number[] = [];
const listLock = new Lock();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function addToList(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    {
      using _guard = await listLock.acquire();
      sharedList.push(i);
      console.log(`Added ${i} to list`);
    }
    await sleep(100);
  }
}

async function removeFromList(): Promise<void> {
  await sleep(25);
  for (let removedCount = 0; removedCount < 10;) {
    {
      using _guard = await listLock.acquire();
      if (sharedList.length > 0) {
        const removed = sharedList.shift();
        console.log(`Removed ${removed} from list`);
        removedCount++;
      }
    }
    await sleep(150);
  }
}

await Promise.all([addToList(), removeFromList()]);
console.log(`Final list: [${sharedList.join(", ")}]`);
