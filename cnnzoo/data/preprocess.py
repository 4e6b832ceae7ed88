"""One call from an image (a path or a PIL image) to the batch a model's weight expects."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from .data_config import resolve_data_config
from .images import load_rgb
from .transforms import create_transform


def prepare_image(image, model: nn.Module | None = None, pretrained_cfg: Mapping | None = None) -> torch.Tensor:
    """``image`` (a file path or a PIL image) resized, cropped and normalised as ``model``'s weight (or
    ``pretrained_cfg``) says, as a ``(1, C, H, W)`` batch: ``model(prepare_image("cat.jpg", model))``."""
    if isinstance(image, (str, os.PathLike, Path)):
        image = load_rgb(image)
    elif getattr(image, "mode", "RGB") != "RGB":
        image = image.convert("RGB")
    config = resolve_data_config(pretrained_cfg=pretrained_cfg, model=model)
    return create_transform(**config)(image).unsqueeze(0)
