"""Dual-path block (Chen et al. 2017, "Dual Path Networks").

A DPN carries two paths in one tensor, ``[residual | dense]``: the first ``residual_chs`` channels are a ResNet
path (the block adds to them) and the rest are a DenseNet path (the block appends ``inc`` channels to it). The
block body is shared: BN-act-1x1 -> BN-act-3x3 (grouped, ResNeXt-style, carries the stride) -> BN-act-1x1 to
``residual_chs + inc``; its first ``residual_chs`` output channels are added to the residual path, the last
``inc`` are concatenated to the dense path::

    x = [r | d]           ->   [r + y[:, :R] | d | y[:, R:]]       y = body(x), R = residual_chs

The first block of a stage has a projection (BN-act-1x1, strided when the stage downsamples) that maps the
input to a new ``[r | d]`` of ``residual_chs + 2 * inc`` channels, so a stage of ``n`` blocks outputs
``residual_chs + (n + 2) * inc`` channels. Keeping both paths in one tensor costs one concatenation per block and
makes every stage output a plain tensor (``features_only``, ``feature_info``).
"""
from __future__ import annotations

import torch
from torch import nn

from .activations import ActSpec
from .conv_norm_act import NormActConv
from .drop import DropPath


class DualPathBlock(nn.Module):
    """One dual-path block.

    ``mid_chs`` is the width of the 1x1 and the grouped 3x3 (the paper's ``R``), ``residual_chs`` the residual
    path width (``bw``), ``inc`` the dense-path increment, ``project`` whether the input is re-projected (first
    block of a stage). ``drop_path`` drops the block's whole contribution per sample: the residual path passes
    unchanged and the appended dense channels are zero.
    """

    def __init__(self, in_chs: int, mid_chs: int, residual_chs: int, inc: int, groups: int = 32, stride: int = 1,
                 project: bool = False, act_layer: ActSpec = "relu", norm_layer: type[nn.Module] = nn.BatchNorm2d,
                 drop_path: float = 0.0):
        super().__init__()
        if not project and stride != 1:
            raise ValueError("a strided dual-path block needs project=True")
        self.residual_chs, self.inc = residual_chs, inc
        self.proj = NormActConv(in_chs, residual_chs + 2 * inc, 1, stride, act_layer=act_layer,
                                norm_layer=norm_layer) if project else None
        self.conv1 = NormActConv(in_chs, mid_chs, 1, act_layer=act_layer, norm_layer=norm_layer)
        self.conv2 = NormActConv(mid_chs, mid_chs, 3, stride, groups, act_layer=act_layer, norm_layer=norm_layer)
        self.conv3 = NormActConv(mid_chs, residual_chs + inc, 1, act_layer=act_layer, norm_layer=norm_layer)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.out_chs = residual_chs + (2 * inc if project else in_chs - residual_chs) + inc

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(residual path, dense path) of a ``[residual | dense]`` tensor."""
        return x[:, : self.residual_chs], x[:, self.residual_chs:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual, dense = self.split(self.proj(x) if self.proj is not None else x)
        y = self.drop_path(self.conv3(self.conv2(self.conv1(x))))
        return torch.cat([residual + y[:, : self.residual_chs], dense, y[:, self.residual_chs:]], 1)
