"""cnnzoo finetune [MODEL[.TAG]] [--recipe NAME] --data DIR [--strategy head|last-stage|full|gradual] [--epochs N]
[--img-size S] [--lr LR] [--batch-size B] --out DIR"""
from __future__ import annotations

import json

from ..engine.config import TrainConfig
from ..errors import InvalidArgumentError

# engine keys passed through unchanged (see docs/training.md)
ENGINE_FLAGS = {
    "--precision": ("precision", str), "--device": ("device", str), "--optimizer": ("optimizer", str),
    "--workers": ("workers", int), "--threads": ("threads", int), "--subset": ("subset", int),
    "--warmup-epochs": ("warmup_epochs", float), "--label-smoothing": ("label_smoothing", float),
    "--crop-scale": ("crop_scale", float), "--randaugment": ("randaugment", str),
}


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?", help="a weight (resnet20.cifar10, resnet50.tv_in1k), or an architecture "
                                            "with --weights or --scratch (default: the --recipe's)")
    p.add_argument("--recipe", help="a shipped fine-tuning recipe (intel_resnet50_head, intel_densenet201, ...: "
                                    "cnnzoo/recipes/finetune/) or a YAML file; flags given here override its "
                                    "values (default: none)")
    p.add_argument("--data", required=True, help="(required) ""image folder: <root>/<split>/<class>/<image> (Kaggle's "
                                                 "seg_train/seg_train/<class> too), a bare <class>/<image> folder, "
                                                 "or a dataset name (intel_image)")
    p.add_argument("--out", required=True, help="(required) ""run directory: weight, README.md card, curves, confusion, "
                                                "per_class.csv")
    p.add_argument("--strategy", default=None,
                   help="head (new head on a frozen backbone, default) | last-stage | full | gradual")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--weights", help="start from this model.safetensors file (or folder) instead of MODEL's tag "
                                       "(default: MODEL's weight)")
    src.add_argument("--scratch", action="store_true", help="random initialisation (the baseline a fine-tune beats)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default 5)")
    p.add_argument("--img-size", type=int, help="side the images are resized to (default: the weight's input "
                                                "size; e.g. 32 or 64 for CIFAR weights, 128 for Imagenette)")
    p.add_argument("--lr", type=float, help="head learning rate (default by strategy: head 0.05, others 0.02; "
                                            "0.1 from scratch)")
    p.add_argument("--batch-size", type=int, default=None, help="images per step (default 64)")
    p.add_argument("--backbone-lr-mult", type=float, default=None, help="backbone lr = lr x this (default 0.1)")
    p.add_argument("--layer-decay", type=float,
                   help="further x this per part away from the head (default: none, one backbone rate)")
    p.add_argument("--bn", help="BatchNorm of frozen parts: eval (default; frozen statistics) | train | frozen "
                                "(FrozenBatchNorm2d; the default for --strategy head)")
    p.add_argument("--freeze-up-to", help="last-stage only: freeze up to this part (stem, stages.N, an index; "
                                          "default -2: all stages but the last)")
    p.add_argument("--unfreeze-every", type=int, default=None,
                   help="gradual: epochs between releases (default 1)")
    p.add_argument("--unfreeze-start", type=int, default=None, help="gradual: head-only epochs first (default 1)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="weight decay of the trained weights (default 1e-4)")
    p.add_argument("--val-size", type=float, help="fraction (or count) of train carved as validation, seeded "
                                                  "(default: a val folder if there is one, else 0.2)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the validation split, the head and the batches (default 0)")
    p.add_argument("--tag", help="weight tag written into the file (default <dataset>-<strategy>)")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out unreadable images, non-image files and empty class folders with a warning")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out that already holds a run (its checkpoint and log are replaced)")
    for flag, (key, typ) in ENGINE_FLAGS.items():
        p.add_argument(flag, dest=key, type=typ, default=None,
                       help=f"engine key {key} (default: {_engine_default(key)}; docs/training.md)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args) -> int:
    from cnnzoo.finetune import finetune
    from cnnzoo.finetune.shipped import load_finetune_recipe

    pretrained = False if args.scratch else (args.weights or True)
    given = {key: getattr(args, key) for key in FINETUNE_KEYS if getattr(args, key) is not None}
    given.update({key: getattr(args, key) for key, _ in ENGINE_FLAGS.values() if getattr(args, key) is not None})
    settings = {**(load_finetune_recipe(args.recipe) if args.recipe else {}), **given}  # flags win
    model = args.model or settings.get("model")
    if not model:
        raise InvalidArgumentError("finetune needs a MODEL (e.g. resnet20.cifar10) or a --recipe that names one")
    settings.pop("model", None)
    summary = finetune(model, args.data, out=args.out, pretrained=pretrained, skip_bad=args.skip_bad,
                       resume=args.resume, overwrite=args.overwrite, **settings)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    m = summary["metrics"]
    score = f"{m['split']} top-1 {m['top1']:.2f}% ({m['n']} images)" if m else "no validation or test split"
    print(f"{model} fine-tuned ({summary['finetune']['strategy']}) on {summary['dataset']}: {score} -> "
          f"{summary['weights']} (sha256 {summary['sha256'][:12]}...)")
    for split, per_class in summary["per_class"].items():
        print(f"  per-class {split}: " + ", ".join(f"{c} {a:.1f}%" for c, a in per_class.items()))
    return 0


# flags that default to the library's own defaults (None here) and may come from a --recipe instead
FINETUNE_KEYS = ("strategy", "epochs", "img_size", "lr", "batch_size", "backbone_lr_mult", "layer_decay", "bn",
                 "freeze_up_to", "unfreeze_every", "unfreeze_start", "weight_decay", "val_size", "seed", "tag")


def _engine_default(key: str) -> str:
    value = getattr(TrainConfig(), key)
    return {"threads": "0, all idle cores", "subset": "0, every image"}.get(key, str(value))
