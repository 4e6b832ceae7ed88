"""``resolve_data_config``: the preprocessing a model or weight expects, as timm resolves it.

The same keys, defaults and precedence as ``timm.data.resolve_data_config`` (explicit ``args`` over the
``pretrained_cfg`` over ImageNet defaults), so a cnnzoo user without timm gets the dict timm would give, and
``create_transform(**config)`` (here or in timm) builds the same pipeline.
"""
from __future__ import annotations

from typing import Mapping

from torch import nn

from ..errors import InvalidArgumentError
from ..registry import IMAGENET_MEAN, IMAGENET_STD

DEFAULT_CROP_PCT = 0.875
DEFAULT_CROP_MODE = "center"
DEFAULT_INTERPOLATION = "bicubic"


def _per_channel(values, in_chans: int, key: str) -> tuple[float, ...]:
    values = tuple(values)
    if len(values) == 1:
        return values * in_chans
    if len(values) != in_chans:
        raise InvalidArgumentError(f"{key} needs 1 or {in_chans} values (one per input channel), got {values}")
    return values


def resolve_data_config(args: Mapping | None = None, pretrained_cfg: Mapping | None = None,
                        model: nn.Module | None = None, use_test_size: bool = False) -> dict:
    """``input_size``, ``interpolation``, ``mean``, ``std``, ``crop_pct``, ``crop_mode`` for ``model`` (its
    ``pretrained_cfg``) or an explicit ``pretrained_cfg``, each overridden by ``args`` (``input_size``,
    ``img_size``, ``in_chans``, ``mean``, ``std``, ``interpolation``, ``crop_pct``, ``crop_mode``)."""
    if model is None and not args and not pretrained_cfg:
        raise InvalidArgumentError("resolve_data_config needs a model, a pretrained_cfg or args")
    args = dict(args or {})
    cfg = dict(pretrained_cfg or getattr(model, "pretrained_cfg", None) or {})
    in_chans = args.get("in_chans") or args.get("chans") or 3
    if args.get("input_size") is not None:
        input_size = tuple(args["input_size"])
        if len(input_size) != 3:
            raise InvalidArgumentError(f"input_size must be (channels, height, width), got {input_size}")
        in_chans = input_size[0]
    elif args.get("img_size") is not None:
        input_size = (in_chans, int(args["img_size"]), int(args["img_size"]))
    elif use_test_size and cfg.get("test_input_size") is not None:
        input_size = tuple(cfg["test_input_size"])
    else:
        input_size = tuple(cfg.get("input_size") or (in_chans, 224, 224))
    crop_pct = args.get("crop_pct") or (use_test_size and cfg.get("test_crop_pct")) or cfg.get("crop_pct")
    return dict(
        input_size=input_size,
        interpolation=args.get("interpolation") or cfg.get("interpolation") or DEFAULT_INTERPOLATION,
        mean=_per_channel(args["mean"], in_chans, "mean") if args.get("mean") is not None
        else tuple(cfg.get("mean") or IMAGENET_MEAN),
        std=_per_channel(args["std"], in_chans, "std") if args.get("std") is not None
        else tuple(cfg.get("std") or IMAGENET_STD),
        crop_pct=crop_pct or DEFAULT_CROP_PCT,
        crop_mode=args.get("crop_mode") or cfg.get("crop_mode") or DEFAULT_CROP_MODE,
    )
