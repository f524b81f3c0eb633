# Copyright the @seed/concurrency authors. MIT license.
# Python's multiprocessing.Pool on the workloads of bench/process_bench.ts,
# which runs this script once per round and reads the JSON it prints.
#
#   python3 bench/_python_pool.py tiny <tasks> <size>
#       apply_async(inc, (i,)) for i in range(tasks), then .get() on each
#   python3 bench/_python_pool.py map <items> <size>
#       Pool.map(double, list(range(items))), default chunksize
#   python3 bench/_python_pool.py cell <spawn|fork> <size>
#       get_context(method).Pool(size) + map(square, 1..10) + close + join
#
# Prints {"workload": ..., "ms": <the timed work>}. Only the work is timed,
# inside this process: not the interpreter's start, nor (for tiny and map) the
# pool's start, which a warm-up apply waits for (Pool starts every process up
# front, and the apply makes sure one has run a task). The cell times the
# pool's start too: that is its point.
import json
import multiprocessing
import multiprocessing.pool  # imported before the timing, as in a notebook
import sys
import time


def inc(x):
    return x + 1


def double(x):
    return x * 2


def square(x):
    return x * x


def tiny(tasks, size):
    with multiprocessing.Pool(size) as pool:
        pool.apply(inc, (0,))
        start = time.perf_counter()
        pending = [pool.apply_async(inc, (i,)) for i in range(tasks)]
        results = [p.get() for p in pending]
        ms = (time.perf_counter() - start) * 1000
    assert results[-1] == tasks
    return ms


def map_numbers(items, size):
    data = list(range(items))
    with multiprocessing.Pool(size) as pool:
        pool.apply(inc, (0,))
        start = time.perf_counter()
        results = pool.map(double, data)
        ms = (time.perf_counter() - start) * 1000
    assert results[-1] == (items - 1) * 2
    return ms


def cell(method, size):
    context = multiprocessing.get_context(method)
    start = time.perf_counter()
    pool = context.Pool(size)
    results = pool.map(square, range(1, 11))
    pool.close()
    pool.join()
    ms = (time.perf_counter() - start) * 1000
    assert results[9] == 100
    return ms


def main():
    workload, arg, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if workload == "tiny":
        ms = tiny(int(arg), size)
    elif workload == "map":
        ms = map_numbers(int(arg), size)
    elif workload == "cell":
        ms = cell(arg, size)
    else:
        raise SystemExit(f"unknown workload: {workload}")
    print(json.dumps({"workload": workload, "ms": ms}))


if __name__ == "__main__":
    main()
