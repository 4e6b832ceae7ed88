"""Fused TAct kernels: the forward and the backward of TAct each compiled by ``torch.compile`` into one pass.

In eager mode TAct costs about ten elementwise passes per layer (forward and backward), against two for ReLU; on a
CPU that made a TAct resnet20 about 1.6x slower to train than a ReLU one (benchmarks/tact_cost.py). Inductor fuses
each direction into a single loop (the two coefficient gradients are reduced in the same loop). Compilation costs
tens of seconds once per process, so the path is opt-in: ``set_tact_fused(True)`` or ``CNNZOO_TACT_FUSED=1``.
"""
from __future__ import annotations

import os
from functools import lru_cache

import torch

_state = {"enabled": os.environ.get("CNNZOO_TACT_FUSED", "") not in ("", "0", "false")}


def set_tact_fused(enabled: bool = True) -> None:
    """Route every TAct / mTAct layer through the compiled kernels (process-wide)."""
    _state["enabled"] = bool(enabled)


def tact_fused_enabled() -> bool:
    return _state["enabled"]


def _forward(x, a, c):
    return (a * x + 1 - a) * torch.sigmoid(c * x)


def _backward(grad, x, a, c, a_shape: tuple, b_shape: tuple):
    s = torch.sigmoid(c * x)
    gs = grad * (a * x + 1 - a) * s * (1 - s)
    grad_x = grad * a * s + gs * c
    acc = torch.promote_types(x.dtype, torch.float32)  # reduce in at least fp32
    grad_a = (grad * s * (x - 1)).to(acc).sum_to_size(a_shape)
    grad_b = (gs * x).to(acc).sum_to_size(b_shape)
    return grad_x, grad_a, grad_b


def like_input(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``grad`` in ``x``'s memory layout: the compiled backward specialises on strides, and an expanded
    (stride-0) or differently laid out gradient would otherwise recompile it until torch.compile gives up."""
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return grad.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


@lru_cache(maxsize=None)
def compiled_kernels():
    """(forward, backward), compiled on first use; shapes are dynamic so layers of any size share them."""
    return torch.compile(_forward, dynamic=True), torch.compile(_backward, dynamic=True)
