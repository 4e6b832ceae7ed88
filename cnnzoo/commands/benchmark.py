"""cnnzoo benchmark MODEL [--compare timm|torchvision|auto|none] [--mode infer|train] [--batch B] [--img-size S]
[--device cpu|cuda] [--channels-last] [--precision fp32|bf16|fp16] [--optimized] [--json]"""
from __future__ import annotations

import json
import sys


def add_arguments(p) -> None:
    p.add_argument("model", help="architecture (resnet50); a weight tag is accepted and ignored (speed only)")
    p.add_argument("--compare", default="auto", choices=["auto", "timm", "torchvision", "none"],
                   help="the counterpart from the converters' equivalence table (auto: the first listed)")
    p.add_argument("--mode", default="infer", choices=["infer", "train"],
                   help="infer: forward under inference_mode; train: forward + backward + SGD step")
    p.add_argument("--batch", type=int, default=32, help="images per step")
    p.add_argument("--img-size", type=int, default=None, help="default: the model's input size")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--channels-last", action="store_true", help="channels_last model and input on every side")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"], help="bf16/fp16 via autocast")
    p.add_argument("--optimized", action="store_true",
                   help="add a side: cnnzoo after optimize_for_inference (BN folded, channels_last)")
    p.add_argument("--compile", action="store_true", help="torch.compile the optimized side")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per side")
    p.add_argument("--iters", type=int, default=10, help="timed steps per side")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds the timed steps are split into")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probe")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from cnnzoo.deploy.benchmark import BenchConfig, run_benchmark

    cfg = BenchConfig(model=args.model, compare=None if args.compare == "none" else args.compare, mode=args.mode,
                      batch=args.batch, img_size=args.img_size, device=args.device,
                      channels_last=args.channels_last, precision=args.precision, optimized=args.optimized,
                      compile=args.compile, warmup=args.warmup, iters=args.iters, rounds=args.rounds,
                      memory=not args.no_memory, threads=args.threads)
    quiet = args.json
    result = run_benchmark(cfg, progress=None if quiet else (lambda m: print(f"  {m}", file=sys.stderr)))
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.format())
    return 0
