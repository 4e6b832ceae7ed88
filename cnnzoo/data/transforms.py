"""Per-image transforms for larger images, derived from a model's ``pretrained_cfg`` (input_size, mean, std,
crop_pct, interpolation), as timm's ``resolve_data_config`` + ``create_transform`` would build them."""
from __future__ import annotations

import math

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def _interp(name: str):
    from torchvision.transforms import InterpolationMode

    return InterpolationMode(name if name in _INTERPOLATIONS else "bilinear")


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
    """Resize the short side to ``size / crop_pct`` -> centre crop ``size`` -> tensor -> normalise."""
    from torchvision import transforms as T

    size = cfg["input_size"][-1]
    crop_pct = cfg.get("crop_pct", 0.875) or 1.0
    resize = int(math.floor(size / crop_pct))
    return T.Compose([T.Resize(resize, interpolation=_interp(cfg.get("interpolation", "bicubic"))),
                      T.CenterCrop(size), T.ToTensor(), T.Normalize(cfg["mean"], cfg["std"])])
