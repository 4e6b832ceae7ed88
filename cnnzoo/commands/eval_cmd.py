"""cnnzoo eval MODEL[.TAG]|WEIGHTS --data DIR|NAME [--split test] [--tta] [--out DIR]"""
from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("model", help="a weight (resnet20.cifar10), or an architecture with --weights")
    p.add_argument("--weights", help="a model.safetensors file (or run directory) to load into MODEL "
                                     "(default: MODEL's own weight)")
    p.add_argument("--data", required=True,
                   help="(required) image folder or dataset name (cifar10, imagenette, intel_image, sample)")
    p.add_argument("--split", help="split to evaluate (default: the dataset's evaluation split)")
    p.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    p.add_argument("--tta", action="store_true", help="average with the horizontally flipped image")
    p.add_argument("--subset", type=int, default=0, help="evaluate a seeded subset of this many images (0: all)")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda or cuda:N")
    p.add_argument("--precision", default="auto", help="auto | fp32 | bf16 | fp16")
    p.add_argument("--skip-bad", action="store_true", help="leave out unreadable files with a warning")
    p.add_argument("--out", help="write eval_<split>.json and confusion_<split>.png here (default: nowhere)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")


def run(args) -> int:
    from cnnzoo.factory import create_model
    from cnnzoo.engine import evaluate

    model = create_model(args.model, pretrained=args.weights or True)
    result = evaluate(model, args.data, args.split, batch_size=args.batch_size, tta=args.tta, device=args.device,
                      precision=args.precision, subset=args.subset, out=args.out, skip_bad=args.skip_bad)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.model} on {result['dataset']} {result['split']} ({result['n']} images, {result['precision']}"
          f"{', flip TTA' if result['tta'] else ''}): top-1 {result['top1']:.2f}%  top-5 {result['top5']:.2f}%  "
          f"loss {result['loss']:.4f}")
    shown = dict(zip(model.pretrained_cfg.get("labels") or [], model.pretrained_cfg.get("label_names") or []))
    for name, acc in result["per_class"].items():  # Imagenette's folder ids shown by name
        print(f"  {shown.get(name, name):<24} {acc:6.2f}%")
    return 0
