"""Sizes of an architecture without its weights: parameter and multiply-add counts, and a build on the meta
device that allocates nothing (for the large models, and for key/shape checks of imported weights)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..registry import get_model_spec


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_on_meta(name: str, **kwargs) -> nn.Module:
    """Build the registered architecture ``name`` (``arch`` or ``arch.tag``) without allocating weights."""
    spec = get_model_spec(name)
    kwargs.setdefault("num_classes", spec.num_classes)
    with torch.device("meta"):
        return spec.fn(**kwargs)


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass, counted by torch.utils.flop_counter (FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    device = next(model.parameters()).device
    x = torch.zeros((1, *input_size), device=device)
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2
