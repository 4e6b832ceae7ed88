"""cnnzoo train MODEL --data DIR|NAME [--config FILE.yaml | --recipe NAME] [--epochs N] [--out DIR] [--set k=v]"""
from __future__ import annotations

import json
from pathlib import Path

from ..engine.config import TrainConfig
from ..engine.run_folder import clear_run

# common flags -> config keys; every one overrides the YAML (and --set overrides everything)
FLAGS = {
    "--epochs": ("epochs", int), "--batch-size": ("batch_size", int), "--lr": ("lr", float),
    "--optimizer": ("optimizer", str), "--schedule": ("schedule", str), "--weight-decay": ("weight_decay", float),
    "--precision": ("precision", str), "--device": ("device", str), "--seed": ("seed", int),
    "--val-size": ("val_size", float), "--subset": ("subset", int), "--loader": ("loader", str),
    "--act-layer": ("act_layer", str), "--label-smoothing": ("label_smoothing", float),
    "--workers": ("workers", int), "--threads": ("threads", int), "--tag": ("tag", str),
}


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?", help="architecture, e.g. resnet20 (default: the config's model)")
    p.add_argument("--data", help="image folder <root>/<split>/<class>/<image> or a dataset name (cifar10, ...) "
                                  "(default: the config's data)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", help="YAML config file (default: none, the built-in defaults of docs/training.md)")
    src.add_argument("--recipe", help="a recipe shipped with cnnzoo (e.g. cifar10_resnet20) or a YAML path "
                                      "(default: none)")
    p.add_argument("--out", help="run directory (default runs/<model>-<data>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--resume-state", dest="resume_state", metavar="DIR",
                   help="also keep a committable, sha256-checked resume state in DIR (e.g. resume/resnet20.cifar10); "
                        "with --resume on a machine without the run folder, the run continues from it "
                        "(default: none)")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out that already holds a run (its checkpoint and log are replaced)")
    p.add_argument("--allow-config-change", dest="allow_config_change", action="store_true",
                   help="with --resume: apply settings that differ from the run's own from the resumed epoch on "
                        "(default: such a resume is refused)")
    for flag, (key, typ) in FLAGS.items():
        p.add_argument(flag, dest=key, type=typ, default=None, help=_config_help(key))
    p.add_argument("--ema", dest="ema", action="store_const", const=True, default=None,
                   help="keep an exponential moving average of the weights (config key ema)")
    p.add_argument("--compile", dest="compile", action="store_const", const=True, default=None,
                   help="torch.compile the model")
    p.add_argument("--tta", dest="tta", action="store_const", const=True, default=None,
                   help="flip test-time augmentation in the final evaluation")
    p.add_argument("--skip-bad", dest="skip_bad", action="store_const", const=True, default=None,
                   help="leave out unreadable images, non-image files and empty class folders with a warning")
    p.add_argument("--set", dest="set_items", action="append", default=[], metavar="KEY=VALUE",
                   help="any config key (repeatable); see docs/training.md for the list")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args) -> int:
    from cnnzoo.engine import build_config, find_recipe, train
    from cnnzoo.engine.config import parse_set

    base = find_recipe(args.recipe) if args.recipe else args.config
    if args.resume and base is None:  # continue with the run's own settings
        base = _saved_config(args.out, args.resume_state)
    overrides = {key: getattr(args, key) for key, _ in FLAGS.values()}
    overrides.update(model=args.model, data=args.data, out=args.out, ema=args.ema, compile=args.compile,
                     tta=args.tta, skip_bad=args.skip_bad, resume_state=args.resume_state)
    overrides.update(parse_set(args.set_items))
    cfg = build_config(base, **overrides)
    if args.overwrite and not args.resume and cfg.out:
        clear_run(Path(cfg.out))
    summary = train(cfg, resume=args.resume, allow_config_change=args.allow_config_change)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    return 0


def _saved_config(out: str | None, resume_state: str | None) -> dict | None:
    """The config a run was started with: its run folder's config.yaml, else its resume state's manifest."""
    from cnnzoo.engine.config import load_yaml
    from cnnzoo.engine.resume_state import read_manifest

    if out and (Path(out) / "config.yaml").is_file():
        return load_yaml(Path(out) / "config.yaml")
    if resume_state:
        return read_manifest(resume_state)["config"]
    return None


def _config_help(key: str) -> str:
    default = getattr(TrainConfig(), key)
    shown = {0: "0 (all idle cores)"}.get(default, default) if key == "threads" else default
    return f"config key {key} (default: the config's, else {shown})"
