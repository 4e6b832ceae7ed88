"""Weight initialisation shared by the families."""
from __future__ import annotations

from torch import nn


def init_weights(model: nn.Module, zero_init_last: bool = False) -> None:
    """Kaiming-normal (fan-out) convs, unit BN, small normal linear; optionally zero the last BN of each
    residual block so every block starts as the identity (Goyal et al. 2017)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    if zero_init_last:
        for m in model.modules():
            if hasattr(m, "zero_init_last"):
                m.zero_init_last()
