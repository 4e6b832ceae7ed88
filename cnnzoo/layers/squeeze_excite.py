"""Squeeze-and-excitation (Hu et al. 2018): global pool -> 1x1 reduce -> act -> 1x1 expand -> gate -> scale."""
from __future__ import annotations

from torch import nn

from .activations import ActSpec, get_act
from .helpers import make_divisible


class SqueezeExcite(nn.Module):
    """Channel attention. ``rd_channels`` wins over ``rd_ratio``; ``rd_divisor`` rounds the reduced width."""

    def __init__(
        self,
        channels: int,
        rd_ratio: float = 1 / 16,
        rd_channels: int | None = None,
        rd_divisor: int = 1,
        act_layer: ActSpec = "relu",
        gate_layer: ActSpec = "sigmoid",
    ):
        super().__init__()
        if rd_channels is None:
            rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.0)
        self.fc1 = nn.Conv2d(channels, rd_channels, 1, bias=True)
        self.act = get_act(act_layer)(inplace=True)
        self.fc2 = nn.Conv2d(rd_channels, channels, 1, bias=True)
        self.gate = get_act(gate_layer)()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.fc2(self.act(self.fc1(s)))
        return x * self.gate(s)
