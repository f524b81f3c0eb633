// Notebook cell In [6], the Value and Array part: a shared integer and a
// shared array, each changed by another process under its own lock.
//
//   shared_value = multiprocessing.Value('i', 0)  # 'i' indicates an integer
//   shared_array = multiprocessing.Array('i', [1, 2, 3, 4, 5])
//
//   def increment_value(val):
//       with val.get_lock():
//           val.value += 1
//
//   def modify_array(arr):
//       with arr.get_lock():
//           for i in range(len(arr)):
//               arr[i] += 1
//
//   p1 = multiprocessing.Process(target=increment_value, args=(shared_value,))
//   p2 = multiprocessing.Process(target=modify_array, args=(shared_array,))
//   ...
//   print(shared_value.value)
//   print(shared_array[:])
//
// Pool workers play the processes. A SharedValue or SharedArray passed as an
// argument of a task (also inside an array or a plain object) reaches the
// worker over the same shared memory, lock included; `.lock` is `get_lock()`.
import { WorkerPool } from "../mod.ts";
import { SharedArray, SharedValue } from "../sync/mod.ts";

const sharedValue = new SharedValue("i32", 0);
const sharedArray = new SharedArray("i32", [1, 2, 3, 4, 5]);

function incrementValue(val: SharedValue<"i32">): void {
  using _guard = val.lock.acquireSync();
  val.value += 1;
}

function modifyArray(arr: SharedArray<"i32">): void {
  using _guard = arr.lock.acquireSync();
  for (let i = 0; i < arr.length; i++) arr.set(i, arr.get(i) + 1);
}

await using pool = new WorkerPool({ size: 2 });
await Promise.all([
  pool.run(incrementValue, [sharedValue]),
  pool.run(modifyArray, [sharedArray]),
]);

console.log(sharedValue.value);
console.log(`[${sharedArray.toArray().join(", ")}]`);
