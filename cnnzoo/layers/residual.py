"""Residual blocks: post-activation BasicBlock / Bottleneck (with ResNeXt groups and optional SE), their
pre-activation variants, and the shortcuts that change shape."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .activations import ActSpec, get_act
from .conv_norm_act import ConvNormAct, NormAct
from .drop import DropPath

AttnLayer = Callable[[int], nn.Module] | None


def _attn(attn_layer: AttnLayer, channels: int, act_layer: ActSpec) -> nn.Module:
    """The attention module (SE) of a block; its inner activation follows the network's."""
    return attn_layer(channels, act_layer=act_layer) if attn_layer is not None else nn.Identity()


def _drop_path(rate: float) -> nn.Module:
    return DropPath(rate) if rate > 0 else nn.Identity()


class ZeroPadShortcut(nn.Module):
    """Parameter-free shortcut ("option A" of He et al. 2015): subsample spatially, zero-pad new channels."""

    def __init__(self, in_chs: int, out_chs: int, stride: int):
        super().__init__()
        self.stride, self.extra = stride, out_chs - in_chs

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        half = self.extra // 2
        return F.pad(x, (0, 0, 0, 0, half, self.extra - half))


def projection_shortcut(in_chs: int, out_chs: int, stride: int, kernel_size: int = 1,
                        preact: bool = False) -> nn.Module:
    """1x1 (or kxk) strided conv, followed by BN unless the block is pre-activated ("option B")."""
    if preact:
        return nn.Conv2d(in_chs, out_chs, kernel_size, stride, kernel_size // 2, bias=False)
    return ConvNormAct(in_chs, out_chs, kernel_size, stride, apply_act=False)


class BasicBlock(nn.Module):
    """3x3 -> 3x3 residual block (post-activation)."""

    expansion = 1

    def __init__(self, in_chs: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, reduce_first: int = 1, act_layer: ActSpec = "relu",
                 attn_layer: AttnLayer = None, drop_path: float = 0.0):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock supports only groups=1 and base_width=64")
        first = planes // reduce_first
        self.conv1 = ConvNormAct(in_chs, first, 3, stride, act_layer=act_layer)
        self.conv2 = ConvNormAct(first, planes, 3, apply_act=False)
        self.se = _attn(attn_layer, planes, act_layer)
        self.drop_path = _drop_path(drop_path)
        self.downsample = downsample if downsample is not None else nn.Identity()
        self.act = get_act(act_layer)(inplace=True)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.conv2.bn.weight)

    def forward(self, x):
        shortcut = self.downsample(x)
        x = self.drop_path(self.se(self.conv2(self.conv1(x))))
        x += shortcut  # in place: saves one allocation per block (no op before needs its output)
        return self.act(x)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (grouped for ResNeXt) -> 1x1 expand, post-activation, optional SE.

    The 3x3 width is ``floor(planes * base_width / 64) * groups``; ``reduce_first`` narrows the first 1x1
    (SENet-154 uses 2). The stride sits on the 3x3 conv (the torchvision "ResNet v1.5" placement).
    """

    expansion = 4

    def __init__(self, in_chs: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, reduce_first: int = 1, act_layer: ActSpec = "relu",
                 attn_layer: AttnLayer = None, drop_path: float = 0.0):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        first = width // reduce_first
        out_chs = planes * self.expansion
        self.conv1 = ConvNormAct(in_chs, first, 1, act_layer=act_layer)
        self.conv2 = ConvNormAct(first, width, 3, stride, groups=groups, act_layer=act_layer)
        self.conv3 = ConvNormAct(width, out_chs, 1, apply_act=False)
        self.se = _attn(attn_layer, out_chs, act_layer)
        self.drop_path = _drop_path(drop_path)
        self.downsample = downsample if downsample is not None else nn.Identity()
        self.act = get_act(act_layer)(inplace=True)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.conv3.bn.weight)

    def forward(self, x):
        shortcut = self.downsample(x)
        x = self.drop_path(self.se(self.conv3(self.conv2(self.conv1(x)))))
        x += shortcut  # in place: saves one allocation per block (no op before needs its output)
        return self.act(x)


class PreActBasicBlock(nn.Module):
    """BN-act-3x3 -> BN-act-(dropout)-3x3 (He et al. 2016 "Identity Mappings"; WRN adds the dropout).

    A projection shortcut, when present, reads the pre-activated input as in the paper's code.
    """

    expansion = 1

    def __init__(self, in_chs: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 act_layer: ActSpec = "relu", attn_layer: AttnLayer = None, block_drop_rate: float = 0.0,
                 drop_path: float = 0.0):
        super().__init__()
        self.norm1 = NormAct(in_chs, act_layer)
        self.conv1 = nn.Conv2d(in_chs, planes, 3, stride, 1, bias=False)
        self.norm2 = NormAct(planes, act_layer)
        self.dropout = nn.Dropout(block_drop_rate) if block_drop_rate > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.se = _attn(attn_layer, planes, act_layer)
        self.drop_path = _drop_path(drop_path)
        self.downsample = downsample

    def forward(self, x):
        out = self.norm1(x)
        shortcut = self.downsample(out) if self.downsample is not None else x
        out = self.conv1(out)
        out = self.conv2(self.dropout(self.norm2(out)))
        return self.drop_path(self.se(out)) + shortcut


class PreActBottleneck(nn.Module):
    """BN-act-1x1 -> BN-act-3x3 -> BN-act-1x1 (x4), pre-activation."""

    expansion = 4

    def __init__(self, in_chs: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 act_layer: ActSpec = "relu", attn_layer: AttnLayer = None, drop_path: float = 0.0):
        super().__init__()
        out_chs = planes * self.expansion
        self.norm1 = NormAct(in_chs, act_layer)
        self.conv1 = nn.Conv2d(in_chs, planes, 1, bias=False)
        self.norm2 = NormAct(planes, act_layer)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.norm3 = NormAct(planes, act_layer)
        self.conv3 = nn.Conv2d(planes, out_chs, 1, bias=False)
        self.se = _attn(attn_layer, out_chs, act_layer)
        self.drop_path = _drop_path(drop_path)
        self.downsample = downsample

    def forward(self, x):
        out = self.norm1(x)
        shortcut = self.downsample(out) if self.downsample is not None else x
        out = self.conv1(out)
        out = self.conv2(self.norm2(out))
        out = self.conv3(self.norm3(out))
        return self.drop_path(self.se(out)) + shortcut


class Res2Bottleneck(nn.Module):
    """Res2Net bottleneck (Gao et al. 2019): the 3x3 is split into ``scale`` groups of ``width`` channels that
    are convolved hierarchically, each group adding the previous group's output."""

    expansion = 4

    def __init__(self, in_chs: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 26, scale: int = 4, act_layer: ActSpec = "relu",
                 attn_layer: AttnLayer = None, drop_path: float = 0.0):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        out_chs = planes * self.expansion
        self.scale, self.width = scale, width
        # The first block of a stage (stride or projection) cannot mix groups: shapes change.
        self.is_first = stride > 1 or downsample is not None
        self.conv1 = ConvNormAct(in_chs, width * scale, 1, act_layer=act_layer)
        self.convs = nn.ModuleList(
            ConvNormAct(width, width, 3, stride, groups=groups, act_layer=act_layer) for _ in range(scale - 1)
        )
        self.pool = nn.AvgPool2d(3, stride, 1) if self.is_first else None
        self.conv3 = ConvNormAct(width * scale, out_chs, 1, apply_act=False)
        self.se = _attn(attn_layer, out_chs, act_layer)
        self.drop_path = _drop_path(drop_path)
        self.downsample = downsample if downsample is not None else nn.Identity()
        self.act = get_act(act_layer)(inplace=True)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.conv3.bn.weight)

    def forward(self, x):
        shortcut = self.downsample(x)
        splits = torch.split(self.conv1(x), self.width, 1)
        outs: list[torch.Tensor] = []
        sp = splits[0]
        for i, conv in enumerate(self.convs):
            if i > 0:
                sp = splits[i] if self.is_first else sp + splits[i]
            sp = conv(sp)
            outs.append(sp)
        outs.append(self.pool(splits[-1]) if self.pool is not None else splits[-1])
        x = self.drop_path(self.se(self.conv3(torch.cat(outs, 1))))
        x += shortcut
        return self.act(x)
