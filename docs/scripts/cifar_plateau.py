"""Where the CIFAR-10 runs plateau: validation top-1 (EMA) at fractions of each run, from the committed curves.

Reads the metrics.jsonl that publishing copied to docs/weights/<name>/ and the curves of runs that were not
published (docs/experiments/results/cifar_plateau/), and prints a markdown table for docs/training.md.

    python docs/scripts/cifar_plateau.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CURVES = {
    "resnet20.cifar10 (70 epochs, published)": ROOT / "docs/weights/resnet20.cifar10/metrics.jsonl",
    "resnet56.cifar10 (40 epochs, published)": ROOT / "docs/weights/resnet56.cifar10/metrics.jsonl",
    "se_resnet20 (85 epochs, not published)":
        ROOT / "docs/experiments/results/cifar_plateau/se_resnet20.cifar10-85ep.metrics.jsonl",
    "resnext29_8x4d_w128.cifar10 (50 epochs, published)":
        ROOT / "docs/weights/resnext29_8x4d_w128.cifar10/metrics.jsonl",
    "resnext29_8x4d_w128 + cutout 16 (50 epochs, not published)":
        ROOT / "docs/experiments/results/cifar_plateau/resnext29_8x4d_w128.cifar10-50ep-cutout16.metrics.jsonl",
}
FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def epochs(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("kind") == "epoch"]


def main() -> None:
    head = " | ".join(f"val @{int(f * 100)}%" for f in FRACTIONS)
    print(f"| run | {head} | last 10 epochs: val gain | train top-1 at end |")
    print("| --- |" + " ---: |" * (len(FRACTIONS) + 2))
    for label, path in CURVES.items():
        if not path.is_file():
            continue
        rows = epochs(path)
        val = [r.get("val_ema_top1", r["val_top1"]) for r in rows]
        at = [val[max(0, round(f * len(val)) - 1)] for f in FRACTIONS]
        gain = val[-1] - val[-11] if len(val) > 10 else float("nan")
        cells = " | ".join(f"{v:.2f}" for v in at)
        print(f"| {label} | {cells} | {gain:+.2f} | {rows[-1]['train_top1']:.2f} |")


if __name__ == "__main__":
    main()
