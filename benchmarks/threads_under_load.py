"""Why cnnzoo's tests (and runs sharing the CPU) use one intra-op thread.

Times a small training step (resnet20, batch 2 and 128) with 1 and 2 torch threads, first on an idle machine,
then while a background process keeps one core busy — interleaved, medians over repeats. On 2 cores, two
OpenMP threads must meet at a barrier after every op; when another process holds one core, each barrier waits
for the scheduler, so a step can become ~100x slower than with one thread.

    python benchmarks/threads_under_load.py
"""
from __future__ import annotations

import argparse
import multiprocessing as mp

import torch
from harness import interleave, set_threads

import cnnzoo

THREADS = (1, 2)


def _busy(stop):
    x = 0
    while not stop.is_set():
        x += 1


def step_with_threads(model, x, threads: int):
    """A side: one forward + backward with ``threads`` intra-op threads."""
    def step():
        set_threads(threads)
        model(x).sum().backward()

    return step


def measure(label: str, batches: list[int], repeats: int) -> None:
    model = cnnzoo.create_model("resnet20")
    for batch in batches:
        x = torch.randn(batch, 3, 32, 32)
        sides = {n: step_with_threads(model, x, n) for n in THREADS}
        med = interleave(sides, repeats, warmup=1).medians
        print(f"{label:<22} batch {batch:>3}: 1 thread {med[1] * 1e3:8.1f} ms   2 threads {med[2] * 1e3:8.1f} ms   "
              f"2/1 = {med[2] / med[1]:6.2f}x", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, nargs="+", default=[2, 128])
    p.add_argument("--repeats", type=int, default=5, help="interleaved rounds per batch size")
    args = p.parse_args(argv)
    measure("idle", args.batches, args.repeats)
    stop = mp.Event()
    proc = mp.Process(target=_busy, args=(stop,), daemon=True)
    proc.start()
    try:
        measure("one core kept busy", args.batches, args.repeats)
    finally:
        stop.set()
        proc.join()


if __name__ == "__main__":
    main()
