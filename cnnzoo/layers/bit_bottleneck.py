"""The residual block of BiT (Kolesnikov et al. 2020): a pre-activation bottleneck (He et al. 2016b) whose norms
are GroupNorm(32) and whose convs are weight-standardised, as timm's ``resnetv2_*_bit`` defines it.

norm1-act -> 1x1 -> norm2-act -> 3x3 (stride) -> norm3-act -> 1x1, plus the input; where the shape changes,
the shortcut is a weight-standardised strided 1x1 on the pre-activated input (no norm after it).
"""
from __future__ import annotations

import functools

import torch
from torch import nn

from .activations import ActSpec, get_act
from .drop import DropPath
from .std_conv import StdConv2d


class GroupNormAct(nn.GroupNorm):
    """GroupNorm followed by the activation (keeps GroupNorm's parameter names: ``weight``, ``bias``)."""

    def __init__(self, channels: int, num_groups: int = 32, eps: float = 1e-5, act_layer: ActSpec = "relu"):
        super().__init__(num_groups, channels, eps)
        self.act = get_act(act_layer)(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


class BitBottleneck(nn.Module):
    """Pre-activation bottleneck with GroupNorm + weight standardisation; ``out_chs / 4`` inner channels."""

    def __init__(self, in_chs: int, out_chs: int, stride: int = 1, act_layer: ActSpec = "relu",
                 drop_path: float = 0.0, ws_eps: float = 1e-8):
        super().__init__()
        mid_chs = out_chs // 4
        conv = functools.partial(StdConv2d, eps=ws_eps)
        norm = functools.partial(GroupNormAct, act_layer=act_layer)
        self.downsample = conv(in_chs, out_chs, 1, stride) if stride != 1 or in_chs != out_chs else None
        self.norm1 = norm(in_chs)
        self.conv1 = conv(in_chs, mid_chs, 1)
        self.norm2 = norm(mid_chs)
        self.conv2 = conv(mid_chs, mid_chs, 3, stride)
        self.norm3 = norm(mid_chs)
        self.conv3 = conv(mid_chs, out_chs, 1)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.conv3.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_preact = self.norm1(x)
        shortcut = self.downsample(x_preact) if self.downsample is not None else x
        x = self.conv1(x_preact)
        x = self.conv2(self.norm2(x))
        x = self.conv3(self.norm3(x))
        return self.drop_path(x) + shortcut
