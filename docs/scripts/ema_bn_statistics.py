"""Were the engine's EMA weights evaluated with the right batch-norm statistics?

Until 2026-12-07 the engine's EMA averaged the weights but copied the BN running statistics from the model being
trained, so the averaged weights were evaluated with statistics of other weights. Two measurements:

``checkpoint CKPT RUN_DIR``: val top-1 of a run's checkpoint, raw and EMA weights, each with the BN statistics it
was saved with and with statistics recomputed for its own weights (a cumulative average over ``--batches``
training batches with the run's augmentation). If recomputed statistics lift the EMA far above its saved figure,
the saved statistics were wrong for it.

``train``: two short ResNet-20 runs side by side, identical but for the EMA's BN statistics (``copied``, the old
engine, against ``averaged``, the engine now and timm's ModelEmaV3 default), with the EMA's val top-1 each epoch.

    python docs/scripts/ema_bn_statistics.py checkpoint runs/dpn29/checkpoint.pt runs/dpn29
    python docs/scripts/ema_bn_statistics.py train --epochs 12 --train-subset 10000 --ema-decay 0.99
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from cnnzoo.data import build_data
from cnnzoo.engine import ema as ema_module
from cnnzoo.engine import train
from cnnzoo.engine.checkpoint import load_checkpoint
from cnnzoo.engine.config import build_config
from cnnzoo.engine.evaluate import evaluate_loader
from cnnzoo.engine.precision import resolve_precision
from cnnzoo.engine.trainer import _model_data_cfg
from cnnzoo.factory import create_model


@torch.no_grad()
def recompute_bn(model: nn.Module, loader, precision, batches: int) -> nn.Module:
    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
    model.train()
    for i, (x, _) in enumerate(loader):
        if i == batches:
            break
        with precision.autocast():
            model(x.contiguous(memory_format=precision.memory_format()))
    return model.eval()


def check_checkpoint(ckpt_path: str, run_dir: str, batches: int, threads: int) -> None:
    torch.set_num_threads(threads)
    cfg = build_config(str(Path(run_dir) / "config.yaml"))
    ckpt = load_checkpoint(Path(ckpt_path))  # verified against its recorded sha256, no code run
    precision = resolve_precision(torch.device("cpu"), cfg.precision, cfg.channels_last)
    base = create_model(cfg.model, num_classes=10)
    data = build_data(cfg, _model_data_cfg(cfg, base), splits=("train", "val"))
    print(f"{ckpt_path}: {cfg.model} after epoch {ckpt['epoch']}, {ckpt['ema']['updates']} EMA updates "
          f"(decay {cfg.ema_decay}); BN recomputed on {batches} training batches of {cfg.batch_size}")
    for name, state in (("raw", ckpt["model"]), ("ema", ckpt["ema"]["module"])):
        model = copy.deepcopy(base)
        model.load_state_dict(state)
        model = model.to(memory_format=precision.memory_format()).eval()
        saved = evaluate_loader(model, data.val, precision, 10)["top1"]
        fresh = evaluate_loader(recompute_bn(model, data.train, precision, batches), data.val, precision, 10)["top1"]
        print(f"  {name}: val top-1 {saved:.2f} with its saved BN statistics, {fresh:.2f} with recomputed ones")


def _pair_copying_bn(ema: nn.Module, model: nn.Module):
    """The old engine's pairing: BN running statistics copied from the model, not averaged."""
    ema_state, model_state = ema.state_dict(keep_vars=True), model.state_dict(keep_vars=True)
    averaged, copied = ([], []), ([], [])
    for name, ema_t in ema_state.items():
        target = averaged if ema_t.is_floating_point() and "running_" not in name else copied
        target[0].append(ema_t.data)
        target[1].append(model_state[name].data)
    return averaged, copied


def train_arm(arm: str, out: str, epochs: int, train_subset: int, ema_decay: float) -> None:
    if arm == "copied":
        ema_module._pair_tensors = _pair_copying_bn
    train(model="resnet20", data="cifar10", epochs=epochs, train_subset=train_subset, ema=True,
          ema_decay=ema_decay, batch_size=128, lr=0.1, optimizer="sgd", nesterov=True, weight_decay=5e-4,
          schedule="cosine", warmup_epochs=1, val_size=5000, precision="bf16", channels_last=True, threads=1,
          seed=0, out=out, log_every=100)


def compare_training(epochs: int, train_subset: int, ema_decay: float) -> None:
    runs = Path(tempfile.mkdtemp(prefix="ema-bn-"))
    procs = {arm: subprocess.Popen([sys.executable, __file__, "_arm", arm, str(runs / arm), str(epochs),
                                    str(train_subset), str(ema_decay)], stdout=subprocess.DEVNULL)
             for arm in ("copied", "averaged")}
    for arm, p in procs.items():
        if p.wait() != 0:
            raise SystemExit(f"the {arm} run failed")
    print(f"ResNet-20, {epochs} epochs on {train_subset} training images, EMA decay {ema_decay}, seed 0; "
          f"val top-1 by epoch (5,000 held-out images)")
    for arm in procs:
        records = [json.loads(line) for line in (runs / arm / "metrics.jsonl").read_text().splitlines()]
        records = [r for r in records if r.get("kind") == "epoch"]
        raw = " ".join(f"{r['val_top1']:.1f}" for r in records)
        ema = " ".join(f"{r['val_ema_top1']:.1f}" for r in records)
        print(f"  BN statistics {arm}:\n    raw {raw}\n    ema {ema}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_arm":
        arm, out, epochs, subset, decay = sys.argv[2:7]
        return train_arm(arm, out, int(epochs), int(subset), float(decay))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("checkpoint")
    c.add_argument("checkpoint")
    c.add_argument("run_dir")
    c.add_argument("--batches", type=int, default=100)
    c.add_argument("--threads", type=int, default=2)
    t = sub.add_parser("train")
    t.add_argument("--epochs", type=int, default=12)
    t.add_argument("--train-subset", type=int, default=10000)
    t.add_argument("--ema-decay", type=float, default=0.99)
    args = parser.parse_args()
    if args.what == "checkpoint":
        check_checkpoint(args.checkpoint, args.run_dir, args.batches, args.threads)
    else:
        compare_training(args.epochs, args.train_subset, args.ema_decay)


if __name__ == "__main__":
    main()
