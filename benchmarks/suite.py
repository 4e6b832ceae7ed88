"""cnnzoo against timm / torchvision for every architecture the equivalence table shares, at a CPU-friendly
setting (ImageNet models: batch 32 at 224 px), inference and a training step; writes docs/benchmarks.md.

    python benchmarks/suite.py                      # the quick subset (see below), ~30 min on 2 idle cores
    python benchmarks/suite.py --subset all         # every shared architecture (hours on 2 cores)
    python benchmarks/suite.py --models resnet50 --iters 4 --out /tmp/b.md   # a quick look

The architectures come from ``cnnzoo.hub.importers.convert.equivalents()`` when the suite runs, so families added to
the table later are picked up. ``--subset quick`` takes, per family, the shared architecture with the fewest
parameters, plus resnet50 (the usual reference point). Every row runs `cnnzoo.deploy.benchmark.run_benchmark` twice:
inference with three interleaved sides (cnnzoo as built, cnnzoo after ``optimize_for_inference``, the other
library as built) and a training step (forward, backward, SGD) with two sides.

timm and torchvision have no CIFAR-size (32 px, 3x3 stem) counterparts, so CIFAR models have no comparison
rows; ``--cifar`` adds a table of cnnzoo alone at batch 256 and 32 px (as built vs optimised).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import startup
from harness import cell, command_line, machine_lines, markdown_table, set_threads, write_report

from cnnzoo.deploy.benchmark import BenchConfig, machine_info, run_benchmark
from cnnzoo.factory import build_on_meta, count_params
from cnnzoo.hub.importers.convert import equivalents
from cnnzoo.registry import get_model_spec, list_models

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "benchmarks.md"
ALWAYS = ("resnet50",)


def shared_rows(libraries: str) -> list[tuple[str, str]]:
    """(arch, library) pairs from the equivalence table; ``first`` keeps each arch's first-listed library."""
    rows, seen = [], set()
    for eq in equivalents():
        if libraries == "first" and eq.arch in seen:
            continue
        seen.add(eq.arch)
        rows.append((eq.arch, eq.library))
    return rows


def params_m(arch: str) -> float:
    return count_params(build_on_meta(arch)) / 1e6


def select(rows: list[tuple[str, str]], subset: str, models: list[str] | None) -> list[tuple[str, str]]:
    if models:
        return [r for r in rows if r[0] in models]
    if subset == "all":
        return rows
    by_family: dict[str, str] = {}
    for arch in sorted({a for a, _ in rows}, key=params_m):
        by_family.setdefault(get_model_spec(arch).family, arch)
    keep = set(by_family.values()) | {a for a, _ in rows if a in ALWAYS}
    return [r for r in rows if r[0] in keep]


def cifar_models(subset: str) -> list[str]:
    names = list_models(size="cifar")
    if subset == "all":
        return names
    by_family: dict[str, str] = {}
    for arch in sorted(names, key=params_m):
        by_family.setdefault(get_model_spec(arch).family, arch)
    return sorted(by_family.values())


def run_rows(rows, args, log) -> list[dict]:
    out = []
    for arch, library in rows:
        common = dict(compare=library, batch=args.batch, img_size=args.img_size, warmup=args.warmup,
                      iters=args.iters, rounds=args.rounds, memory=not args.no_memory, threads=args.threads)
        log(f"{arch} vs {library}: inference")
        infer = run_benchmark(BenchConfig(arch, mode="infer", optimized=True, **common))
        log(infer.format())
        train = None
        if not args.no_train:
            log(f"{arch} vs {library}: training step")
            train = run_benchmark(BenchConfig(arch, mode="train", **common))
            log(train.format())
        out.append(dict(arch=arch, library=library, infer=infer, train=train))
    return out


def run_cifar(models, args, log) -> list:
    results = []
    for arch in models:
        log(f"{arch} (CIFAR, cnnzoo alone)")
        r = run_benchmark(BenchConfig(arch, compare=None, mode="infer", optimized=True, batch=args.cifar_batch,
                                      img_size=32, warmup=args.warmup, iters=args.iters, rounds=args.rounds,
                                      memory=False, threads=args.threads))
        log(r.format())
        results.append(r)
    return results


COMPARISON_HEADER = ["architecture", "vs", "params (M)", "GMACs", "infer img/s cnnzoo", "infer img/s other",
                     "**ratio**", "img/s optimised", "**ratio optimised**", "infer peak MB cnnzoo / other",
                     "train img/s cnnzoo", "train img/s other", "**train ratio**", "train peak MB cnnzoo / other"]
CIFAR_HEADER = ["architecture", "params (M)", "GMACs", "img/s as built", "img/s optimised", "optimised / built",
                "BN folded"]


def peaks(mine, other) -> str:
    return f"{cell(mine.peak_memory_mb, '.0f')} / {cell(other.peak_memory_mb, '.0f')}"


def comparison_row(row: dict, batch: int) -> list[str]:
    inf, tr = row["infer"], row["train"]
    zoo, opt, other = inf.side("cnnzoo"), inf.side("cnnzoo+opt"), inf.side(row["library"])
    train_cells = ["-", "-", "-", "-"]
    if tr is not None:
        tz, to = tr.side("cnnzoo"), tr.side(row["library"])
        train_cells = [cell(tz.images_per_s(batch)), cell(to.images_per_s(batch)), f"**{tr.ratio('cnnzoo'):.2f}x**",
                       peaks(tz, to)]
    return [f"`{row['arch']}`", f"{row['library']} `{other.model_name}`", f"{zoo.params / 1e6:.2f}",
            f"{zoo.gmacs:.2f}", cell(zoo.images_per_s(batch)), cell(other.images_per_s(batch)),
            f"**{inf.ratio('cnnzoo'):.2f}x**", cell(opt.images_per_s(batch)), f"**{inf.ratio('cnnzoo+opt'):.2f}x**",
            peaks(zoo, other), *train_cells]


