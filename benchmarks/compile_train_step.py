"""Is a torch.compile'd training step faster than eager for a CIFAR model? Side by side in one process.

    python benchmarks/compile_train_step.py densenet_bc_52_k12     # prints eager ms, compiled ms, speedup

bf16 autocast, channels_last, batch 128 at 32 px, SGD step, one torch thread (as the CIFAR recipes train);
both sides warm up (the compiled one compiles), then 3 interleaved rounds of 3 steps; medians. Used to decide
which recipes set ``compile: true``.
"""
from __future__ import annotations

import argparse
import sys

import torch
from harness import interleave, set_threads

import cnnzoo


def train_step(arch: str, batch: int, compiled: bool):
    """One bf16-autocast SGD step of ``arch`` on a fixed channels_last batch, eager or compiled."""
    torch.manual_seed(0)
    model = cnnzoo.create_model(arch).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    forward = torch.compile(model) if compiled else model
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(forward(x).float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("arch")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=3, help="steps per side per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per side (the compiled one compiles)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    set_threads(args.threads)
    sides = {"eager": train_step(args.arch, args.batch, False), "compiled": train_step(args.arch, args.batch, True)}
    med = interleave(sides, args.rounds, warmup=args.warmup, repeat=args.steps).medians
    print(args.arch, "eager ms", round(med["eager"] * 1000), "compiled ms", round(med["compiled"] * 1000),
          "speedup", round(med["eager"] / med["compiled"], 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
