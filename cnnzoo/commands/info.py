"""cnnzoo info NAME [--json]: family, parameters, MACs, input size, reference figures, weights."""
from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("name", help="architecture (resnet20) or weight (resnet20.cifar10)")
    p.add_argument("--json", action="store_true", help="print the record as JSON")


def run(args) -> int:
    from cnnzoo.factory import model_info

    info = model_info(args.name)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['name']}  ({info['family']}, {info['size']} size)")
    if info["description"]:
        print(f"  {info['description']}")
    print(f"  params      {info['params']:,} ({info['params'] / 1e6:.2f} M)")
    print(f"  GMACs       {info['gmacs']} at {tuple(info['input_size'])}")
    print(f"  classes     {info['num_classes']} by default")
    ref = info["reference"]
    if ref:
        print("  reference   " + ", ".join(f"{k}={v}" for k, v in ref.items()))
    details = info.get("weight_details") or []
    for w in details:
        acc = (f"top-1 {w['top1']}" + (f" / top-5 {w['top5']}" if w.get("top5") is not None else "")
               + f" on {w.get('dataset') or '?'} {w.get('split') or ''}"
               + (f" (n={w['n']:,})" if w.get("n") else "")) if w.get("top1") is not None else "no accuracy stated"
        print(f"  weight      {w['name']:32s} {acc}  [{w['source']}]")
    if not details:
        print("  weights     none published")
    return 0
