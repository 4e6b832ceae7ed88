"""Evidence for the fine-tuning recipe: Intel Image Classification, strategies x starting points vs from scratch.

For each starting weight (ours: a CIFAR-10 one and an Imagenette one), fine-tune with every arm (the seeds'
head, last-stage and full, and the library's own: gradual unfreezing and layer-wise lr decay) and train the same
architecture from random initialisation with the same budget (epochs, image size, batch, data, engine keys given
with ``--set``). Data: intel_image; its ``train`` folder is split seeded into train / validation, and choices are
made on validation top-1 (``benchmarks/finetune_intel_choices.py``); the ``test`` folder (900 images) is
evaluated once at the end of each run and reported beside it. Writes a results JSON next to the runs and the page
``docs/finetune_intel.md``. Finished runs are reused, a broken-off run resumes from its checkpoint; each finished
run's summary is also kept in a tracked folder (``--keep``, default ``docs/experiments/results/finetune_intel/``,
a few KB a run), so a grid longer than one session carries on from a fresh clone: commit that folder.

    python benchmarks/finetune_intel.py --start resnet20.cifar10@32 --start resnet10.imagenette@160 --epochs 30
    python benchmarks/finetune_intel.py --start resnet20=path/to/file.safetensors@64 --set crop_scale=0.35 ...
    python benchmarks/finetune_intel.py --dry-run   # random-init local weights, a tiny budget: checks the
                                                    # pipeline end to end; its numbers are NOT evidence
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import command_line, machine_lines, markdown_table, write_report

import cnnzoo
from cnnzoo.deploy.benchmark import machine_info
from cnnzoo.finetune import finetune
from cnnzoo.hub.files.io import save_weights, sha256_file, write_json_atomic
from cnnzoo.hub.index import get_entry

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "intel_image"
# arm -> finetune() keywords: the seeds' three strategies, then the library's own two
ARMS = {
    "head": dict(strategy="head"),
    "last-stage": dict(strategy="last-stage"),
    "full": dict(strategy="full"),
    "gradual": dict(strategy="gradual"),
    "llrd": dict(strategy="full", backbone_lr_mult=1.0, layer_decay=0.6),
}
ARM_TEXT = ("`head` (new head, frozen backbone with frozen BN), `last-stage` (last stage + head, earlier BN in eval "
            "mode), `full` (everything, backbone lr x{mult:g}), `gradual` (head first, one more part every epoch), "
            "`llrd` (everything, lr x0.6 per part away from the head: x0.6 for the last stage down to x0.08 for "
            "the stem); `scratch` is `full` from random initialisation with one learning rate")
# Seed 002's figures (ImageNet-pretrained, full Kaggle test split): context only, not a like-for-like comparison.
SEED_002 = [("ResNet-50, head only", 91.67), ("ResNet-50, last block", 92.87), ("DenseNet-201", 93.13),
            ("ResNeXt-50", 92.77)]


@dataclass(frozen=True)
class Start:
    """A starting point: ``arch.tag`` or ``arch=PATH``, at an input size."""

    arch: str
    weight: str  # the tag-qualified name, or a file path
    size: int | None

    @property
    def label(self) -> str:
        is_path = "/" in self.weight
        name = f"{self.arch} ({Path(self.weight).name})" if is_path else self.weight
        return f"{name} @{self.size}" if self.size else name

    @property
    def slug(self) -> str:
        base = self.weight if "/" not in self.weight else f"{self.arch}-{Path(self.weight).stem}"
        return f"{base.replace('.', '_')}-{self.size or 'native'}"


def parse_start(text: str) -> Start:
    """``resnet20.cifar10@32``, ``resnet10.imagenette`` or ``resnet20=runs/x/model.safetensors@64``."""
    spec, size = text, None
    if "@" in text and text.rsplit("@", 1)[1].isdigit():
        spec, size = text.rsplit("@", 1)[0], int(text.rsplit("@", 1)[1])
    if "=" in spec:
        arch, path = spec.split("=", 1)
        return Start(arch, path, size)
    if "." not in spec:
        raise SystemExit(f"--start {text!r}: expected ARCH.TAG[@SIZE] or ARCH=PATH[@SIZE]")
    return Start(spec.split(".", 1)[0], spec, size)


def parse_settings(items: list[str]) -> dict:
    """``KEY=VALUE`` items (engine keys such as crop_scale, label_smoothing, warmup_epochs) -> typed values."""
    import yaml  # safe_load: a YAML scalar, never code

    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def base_sha256(start: Start) -> str:
    """The sha256 of the starting weight: the index's for a published name, the file's for a path."""
    if "/" in start.weight:
        return sha256_file(start.weight)
    entry = get_entry(start.weight)
    if entry is None:
        raise SystemExit(f"--start {start.weight}: no such weight in the index")
    return entry["sha256"]


def run_one(start: Start, arm: str, data: Path, out: Path, args, scratch: bool = False, **settings) -> dict:
    """One fine-tuning (or from-scratch) run; a finished one is read back, a broken-off one resumed.
    ``settings`` (finetune keywords and engine keys) override the arm's and ``--set``'s.

    A finished run's summary is also kept in ``args.keep`` (a tracked folder), so that a grid longer than one
    session carries on from a fresh clone; a kept or finished summary is reused only when the run it describes
    (starting weight's sha256, arm, budget, keys) is the one asked for now."""
    model, pretrained = (start.weight, True) if "/" not in start.weight else (start.arch, start.weight)
    if scratch:
        model, pretrained = start.arch, False
    keywords = {"backbone_lr_mult": args.backbone_lr_mult, **ARMS[arm], **args.settings, **settings}
    strategy, epochs = keywords.pop("strategy"), keywords.pop("epochs", args.epochs)
    lr = keywords.pop("lr", args.lr.get("scratch" if scratch else arm))
    asked = dict(arch=start.arch, base_sha256=None if scratch else base_sha256(start), strategy=strategy,
                 epochs=epochs, img_size=start.size, lr=lr, batch_size=args.batch_size, val_size=args.val_size,
                 seed=args.seed, subset=args.subset, **keywords)
    asked = json.loads(json.dumps(asked, default=str))
    kept = args.keep / f"{out.name}.json"
    for done in (out / "summary.json", kept):
        if done.is_file():
            summary = json.loads(done.read_text())
            if "metrics" in summary and summary.get("asked") == asked:
                return summary
    t0 = time.time()
    summary = finetune(model, data, strategy, pretrained=pretrained, epochs=epochs, img_size=start.size,
                       lr=lr, batch_size=args.batch_size, out=out,
                       val_size=args.val_size, seed=args.seed, resume=(out / "checkpoint.pt").is_file(),
                       threads=args.threads, **({"subset": args.subset} if args.subset else {}), **keywords)
    summary.update(total_wall_s=round(time.time() - t0, 1), asked=asked, machine=machine_info())
    summary = json.loads(json.dumps(summary, default=str))
    write_json_atomic(out / "summary.json", summary)
    write_json_atomic(kept, summary)
    return summary


def row(start: Start, strategy: str, summary: dict) -> dict:
    ft, val, test = (summary["finetune"], summary["metrics"].get("val", {}), summary["metrics"].get("test", {}))
    return dict(start=start.label, arch=start.arch, strategy=strategy, img_size=ft["img_size"], lr=ft["lr"],
                backbone_lr_mult=ft["backbone_lr_mult"], trainable_params=ft.get("trainable_params"),
                epochs=ft["epochs"], val_top1=val.get("top1"), val_top5=val.get("top5"), val_n=val.get("n"),
                test_top1=test.get("top1"), test_n=test.get("n"),
                counts=summary["counts"], wall_s=summary.get("total_wall_s", summary.get("wall_time_s")),
                train_wall_s=summary.get("wall_time_s"), run_dir=summary.get("run_dir"),
                base_sha256=(ft.get("base_weight") or {}).get("sha256"), machine=summary.get("machine"))


def settings_text(args) -> str:
    items = [f"{k}={v}" for k, v in args.settings.items()]
    return f"; engine keys {', '.join(items)}" if items else ""


def write_doc(path: Path, rows: list[dict], args, command: str, dry_run: bool) -> None:
    counts = rows[0]["counts"] if rows else {}
    several = len(cpus(rows)) > 1  # rows from several machines: the table names each row's
    lines = ["# Fine-tuning on Intel Image Classification", ""]
    if dry_run:
        lines += ["> **DRY RUN — not evidence.** Random-initialised local weights and a tiny budget, run only to",
                  "> check that the grid works end to end. The real table comes from our trained CIFAR-10 and",
                  "> Imagenette weights (the command below, without `--dry-run`).", ""]
    lines += [
        "Generated by `benchmarks/finetune_intel.py`; do not edit by hand.", "",
        "## What was run", "",
        f"- command: `{command}`",
        f"- data: `{args.data}` (a subset of Kaggle's `seg_train` / `seg_test`, see `../shared/data/README.md`); "
        f"`train` split seeded (seed {args.seed}) into {', '.join(f'{k} {v}' for k, v in counts.items())} images. "
        "Choices (input size, schedule, augmentation, learning rates) were made on validation top-1 "
        "(`benchmarks/finetune_intel_choices.py`, [finetune_intel_choices.md](finetune_intel_choices.md)); the test "
        "split is evaluated once, at the end of each run, and not used for any choice",
        f"- budget per run: {args.epochs} epoch{'s' if args.epochs != 1 else ''}, batch {args.batch_size}, SGD "
        "(Nesterov) with cosine decay, the same for every arm and for the from-scratch baseline"
        + settings_text(args) + (f"; subset of {args.subset} images per split" if args.subset else ""),
        "- arms: " + ARM_TEXT.format(mult=args.backbone_lr_mult),
        *run_machine_lines(rows, several),
        "- wall time is the whole run (training, final evaluation and report)", "",
        "## Results", "",
        *markdown_table(["starting point", "arm", "input", "lr (head)", "trainable params", "val top-1 (%)",
                         "test top-1 (%)", "test vs scratch", "wall time (s)"] + (["machine"] if several else []),
                        result_rows(rows, several))]
    lines += ["", "## Reading", ""] + reading(rows, scratch_top1(rows))
    lines += ["", "## Context (not like-for-like)", "",
              "Seed 002 reports these ImageNet-pretrained models on the full Kaggle test split (`seg_test`): "
              "other pretraining data (1.28M ImageNet images against our 9k Imagenette or 50k CIFAR-10 ones), "
              "input size and budget. The ImageNet route is one command each (`cnnzoo finetune --recipe "
              "intel_resnet50_head`, ... in [finetune.md](finetune.md)); it is not measured here because ImageNet "
              "weights cannot be downloaded on this machine.", "",
              *markdown_table(["model", "test top-1 (%)"], [(name, f"{acc:.2f}") for name, acc in SEED_002])]
    lines += ["", f"Run directories (weights, cards, curves, confusion matrices): `{args.runs}`; each finished run's "
              f"summary is kept in `{shown(args.keep)}`.", ""]
    write_report(path, "\n".join(lines))


def cpus(rows: list[dict]) -> list[str]:
    """The processors the rows ran on, in row order (runs of one grid may span sessions and machines)."""
    return list(dict.fromkeys(r["machine"]["cpu"] for r in rows if r.get("machine")))


def run_machine_lines(rows: list[dict], several: bool) -> list[str]:
    """The machine lines of the latest run, and a warning where the rows ran on several machines."""
    latest = max((r["machine"] for r in rows if r.get("machine")), key=lambda m: m["date"], default=None)
    lines = machine_lines(latest)
    if several:
        lines.insert(1, "- rows ran on several machines (the table's last column); wall times compare only within "
                        "one machine")
    return lines


def shown(path: Path) -> str:
    """A path as the page shows it: relative to the repository where it lies inside."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def scratch_top1(rows: list[dict]) -> dict:
    """Test top-1 of the from-scratch run for each (architecture, input size)."""
    return {(r["arch"], r["img_size"]): r["test_top1"] for r in rows if r["strategy"] == "scratch"}


def _pct(value) -> str:
    return "" if value is None else f"{value:.2f}"


def result_rows(rows: list[dict], several: bool = False) -> list[tuple]:
    """One table row per run; ``several``: add the machine it ran on."""
    scratch = scratch_top1(rows)
    out = []
    for r in rows:
        ref = scratch.get((r["arch"], r["img_size"]))
        delta = ("" if r["strategy"] == "scratch" or ref is None or r["test_top1"] is None
                 else f"{r['test_top1'] - ref:+.2f}")
        params = f"{r['trainable_params']:,}" if r["trainable_params"] else "all (grows)"
        start = r["arch"] + " (random init)" if r["strategy"] == "scratch" else r["start"]
        out.append((start, r["strategy"], f"{r['img_size']} px", f"{r['lr']:g}", params, _pct(r["val_top1"]),
                    _pct(r["test_top1"]), delta, f"{r['wall_s']:.0f}")
                   + ((r["machine"]["cpu"] if r.get("machine") else "",) if several else ()))
    return out


def reading(rows: list[dict], scratch: dict) -> list[str]:
    """One sentence per starting point: its best arm on validation, that arm's test figure, and how far that is
    from training from scratch."""
    out = []
    for start in dict.fromkeys(r["start"] for r in rows if r["strategy"] != "scratch"):
        mine = [r for r in rows if r["start"] == start and r["strategy"] != "scratch"]
        best, worst = max(mine, key=lambda r: r["val_top1"]), min(mine, key=lambda r: r["val_top1"])
        ref = scratch.get((best["arch"], best["img_size"]))
        test = f", test {best['test_top1']:.2f}%" if best["test_top1"] is not None else ""
        versus = (f" ({best['test_top1'] - ref:+.2f} points against the same architecture from scratch, {ref:.2f}%)"
                  if ref is not None and best["test_top1"] is not None else "")
        out.append(f"- From {start}: best on validation `{best['strategy']}` at {best['val_top1']:.2f}%{test}"
                   f"{versus}; the weakest arm, `{worst['strategy']}`, reached {worst['val_top1']:.2f}% on "
                   f"validation.")
    return out or ["- No fine-tuning rows."]


def dry_run_weights(folder: Path) -> list[Start]:
    """Random-initialised stand-ins for the two starting points, saved as ordinary cnnzoo weights."""
    starts = []
    for arch, size in (("resnet20", 32), ("resnet18", 96)):
        path = folder / f"{arch}.dryrun.safetensors"
        if not path.is_file():
            model = cnnzoo.create_model(arch)
            cfg = model.pretrained_cfg
            save_weights(model.state_dict(), path, dict(
                arch=arch, tag="dryrun", num_classes=model.num_classes,
                labels=[f"class_{i}" for i in range(model.num_classes)], input_size=list(cfg["input_size"]),
                mean=list(cfg["mean"]), std=list(cfg["std"]), crop_pct=cfg["crop_pct"],
                interpolation=cfg["interpolation"], note="random init, dry run only"))
        starts.append(Start(arch, str(path), size))
    return starts


def add_run_arguments(p, runs: str, doc: str) -> None:
    """The options every fine-tuning run of these benchmarks takes (this script and finetune_intel_choices.py)."""
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--backbone-lr-mult", type=float, default=0.1, help="backbone lr x this (all arms but llrd)")
    p.add_argument("--threads", type=int, default=0, help="torch threads per run (0: the idle cores)")
    p.add_argument("--val-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subset", type=int, default=0, help="images per split (quick checks only)")
    p.add_argument("--runs", type=Path, default=REPO / "runs" / runs)
    p.add_argument("--keep", type=Path, default=REPO / "docs" / "experiments" / "results" / doc,
                   help="tracked folder for each finished run's summary, so a grid carries on from a fresh clone")
    p.add_argument("--doc", type=Path, help=f"page to write (default docs/{doc}.md; a dry run writes "
                                            f"RUNS/{doc}_DRYRUN.md)")
    p.add_argument("--dry-run", action="store_true",
                   help="random-init local weights, 1 epoch, 48-image subset, batch 16")


def dry_run_setup(args, doc: str) -> tuple[list[Start], Path]:
    """A dry run: its own runs folder, a tiny budget, random-init local starting weights, a DRYRUN page."""
    args.runs = args.runs.with_name(args.runs.name + "_dryrun")
    args.keep = args.runs / "kept"
    args.epochs, args.subset, args.batch_size = min(args.epochs, 1), args.subset or 48, min(args.batch_size, 16)
    return dry_run_weights(args.runs / "weights"), args.doc or args.runs / f"{doc}_DRYRUN.md"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--start", action="append", default=[], help="ARCH.TAG[@SIZE] or ARCH=PATH[@SIZE] (repeat)")
    p.add_argument("--strategies", default=",".join(ARMS), help=f"arms, comma-separated ({', '.join(ARMS)})")
    p.add_argument("--no-scratch", action="store_true", help="skip the from-scratch baselines")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="engine key for every run (crop_scale=0.35, label_smoothing=0.1, warmup_epochs=1, ...)")
    p.add_argument("--lr", action="append", default=[], metavar="STRATEGY=LR",
                   help="override a default learning rate (head, last-stage, full, gradual, scratch)")
    add_run_arguments(p, "finetune_intel", "finetune_intel")
    args = p.parse_args(argv)
    args.lr = {k: float(v) for k, v in (item.split("=", 1) for item in args.lr)}
    args.settings = parse_settings(args.settings)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line(__file__, sys.argv[1:] if argv is None else argv)
    if args.dry_run:
        starts, doc = dry_run_setup(args, "finetune_intel")
    else:
        if not args.start:
            raise SystemExit("give the starting weights: --start resnet20.cifar10@32 --start resnet10.imagenette@128")
        starts = [parse_start(s) for s in args.start]
        doc = args.doc or REPO / "docs" / "finetune_intel.md"
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    rows, scratch_done = [], set()
    for start in starts:
        for strategy in strategies:
            summary = run_one(start, strategy, args.data, args.runs / f"{start.slug}-{strategy}", args)
            rows.append(row(start, strategy, summary))
            print(f"{start.label:<40} {strategy:<11} val top-1 {rows[-1]['val_top1']:6.2f}%  "
                  f"test top-1 {_pct(rows[-1]['test_top1']):>6}%  {rows[-1]['wall_s']:.0f} s", flush=True)
        key = (start.arch, start.size)
        if not args.no_scratch and key not in scratch_done:
            scratch_done.add(key)
            out = args.runs / f"{start.arch}-{start.size or 'native'}-scratch"
            summary = run_one(start, "full", args.data, out, args, scratch=True)
            rows.append(row(start, "scratch", summary))
            print(f"{start.arch + ' (random init)':<40} scratch     val top-1 {rows[-1]['val_top1']:6.2f}%  "
                  f"test top-1 {_pct(rows[-1]['test_top1']):>6}%  {rows[-1]['wall_s']:.0f} s", flush=True)
    args.runs.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.runs / "results.json", dict(command=command, dry_run=args.dry_run, rows=rows))
    write_doc(doc, rows, args, command, args.dry_run)
    print(f"wrote {doc} and {args.runs / 'results.json'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