def comparison_table(results: list[dict], batch: int) -> list[str]:
    return markdown_table(COMPARISON_HEADER, [comparison_row(r, batch) for r in results], "ll" + "r" * 12)


def headline(results: list[dict]) -> list[str]:
    if not results:
        return []
    built = [r["infer"].ratio("cnnzoo") for r in results]
    opt = [r["infer"].ratio("cnnzoo+opt") for r in results]
    train = [r["train"].ratio("cnnzoo") for r in results if r["train"] is not None]
    lines = [f"- inference as built: min {min(built):.2f}x, median {sorted(built)[len(built) // 2]:.2f}x "
             f"({sum(b >= 1.0 for b in built)}/{len(built)} rows >= 1.0x)",
             f"- inference optimised: min {min(opt):.2f}x, median {sorted(opt)[len(opt) // 2]:.2f}x "
             f"({sum(o >= 1.2 for o in opt)}/{len(opt)} rows >= 1.2x)"]
    if train:
        lines.append(f"- training step: min {min(train):.2f}x, median {sorted(train)[len(train) // 2]:.2f}x")
    return lines


def cifar_table(results, batch) -> list[str]:
    rows = []
    for r in results:
        zoo, opt = r.side("cnnzoo"), r.side("cnnzoo+opt")
        rows.append([f"`{r.config.model}`", f"{zoo.params / 1e6:.2f}", f"{zoo.gmacs:.3f}",
                     f"{zoo.images_per_s(batch):.0f}", f"{opt.images_per_s(batch):.0f}",
                     f"{zoo.median_ms / opt.median_ms:.2f}x",
                     opt.note.replace(" BatchNorm layers into the preceding conv", "")])
    return markdown_table(CIFAR_HEADER, rows, "lrrrrrl")


def render(args, argv, results, cifar, startup_md, machine, seconds) -> str:
    parts = [
        "# Benchmarks: cnnzoo vs timm / torchvision",
        "",
        f"Generated by `{command_line(__file__, argv)}` — do not edit by hand.",
        "",
        *machine_lines(machine),
        f"- wall time of the suite: {seconds / 60:.1f} min",
        f"- setting: batch {args.batch} at {args.img_size or 'each model default (224)'} px, fp32, "
        f"{args.warmup} warm-up steps per side, then {args.iters} timed steps per side in {args.rounds} interleaved "
        "rounds (the order of the sides rotates every round); images/s = batch / median step latency.",
        f"- subset: {args.models and 'models ' + ', '.join(args.models) or args.subset}"
        + (" (per family the shared architecture with the fewest parameters, plus resnet50)"
           if not args.models and args.subset == "quick" else ""),
        "",
        "**ratio** = cnnzoo images/s divided by the other library's images/s, measured side by side in one process "
        "(> 1: cnnzoo is faster). Each side is the model its library's `create_model` returns, fed the same "
        "NCHW batch: cnnzoo stores convolution weights channels_last by default (oneDNN's fast layout), timm and "
        "torchvision keep NCHW. *Optimised* is `cnnzoo.optimize_for_inference(model)` (BatchNorm folded into "
        "the preceding convs, channels_last model and input) against the other library as built. Peak memory "
        "is the process RSS growth during the first steps, measured for each side in its own fresh process "
        "(activations, workspaces, and for training gradients and optimizer state; not the weights).",
        "",
        "## Headline",
        "",
        *headline(results),
        "",
        "## ImageNet-size architectures shared with timm / torchvision",
        "",
        *comparison_table(results, args.batch),
        "",
        "## CIFAR-size architectures",
        "",
        "timm and torchvision have no CIFAR-size models (3x3 stem, 32 px input), so there is nothing to compare "
        "against." + ("" if cifar else " Run with `--cifar` for cnnzoo's own throughput table."),
    ]
    if cifar:
        parts += ["", f"cnnzoo alone, inference, batch {args.cifar_batch} at 32 px:", "",
                  *cifar_table(cifar, args.cifar_batch)]
    if startup_md:
        parts += ["", "## Startup cost", "", "`python benchmarks/startup.py`:", "", startup_md]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subset", choices=["quick", "all"], default="quick")
    p.add_argument("--models", nargs="*", help="only these shared architectures (overrides --subset)")
    p.add_argument("--libraries", choices=["first", "all"], default="first",
                   help="first: each arch against the first library listed for it; all: against each")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--img-size", type=int, default=None)
    p.add_argument("--cifar-batch", type=int, default=256)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=6)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-train", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--cifar", action="store_true", help="add cnnzoo-only CIFAR throughput (no counterparts exist)")
    p.add_argument("--no-startup", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    set_threads(args.threads)
    start = time.perf_counter()

    def log(msg):
        print(msg, flush=True)

    rows = select(shared_rows(args.libraries), args.subset, args.models)
    log(f"{len(rows)} comparisons: " + ", ".join(f"{a} vs {lib}" for a, lib in rows))
    results = run_rows(rows, args, log)
    cifar = run_cifar(cifar_models(args.subset), args, log) if args.cifar else []
    startup_md = ""
    if not args.no_startup:
        startup_md = startup.markdown(startup.measure(5), 5)
    text = render(args, argv, results, cifar, startup_md, machine_info(), time.perf_counter() - start)
    write_report(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
