"""Why does cnnzoo's ResNet-20 train slower than a textbook one? Take the model and the engine apart, side by side.

Every variant trains ResNet-20 on the shared CIFAR-10 copy (train minus the engine's seeded 5,000-image val split)
with the same budget, batch 128, SGD Nesterov 0.1, wd 5e-4 on conv/linear weights, one-cycle schedule, random
crop 4 + flip, one thread, and reports val top-1 after every epoch and test top-1 (10,000 images) once at the end.

- ``plain_*`` variants use a 40-line loop written here (its own crop/flip, its own schedule from torch), so they
  share nothing with the engine but the decoded uint8 images;
- ``engine_*`` variants use ``cnnzoo.engine.train`` with the given model and config overrides;
- ``textbook`` is ResNet-20 as a tutorial writes it (1x1-conv "option B" shortcuts, PyTorch's default init);
  ``cnnzoo`` is ``create_model("resnet20", **kwargs)``;
- ``jpeg_q50`` / ``jpeg_q30`` re-encode the copy (train and test) at a lower JPEG quality to measure how much
  compression costs this recipe (the shared copy is already JPEG q75; the original pixels are not on this machine).

Results are appended to a JSONL file (one line a finished variant) that is committed, so the study resumes
across sessions: finished variants are skipped. ``--table`` prints the markdown table for docs/training.md.

    python docs/scripts/resnet20_ablation.py --epochs 15            # every variant not yet in the file
    python docs/scripts/resnet20_ablation.py --only engine_default plain_textbook
    python docs/scripts/resnet20_ablation.py --table
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import cnnzoo
from cnnzoo.data import carve_validation, data_root, scan_folder
from cnnzoo.data.cache import load_or_build
from cnnzoo.engine import train

RESULTS = Path(__file__).resolve().parents[1] / "experiments" / "resnet20_ablation.jsonl"
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616)
BASE = dict(batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
            schedule="onecycle", warmup_epochs=0, label_smoothing=0.0, ema=False, val_size=5000, val_seed=0,
            loader="tensor", crop_padding=4, hflip=True, precision="bf16", channels_last=True, seed=0, threads=1,
            log_every=100)


# ---------------------------------------------------------------------------------------------------------------
# A textbook ResNet-20 (option-B shortcuts, PyTorch default init): what a tutorial user would write
# ---------------------------------------------------------------------------------------------------------------
class TextbookBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


class TextbookResNet20(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.num_classes = num_classes
        self.pretrained_cfg = {}
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                layers.append(TextbookBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1).flatten(1))


# ---------------------------------------------------------------------------------------------------------------
# Data: decoded once (uint8), split exactly as the engine splits it
# ---------------------------------------------------------------------------------------------------------------
def reencoded_copy(src: Path, quality: int) -> Path:
    """train/ and test/ of ``src`` re-saved as JPEG at ``quality`` under the temp dir (made once)."""
    from PIL import Image

    dst = Path(tempfile.gettempdir()) / f"cnnzoo-cifar10-q{quality}"
    done = dst / ".complete"
    if done.exists():
        return dst
    for split in ("train", "test"):
        for img_path in sorted((src / split).glob("*/*.jpg")):
            out = dst / split / img_path.parent.name / img_path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            with Image.open(img_path) as img:
                img.convert("RGB").save(out, quality=quality)
    done.touch()
    return dst


def tensors(root: Path):
    train = scan_folder(root / "train")
    keep, held = carve_validation(len(train), BASE["val_size"], BASE["val_seed"])
    x, y = load_or_build(train)
    xt, yt = load_or_build(scan_folder(root / "test"))
    return (x[keep], y[keep]), (x[held], y[held]), (xt, yt)


# ---------------------------------------------------------------------------------------------------------------
# The plain loop
# ---------------------------------------------------------------------------------------------------------------
def normalize(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(STD).view(1, 3, 1, 1) * 255
    return (x.float() - mean) / std


def crop_flip(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    padded = F.pad(x, (4, 4, 4, 4))
    out = torch.empty_like(x)
    for i in range(len(x)):
        top, left, flip = torch.randint(0, 9, (2,), generator=g).tolist() + [torch.rand(1, generator=g).item()]
        img = padded[i, :, top:top + 32, left:left + 32]
        out[i] = img.flip(2) if flip < 0.5 else img
    return out


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum((model(normalize(x[i:i + 500]).contiguous(memory_format=torch.channels_last)).argmax(1)
                   == y[i:i + 500]).sum().item() for i in range(0, len(y), 500))
    return round(100 * correct / len(y), 2)


def plain_loop(model: nn.Module, data, epochs: int, seed: int = 0) -> dict:
    (x, y), (xv, yv), (xt, yt) = data
    model = model.to(memory_format=torch.channels_last)
    decay = [p for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in [m.weight]]
    rest = [p for p in model.parameters() if all(p is not q for q in decay)]
    opt = torch.optim.SGD([dict(params=decay, weight_decay=5e-4), dict(params=rest, weight_decay=0)],
                          lr=0.1, momentum=0.9, nesterov=True)
    steps = len(y) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=epochs * steps, pct_start=0.3)
    g = torch.Generator().manual_seed(seed)
    curve = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        for b in range(steps):
            idx = order[b * 128:(b + 1) * 128]
            xb = normalize(crop_flip(x[idx], g)).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(xb).float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        curve.append(accuracy(model, xv, yv))
    return dict(val_curve=curve, val_top1=curve[-1], test_top1=accuracy(model, xt, yt),
                train_top1=accuracy(model, x[:5000], y[:5000]))


def engine_run(model: nn.Module, root: Path, epochs: int, **overrides) -> dict:
    with tempfile.TemporaryDirectory() as out:
        summary = train({**BASE, **overrides}, model=model, data=str(root), epochs=epochs, out=out)
        records = [json.loads(line) for line in open(Path(out) / "metrics.jsonl") if '"epoch"' in line]
    curve = [r["val_top1"] for r in records if r.get("kind") == "epoch"]
    return dict(val_curve=curve, val_top1=summary["val"]["top1"], test_top1=summary["test"]["top1"],
                train_top1=summary["train_top1"])


def cnnzoo_resnet20(**kwargs) -> nn.Module:
    torch.manual_seed(0)
    return cnnzoo.create_model("resnet20", **kwargs)


def textbook() -> nn.Module:
    torch.manual_seed(0)
    return TextbookResNet20()


# name -> (what changes, how to run it)
VARIANTS = {
    "engine_default": ("engine, create_model('resnet20')", lambda r, e: engine_run(cnnzoo_resnet20(), r, e)),
    "plain_textbook": ("plain loop, textbook net", lambda r, e: plain_loop(textbook(), tensors(r), e)),
    "engine_no_zero_init": ("engine, zero_init_last=False",
                            lambda r, e: engine_run(cnnzoo_resnet20(zero_init_last=False), r, e)),
    "engine_textbook": ("engine, textbook net", lambda r, e: engine_run(textbook(), r, e)),
    "plain_cnnzoo": ("plain loop, create_model('resnet20')",
                     lambda r, e: plain_loop(cnnzoo_resnet20(), tensors(r), e)),
    "engine_ema": ("engine + EMA 0.999", lambda r, e: engine_run(cnnzoo_resnet20(), r, e, ema=True)),
    "engine_fp32": ("engine, fp32, contiguous (no bf16 autocast, no channels_last)",
                    lambda r, e: engine_run(cnnzoo_resnet20(), r, e, precision="fp32", channels_last=False)),
    "engine_label_smoothing": ("engine, label smoothing 0.1",
                               lambda r, e: engine_run(cnnzoo_resnet20(), r, e, label_smoothing=0.1)),
    "engine_wd1e-4": ("engine, weight decay 1e-4 (He et al.)",
                      lambda r, e: engine_run(cnnzoo_resnet20(), r, e, weight_decay=1e-4)),
    "jpeg_q50": ("engine, train and test re-encoded at JPEG q50",
                 lambda r, e: engine_run(cnnzoo_resnet20(), reencoded_copy(r, 50), e)),
    "jpeg_q30": ("engine, train and test re-encoded at JPEG q30",
                 lambda r, e: engine_run(cnnzoo_resnet20(), reencoded_copy(r, 30), e)),
}


def load_results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def table(rows: list[dict]) -> str:
    lines = ["| variant | what changes | epochs | val top-1 by epoch | final val | test top-1 | train top-1 | "
             "wall (min) |", "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        curve = " ".join(f"{v:.1f}" for v in r["val_curve"])
        lines.append(f"| `{r['variant']}` | {r['what']} | {r['epochs']} | {curve} | {r['val_top1']:.2f} | "
                     f"{r['test_top1']:.2f} | {r['train_top1']:.2f} | {r['wall_s'] / 60:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run (default: all)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--table", action="store_true", help="print the markdown table of finished variants")
    args = ap.parse_args()
    if args.table:
        print(table(load_results(args.results)))
        return
    torch.set_num_threads(1)
    root = data_root() / "cifar10"
    done = {(r["variant"], r["epochs"]) for r in load_results(args.results)}
    for name in args.only or VARIANTS:
        if (name, args.epochs) in done:
            continue
        what, run = VARIANTS[name]
        t0 = time.time()
        result = run(root, args.epochs)
        row = dict(variant=name, what=what, epochs=args.epochs, **result, wall_s=round(time.time() - t0, 1),
                   date=time.strftime("%Y-%m-%d"), torch=torch.__version__)
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
