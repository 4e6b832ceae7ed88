"""Measure the CPU inference speed of every published weight and record it in its weights-index entry.

    python benchmarks/zoo_speed.py            # all entries of weights/index.json
    python benchmarks/zoo_speed.py resnet20.cifar10
    python benchmarks/zoo_speed.py resnet20.cifar10 --index /tmp/index.json --warmup 0 --iters 1 --rounds 1  # smoke

Run it on a quiet machine (nothing else on the cores). For each weight: the model as built and after
``cnnzoo.optimize_for_inference`` (BatchNorm folded, channels_last), fp32, batch 256 for 32 px inputs and 32
otherwise, all torch threads, interleaved timed rounds (``cnnzoo.deploy.benchmark.run_benchmark``). The
``speed`` field it writes is what docs/model_zoo.md shows; regenerate that page afterwards
(docs/scripts/gen_model_zoo.py).
"""
from __future__ import annotations

import argparse
import sys
import time

from harness import command_line

from cnnzoo.deploy.benchmark import BenchConfig, run_benchmark
from cnnzoo.hub.index import load_index, upsert_entry


def batch_for(input_size: list[int]) -> int:
    return 256 if input_size[1] <= 64 else 32


def measure(name: str, entry: dict, args) -> dict:
    size = entry["input_size"]
    cfg = BenchConfig(model=entry["architecture"], compare=None, batch=batch_for(size), img_size=size[1],
                      optimized=True, memory=False, warmup=args.warmup, iters=args.iters, rounds=args.rounds)
    result = run_benchmark(cfg)
    built, optimized = result.side("cnnzoo"), result.side("cnnzoo+opt")
    return dict(images_per_s=round(built.images_per_s(cfg.batch), 1),
                optimized_images_per_s=round(optimized.images_per_s(cfg.batch), 1),
                batch=cfg.batch, img_size=size[1], precision="fp32", threads=result.machine["torch_threads"],
                cpu=result.machine["cpu"], date=time.strftime("%Y-%m-%d"), command=command_line(__file__, [name]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="arch.tag entries (default: every entry of the index)")
    parser.add_argument("--index", help="weights index to read and update (default: the one cnnzoo uses)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per side")
    parser.add_argument("--iters", type=int, default=20, help="timed steps per side")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the timed steps are split over")
    args = parser.parse_args(argv)
    index = load_index(args.index)
    names = args.names or sorted(index)
    unknown = [n for n in names if n not in index]
    if unknown:
        sys.exit(f"not in the weights index: {', '.join(unknown)}; entries: {', '.join(sorted(index))}")
    for name in names:
        entry = dict(index[name])
        entry["speed"] = measure(name, entry, args)
        upsert_entry(entry, args.index)
        s = entry["speed"]
        print(f"{name}: {s['images_per_s']} img/s as built, {s['optimized_images_per_s']} optimised "
              f"(batch {s['batch']} at {s['img_size']} px, {s['threads']} threads)")


if __name__ == "__main__":
    main()
