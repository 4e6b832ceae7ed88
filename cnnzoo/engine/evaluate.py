"""Evaluation: top-1, top-5, loss, per-class accuracy, confusion matrix; optional horizontal-flip TTA."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..data import build_data
from ..errors import DataError
from ..factory import create_model
from .config import TrainConfig
from .distributed import DistInfo
from .io import atomic_write_text
from .metrics import ClassificationMeter
from .precision import Precision, resolve_device, resolve_precision


@torch.no_grad()
def evaluate_loader(model: nn.Module, loader, precision: Precision, num_classes: int,
                    classes: list[str] | None = None, tta: bool = False, info: DistInfo = DistInfo()) -> dict:
    """Metrics of ``model`` over every batch of ``loader`` (summed over processes)."""
    was_training = model.training
    model.eval()
    meter = ClassificationMeter(num_classes)
    for x, y in loader:
        x = x.contiguous(memory_format=precision.memory_format())
        with precision.autocast():
            logits = model(x)
            if tta:  # average the probabilities of the image and its mirror
                logits = (logits.float().softmax(1) + model(x.flip(3)).float().softmax(1)).log()
        logits = logits.float()
        loss = nn.functional.cross_entropy(logits, y, reduction="sum").item()
        meter.update(logits, y, loss)
    meter.reduce(info)
    model.train(was_training)
    return meter.result(classes)


def evaluate(model: str | nn.Module, data: str, split: str | None = None, *, batch_size: int = 256,
             tta: bool = False, device: str = "auto", precision: str = "auto", subset: int = 0,
             out: str | Path | None = None, loader: str = "auto", workers: int = 2, skip_bad: bool = False) -> dict:
    """Evaluate a weight (``"resnet20.cifar10"``, a path) or a model on a dataset split (default: the dataset's
    evaluation split). With ``out``, writes ``eval_<split>.json`` and ``confusion_<split>.png`` there."""
    if isinstance(model, str):
        model = create_model(model, pretrained=True)
    cfg_model = getattr(model, "pretrained_cfg", {}) or {}
    cfg = TrainConfig(data=data, test_split=split, batch_size=batch_size, subset=subset, loader=loader,
                      workers=workers, skip_bad=skip_bad)
    dev = resolve_device(device)
    prec = resolve_precision(dev, precision)
    data_cfg = {k: cfg_model[k] for k in ("input_size", "mean", "std", "crop_pct", "interpolation") if k in cfg_model}
    bundle = build_data(cfg, data_cfg, device=dev, splits=("test",))
    labels = cfg_model.get("labels")
    if labels and list(labels) != bundle.classes:
        raise_mismatch(labels, bundle.classes)
    model = model.to(dev, memory_format=prec.memory_format())
    result = evaluate_loader(model, bundle.test, prec, len(bundle.classes), bundle.classes, tta=tta)
    result.update(split=bundle.test_split, dataset=bundle.name, tta=tta, precision=prec.name)
    if out is not None:
        from .runlog import plot_confusion  # matplotlib, only when a plot is asked for

        out = Path(out)
        atomic_write_text(out / f"eval_{bundle.test_split}.json", json.dumps(result, indent=2))
        plot_confusion(result["confusion"], bundle.classes, out / f"confusion_{bundle.test_split}.png",
                       f"{bundle.name} {bundle.test_split}: top-1 {result['top1']:.2f}%")
    return result


def evaluate_weight_file(arch: str, path: str | Path, data: str, split: str | None = None,
                         sha256: str | None = None) -> dict:
    """The fp32 CPU evaluation that publishing records: ``path`` loaded (and verified) as ``arch``. ``sha256``
    vouches for the exact bytes of a file not yet indexed under the tag its header claims (a staged weight)."""
    if sha256 is not None:
        model = create_model(arch, pretrained=True, pretrained_cfg_overlay=dict(file=str(path), sha256=sha256))
    else:
        model = create_model(arch, pretrained=Path(path))
    return evaluate(model, data, split, precision="fp32", device="cpu")


def raise_mismatch(labels, classes) -> None:
    raise DataError(f"the weight's labels {list(labels)} are not the dataset's classes {classes}")
