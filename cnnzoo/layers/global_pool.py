"""Global pooling of the classifier head, with timm's pool-type names.

``avg`` (the default), ``max``, ``avgmax`` (the mean of the two), ``catavgmax`` (both, concatenated: twice the
channels) and ``''`` (no pooling: the feature map passes unchanged, only valid without a classifier).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import InvalidArgumentError

POOL_TYPES = ("avg", "max", "avgmax", "catavgmax", "")


def check_pool_type(pool_type: str) -> str:
    if pool_type not in POOL_TYPES:
        raise InvalidArgumentError(
            f"unknown global_pool {pool_type!r}; valid: {', '.join(repr(p) for p in POOL_TYPES)}")
    return pool_type


class GlobalPool(nn.Module):
    """Pools (N, C, H, W) to (N, C) (``catavgmax``: (N, 2C)); ``''`` returns the map as it is."""

    def __init__(self, pool_type: str = "avg"):
        super().__init__()
        self.pool_type = check_pool_type(pool_type)

    def feat_mult(self) -> int:
        """Output channels per input channel."""
        return 2 if self.pool_type == "catavgmax" else 1

    def is_identity(self) -> bool:
        return self.pool_type == ""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool_type == "":
            return x
        if self.pool_type == "avg":
            return x.mean((2, 3))
        x_max = x.amax((2, 3))
        if self.pool_type == "max":
            return x_max
        x_avg = x.mean((2, 3))
        if self.pool_type == "avgmax":
            return 0.5 * (x_avg + x_max)
        return torch.cat((x_avg, x_max), 1)

    def extra_repr(self) -> str:
        return f"pool_type={self.pool_type!r}"
