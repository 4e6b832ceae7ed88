"""The one-call fine-tuning recipe: a pretrained model, an image folder and a strategy in; a trained run directory
(weight, card, curves, confusion matrix, per-class accuracy) out.

The strategies are in :mod:`.strategies`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from torch import nn

from ..data import scan_splits
from ..data.builder import default_test_split
from ..data.folder import SPLIT_ALIASES, find_split
from ..data.named import resolve_dataset
from ..engine import train
from ..engine.config import TrainConfig, check_value, check_values
from ..engine.run_folder import clear_run
from ..errors import DataError, InvalidArgumentError
from ..factory import create_model
from ..registry import split_model_name_tag
from .report import write_report
from .strategies import DEFAULT_LR, SCRATCH_LR, apply_plan, count_trainable, make_plan, param_groups_fn

TENSOR_MAX_SIDE = 64  # the engine decodes images up to this size once into a uint8 cache


def dataset_label(root: Path) -> str:
    """A readable dataset name: a bare ``train`` folder is named after its parent."""
    aliases = {a for names in SPLIT_ALIASES.values() for a in names}
    while root.name.lower() in aliases and root.parent.name:  # Kaggle nests seg_train/seg_train
        root = root.parent
    return root.name


def read_classes(data: str | os.PathLike, val_size: float | None, seed: int, skip_bad: bool) -> dict:
    """Class names and splits of a data folder, checked before any model is built. ``val_size=None`` uses a
    validation folder when there is one (that is not the evaluation split) and carves 20% of train otherwise."""
    root, name = resolve_dataset(os.fspath(data))
    if val_size is None:
        test_split = default_test_split(root, name)
        has_val = find_split(root, "val") is not None and test_split != "val"
        val_size = 0.0 if has_val else 0.2
    cfg = TrainConfig(data=os.fspath(data), val_size=val_size, val_seed=seed, skip_bad=skip_bad)
    root, name, indexes, test_split = scan_splits(cfg, ("train",))
    classes = indexes["train"].classes
    if len(classes) < 2:
        raise DataError(f"{root} has {len(classes)} class ({', '.join(classes)}); classification needs at least 2 "
                        f"class folders <root>/<split>/<class>/<image>")
    return dict(root=root, name=name, label=dataset_label(root), classes=classes, val_size=val_size,
                test_split=test_split, n_train=len(indexes["train"]))


def build_model(model_or_name: str | nn.Module, classes: list[str], pretrained: bool | str | os.PathLike = True):
    """The starting model with a head for ``classes``; returns ``(model, arch, base weight description)``."""
    if isinstance(model_or_name, nn.Module):
        model = model_or_name
        cfg = getattr(model, "pretrained_cfg", None) or {}
        if "architecture" not in cfg:
            raise InvalidArgumentError(f"{type(model).__name__} has no pretrained_cfg['architecture']; build it "
                                       f"with cnnzoo.create_model")
        arch = cfg["architecture"]
    else:
        arch, tag = split_model_name_tag(str(model_or_name))
        if tag is not None and pretrained is False:
            raise InvalidArgumentError(f"{model_or_name!r} names a weight but pretrained=False; pass the bare "
                                       f"architecture {arch!r} to train from scratch")
        model = create_model(str(model_or_name), pretrained=pretrained or False)
        cfg = model.pretrained_cfg
    base = None
    if cfg.get("sha256"):
        tag = cfg.get("tag")
        base = dict(name=f"{arch}.{tag}" if tag else arch, file=Path(str(cfg.get("file", ""))).name,
                    sha256=cfg["sha256"], source=cfg.get("source"))
    if list(cfg.get("labels") or []) != list(classes) or model.num_classes != len(classes):
        model.reset_classifier(len(classes))  # other classes: a fresh head (the weight's one means nothing here)
    model.pretrained_cfg.update(num_classes=len(classes), labels=list(classes))
    return model, arch, base


def finetune(model_or_name: str | nn.Module, data: str | os.PathLike, strategy: str = "head", *, epochs: int = 5,
             img_size: int | None = None, lr: float | None = None, batch_size: int = 64,
             out: str | os.PathLike | None = None, pretrained: bool | str | os.PathLike = True,
             backbone_lr_mult: float = 0.1, layer_decay: float | None = None, bn: str | None = None,
             freeze_up_to: int | str | None = None, unfreeze_every: int = 1, unfreeze_start: int = 1,
             weight_decay: float = 1e-4, val_size: float | None = None, seed: int = 0, skip_bad: bool = False,
             tag: str | None = None, resume: bool = False, overwrite: bool = False, **overrides) -> dict:
    """Fine-tune ``model_or_name`` (a weight ``"resnet20.cifar10"``, an architecture with ``pretrained=TAG|PATH``,
    or a cnnzoo model) on the image folder ``data`` and return the run summary.

    ``img_size`` is the side images are resized to (default: the weight's input size; a CIFAR weight works on
    150 px images at 32 or 64, an Imagenette one at 128). ``lr`` is the head's learning rate (default by
    strategy, :data:`DEFAULT_LR`); unfrozen backbone parts get ``lr * backbone_lr_mult``. Further engine keys
    (``optimizer``, ``precision``, ``subset``, ...) pass through ``overrides``. ``out`` receives the weight
    ``model.safetensors`` (header: base weight, classes, data config, metrics), ``README.md``, curves, confusion
    matrices and ``per_class.csv``. Bad input raises before anything is written. ``overwrite`` starts afresh in
    an ``out`` that holds a previous run (its checkpoint, log and summary are removed first).
    """
    plan = make_plan(strategy, bn=bn, freeze_up_to=freeze_up_to, backbone_lr_mult=backbone_lr_mult,
                     layer_decay=layer_decay, unfreeze_every=unfreeze_every, unfreeze_start=unfreeze_start,
                     weight_decay=weight_decay)
    # the engine's rules (engine/config.py), checked before a model is built or anything is written
    check_values(dict(epochs=epochs, image_size=img_size, batch_size=batch_size, weight_decay=weight_decay,
                      seed=seed, skip_bad=skip_bad, tag=tag, **overrides), names=dict(image_size="img_size"))
    for key, value in (("lr", lr), ("val_size", val_size)):
        if value is not None:
            check_value(key, value)
    info = read_classes(data, val_size, seed, skip_bad)
    model, arch, base = build_model(model_or_name, info["classes"], pretrained)
    from_scratch = base is None
    if from_scratch:
        plan.backbone_lr_mult = 1.0  # nothing to preserve: one learning rate
    apply_plan(model, plan)
    n_train = min(info["n_train"], overrides.get("subset") or info["n_train"])
    if batch_size > n_train:  # the engine drops the last partial batch: a batch larger than the data trains nothing
        warnings.warn(f"batch_size {batch_size} > {n_train} training images; using batch_size {n_train}", stacklevel=2)
        batch_size = n_train
    img_size = img_size or int(model.pretrained_cfg["input_size"][-1])
    model.pretrained_cfg["input_size"] = (3, img_size, img_size)
    if img_size <= TENSOR_MAX_SIDE:
        model.pretrained_cfg["crop_pct"] = 1.0  # small inputs are the whole image, resized (as the cache does)
    lr = lr if lr is not None else (SCRATCH_LR if from_scratch else DEFAULT_LR[plan.strategy])
    tag = tag or f"{info['label'].lower().replace(' ', '_')}-{plan.strategy}"
    out = Path(out) if out is not None else Path("runs") / f"{arch}-{tag}"
    if overwrite and not resume:
        clear_run(out)
    record = dict(plan.as_dict(), base_weight=base, from_scratch=from_scratch, img_size=img_size, lr=lr,
                  epochs=epochs, trainable_params=count_trainable(model) if plan.strategy != "gradual" else None)
    summary = train(dict(model=arch, data=os.fspath(data), out=str(out), epochs=epochs, lr=lr, batch_size=batch_size,
                         image_size=img_size, val_size=info["val_size"], val_seed=seed, seed=seed,
                         weight_decay=weight_decay, skip_bad=skip_bad, tag=tag, extra=dict(finetune=record)),
                    resume=resume, model=model, param_groups=param_groups_fn(plan), callbacks=plan.callbacks,
                    **overrides)
    return write_report(summary, out, arch, info, record)
