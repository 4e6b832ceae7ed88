"""Top-k predictions for image files, preprocessed the way the weight says (its input size, mean, std, crop)."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..data.data_config import resolve_data_config
from ..data.images import load_rgb
from ..data.transforms import create_transform
from ..errors import InvalidArgumentError


@torch.no_grad()
def predict(model: nn.Module, images: list[str | Path], topk: int = 5, batch_size: int = 64) -> list[dict]:
    """``[{"image": path, "topk": [(label, probability), ...]}, ...]`` for each image file."""
    cfg = dict(getattr(model, "pretrained_cfg", {}) or {})
    # display names where the weight has them (Imagenette: "tench" for the folder name n01440764)
    labels = list(cfg.get("label_names") or cfg.get("labels") or [str(i) for i in range(model.num_classes)])
    if not isinstance(topk, int) or topk < 1:
        raise InvalidArgumentError(f"topk must be an integer >= 1, got {topk!r}")
    k = min(topk, len(labels))
    tf = create_transform(**resolve_data_config(model=model))
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        chunk = [Path(p) for p in images[start:start + batch_size]]
        x = torch.stack([tf(load_rgb(p)) for p in chunk])
        probs = model(x).float().softmax(1)
        top = probs.topk(k, 1)
        for path, p, i in zip(chunk, top.values.tolist(), top.indices.tolist()):
            out.append(dict(image=str(path), topk=[(labels[j], round(v, 6)) for v, j in zip(p, i)]))
    return out
