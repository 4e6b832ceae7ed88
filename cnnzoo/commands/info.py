"""cnnzoo info NAME [--json]: family, parameters, MACs, input size, reference figures, weights; for ARCH.TAG the
weight itself (accuracy, dataset, sha256, size, recipe, licence)."""
from __future__ import annotations

import json

from ..factory import model_info


def add_arguments(p) -> None:
    p.add_argument("name", help="architecture (resnet20) or weight (resnet20.cifar10)")
    p.add_argument("--json", action="store_true", help="print the record as JSON")


def run(args) -> int:
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
    if "weight" in info:
        _print_weight(info["weight"])
        return 0
    details = info.get("weight_details") or []
    for w in details:
        print(f"  weight      {w['name']:32s} {_accuracy(w)}  [{w['source']}]")
    if not details:
        print("  weights     none published")
    return 0


def _accuracy(w: dict) -> str:
    if w.get("top1") is None:
        return "no accuracy stated"
    return (f"top-1 {w['top1']}" + (f" / top-5 {w['top5']}" if w.get("top5") is not None else "")
            + f" on {w.get('dataset') or '?'} {w.get('split') or ''}" + (f" (n={w['n']:,})" if w.get("n") else ""))


def _print_weight(w: dict) -> None:
    """Everything known about one weight, one field a line."""
    print(f"weight {w['name']}  ({'ships with cnnzoo' if w['shipped'] else 'converted on import: ' + w['import_command']})")
    metrics, dataset = w.get("metrics") or {}, w.get("dataset")
    if metrics:
        print(f"  accuracy    top-1 {metrics.get('top1')} / top-5 {metrics.get('top5')} on {metrics.get('split')} "
              f"(n={metrics.get('n')}, {metrics.get('precision', 'fp32')})")
    elif w.get("top1") is not None:
        print(f"  accuracy    {_accuracy(w)}")
    if isinstance(dataset, dict):
        print(f"  dataset     {dataset.get('name')}: {dataset.get('split')} ({dataset.get('num_images')} images)")
    elif dataset:
        print(f"  dataset     {dataset}")
    names = w.get("label_names") or w.get("labels")
    rows = [("classes", f"{w.get('num_classes')}" + (f": {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}"
                                                     if names else "")),
            ("input", w.get("input_size") and f"{tuple(w['input_size'])}, mean {w.get('mean')}, std {w.get('std')}, "
                                              f"{w.get('interpolation')}, crop_pct {w.get('crop_pct')}"),
            ("file", w.get("file")), ("sha256", w.get("sha256")),
            ("size", w.get("size") and f"{w['size']:,} bytes"), ("source", w.get("source")),
            ("recipe", w.get("recipe")), ("command", w.get("command")), ("epochs", w.get("epochs")),
            ("trained", w.get("date")), ("licence", w.get("license")), ("hub", w.get("hf_repo_id"))]
    for label, value in rows:
        if value:
            print(f"  {label:<11} {value}")
