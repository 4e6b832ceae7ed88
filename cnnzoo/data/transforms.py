"""Per-image transforms from a data config (``input_size``, ``mean``, ``std``, ``crop_pct``, ``crop_mode``,
``interpolation``): ``create_transform`` builds what timm's ``create_transform`` builds for the same arguments
(the evaluation pipeline step for step, tested tensor-equal), without needing timm."""
from __future__ import annotations

import math
from typing import Sequence

from ..errors import InvalidArgumentError
from ..registry import IMAGENET_MEAN, IMAGENET_STD

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
CROP_MODES = ("center", "squash")


def _interp(name: str):
    from torchvision.transforms import InterpolationMode

    return InterpolationMode(name if name in _INTERPOLATIONS else "bilinear")


def _size(input_size: int | Sequence[int]) -> int | tuple[int, int]:
    """timm's ``img_size`` from an ``input_size``: an int for square, (height, width) otherwise."""
    if isinstance(input_size, int):
        return input_size
    size = tuple(input_size)[-2:]
    return size[0] if size[0] == size[1] else size


def create_transform(input_size: int | Sequence[int] = 224, is_training: bool = False,
                     interpolation: str = "bilinear", mean: Sequence[float] = IMAGENET_MEAN,
                     std: Sequence[float] = IMAGENET_STD, crop_pct: float | None = None,
                     crop_mode: str | None = None, **train_options):
    """timm's ``create_transform`` for the keys of :func:`resolve_data_config`. Evaluation: resize (shorter
    side to ``size / crop_pct``, or both sides with ``crop_mode="squash"``) -> centre crop -> tensor ->
    normalise. Training: :func:`train_transform` (``train_options``: ``randaugment``, ``scale``, ``hflip``)."""
    cfg = dict(input_size=input_size if not isinstance(input_size, int) else (3, input_size, input_size),
               interpolation=interpolation, mean=mean, std=std)
    if is_training:
        return train_transform(cfg, **train_options)
    if train_options:
        raise InvalidArgumentError(f"evaluation transform takes no training options, got {sorted(train_options)}")
    return eval_transform(dict(cfg, crop_pct=crop_pct, crop_mode=crop_mode))


def train_transform(cfg: dict, randaugment: str | None = None, scale=(0.08, 1.0), hflip: bool = True):
    """RandomResizedCrop -> flip -> optional RandAugment (timm's ``rand-m9-mstd0.5`` syntax) -> tensor -> normalise."""
    from torchvision import transforms as T

    size = cfg["input_size"][-1]
    steps = [T.RandomResizedCrop(size, scale=scale, interpolation=_interp(cfg.get("interpolation", "bicubic")))]
    if hflip:
        steps.append(T.RandomHorizontalFlip())
    if randaugment:
        from timm.data.auto_augment import rand_augment_transform

        hparams = dict(translate_const=int(size * 0.45), img_mean=tuple(round(255 * m) for m in cfg["mean"]))
        steps.append(rand_augment_transform(randaugment, hparams))
    steps += [T.ToTensor(), T.Normalize(cfg["mean"], cfg["std"])]
    return T.Compose(steps)


def eval_transform(cfg: dict):
    """Resize to ``size / crop_pct`` (the shorter side; both sides with ``crop_mode="squash"``) -> centre crop
    ``size`` -> tensor -> normalise, with timm's rounding (floor)."""
    from torchvision import transforms as T

    size = _size(cfg["input_size"])
    crop_pct = cfg.get("crop_pct") or 0.875
    crop_mode = cfg.get("crop_mode") or "center"
    if crop_mode not in CROP_MODES:
        raise InvalidArgumentError(f"unknown crop_mode {crop_mode!r}; valid: {', '.join(CROP_MODES)}")
    pair = (size, size) if isinstance(size, int) else size
    scale = tuple(math.floor(s / crop_pct) for s in pair)
    interp = _interp(cfg.get("interpolation", "bicubic"))
    if crop_mode == "squash":
        resize = T.Resize(scale, interpolation=interp)
    elif scale[0] == scale[1]:
        resize = T.Resize(scale[0], interpolation=interp)
    else:
        raise InvalidArgumentError(f"non-square input_size {pair} needs crop_mode='squash' in cnnzoo's transform")
    return T.Compose([resize, T.CenterCrop(size), T.ToTensor(), T.Normalize(cfg["mean"], cfg["std"])])
