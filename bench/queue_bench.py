#!/usr/bin/env python3
"""The Python side of `make bench-queue`: one producer thread and one consumer
thread move N items through queue.Queue(maxsize).  Prints items per second as
a single number, so queue_bench.c can read it and print the ratio."""
import queue
import sys
import threading
import time


def run(n, maxsize):
    q = queue.Queue(maxsize)

    def produce():
        for i in range(n):
            q.put(i)

    start = time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()
    for _ in range(n):
        q.get()
    producer.join()
    return n / (time.perf_counter() - start)


if __name__ == "__main__":
    print(f"{run(int(sys.argv[1]), int(sys.argv[2])):.0f}")
