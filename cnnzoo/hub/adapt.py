"""Fitting a weight to a model built with another ``num_classes`` or ``in_chans``.

The classifier is ``head.fc`` in every cnnzoo model and the first conv is the first ``Conv2d`` inside
``model.stem``, so both are found the same way for every family.
"""
from __future__ import annotations

import math

import torch
from torch import nn

CLASSIFIER_PREFIX = "head.fc."


def first_conv_key(model: nn.Module) -> str | None:
    """State-dict key of the first conv's weight (the one that sees the input channels)."""
    stem = getattr(model, "stem", None)
    if stem is None:
        return None
    for name, module in stem.named_modules():
        if isinstance(module, nn.Conv2d):
            return f"stem.{name}.weight" if name else "stem.weight"
    return None


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """First-conv weight for ``in_chans`` inputs from one trained on ``weight.shape[1]`` channels.

    One channel: the sum over the trained channels (a grey image is the same in every channel, so the
    response to it is kept). More channels: the trained filters repeated cyclically and scaled by
    trained/new channels, so a replicated input gives the same activation magnitude.
    """
    out_chs, trained, kh, kw = weight.shape
    if in_chans == trained:
        return weight
    dtype = weight.dtype
    w = weight.float()
    if in_chans == 1:
        adapted = w.sum(dim=1, keepdim=True)
    else:
        repeats = math.ceil(in_chans / trained)
        adapted = w.repeat(1, repeats, 1, 1)[:, :in_chans] * (trained / in_chans)
    return adapted.to(dtype)


def drop_classifier(state: dict[str, torch.Tensor]) -> list[str]:
    """Remove ``head.fc.*`` from ``state`` (in place); returns the removed keys."""
    dropped = [k for k in state if k.startswith(CLASSIFIER_PREFIX)]
    for k in dropped:
        del state[k]
    return dropped


def classifier_mismatch(state: dict[str, torch.Tensor], model_state: dict[str, torch.Tensor]) -> bool:
    """True when the weight's classifier cannot go into the model's (other class count, or none)."""
    keys = [k for k in state if k.startswith(CLASSIFIER_PREFIX)]
    if not keys:
        return False
    return any(k not in model_state or tuple(model_state[k].shape) != tuple(state[k].shape) for k in keys)


def has_classifier(model_state: dict[str, torch.Tensor]) -> bool:
    """False for a model built with ``num_classes=0`` (pooled features out): a weight's classifier has no place."""
    return any(k.startswith(CLASSIFIER_PREFIX) for k in model_state)
