"""Why cnnzoo's tests (and runs sharing the CPU) use one intra-op thread.

Times a small training step (resnet20, batch 2 and 128) with 1 and 2 torch threads, first on an idle machine,
then while a background process keeps one core busy — interleaved, medians over repeats. On 2 cores, two
OpenMP threads must meet at a barrier after every op; when another process holds one core, each barrier waits
for the scheduler, so a step can become ~100x slower than with one thread.

    python benchmarks/threads_under_load.py
"""
from __future__ import annotations

import multiprocessing as mp
import statistics
import time

import torch

import cnnzoo


def _busy(stop):
    x = 0
    while not stop.is_set():
        x += 1


def step_time(model, batch: int, threads: int, repeats: int = 5) -> float:
    torch.set_num_threads(threads)
    x = torch.randn(batch, 3, 32, 32)
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        model(x).sum().backward()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def measure(label: str) -> None:
    model = cnnzoo.create_model("resnet20")
    for batch in (2, 128):
        one = step_time(model, batch, 1)
        two = step_time(model, batch, 2)
        print(f"{label:<22} batch {batch:>3}: 1 thread {one * 1e3:8.1f} ms   2 threads {two * 1e3:8.1f} ms   "
              f"2/1 = {two / one:6.2f}x", flush=True)


def main() -> None:
    measure("idle")
    stop = mp.Event()
    proc = mp.Process(target=_busy, args=(stop,), daemon=True)
    proc.start()
    try:
        measure("one core kept busy")
    finally:
        stop.set()
        proc.join()


if __name__ == "__main__":
    main()
