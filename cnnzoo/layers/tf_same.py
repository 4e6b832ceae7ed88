"""TensorFlow's "SAME" padding for strided convs and pools: pad so the output is ceil(input / stride), the odd
pixel going to the bottom/right. PyTorch's symmetric padding differs from it whenever the stride is 2, so
networks trained in TensorFlow (NASNet) need it to give the same outputs; for stride 1 and odd kernels the two
agree and the plain PyTorch layer is returned.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .helpers import same_padding


def tf_same_pad(x: torch.Tensor, kernel_size: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad the last two dims of ``x`` as TensorFlow's "SAME" does for ``kernel_size`` / ``stride``."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dim first
        total = max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d padded dynamically as TensorFlow's "SAME" (the parameters are a plain conv's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0]))


class MaxPool2dSame(nn.MaxPool2d):
    """Max pooling with "SAME" padding (the padded pixels are -inf, so they never win)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf_same_pad(x, self.kernel_size, self.stride, value=-math.inf))


class AvgPool2dSame(nn.AvgPool2d):
    """Average pooling with "SAME" padding; the zero padding counts in the average, as in timm's port."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf_same_pad(x, self.kernel_size, self.stride))


def conv2d_same(in_chs: int, out_chs: int, kernel_size: int, stride: int = 1, groups: int = 1,
                bias: bool = False) -> nn.Conv2d:
    if stride == 1:
        return nn.Conv2d(in_chs, out_chs, kernel_size, 1, same_padding(kernel_size), groups=groups, bias=bias)
    return Conv2dSame(in_chs, out_chs, kernel_size, stride, 0, groups=groups, bias=bias)


def max_pool_same(kernel_size: int, stride: int) -> nn.Module:
    if stride == 1:
        return nn.MaxPool2d(kernel_size, 1, kernel_size // 2)
    return MaxPool2dSame(kernel_size, stride)


def avg_pool_same(kernel_size: int, stride: int) -> nn.Module:
    """Stride 1: padding excluded from the average (count_include_pad=False, as NASNet's TF original)."""
    if stride == 1:
        return nn.AvgPool2d(kernel_size, 1, kernel_size // 2, count_include_pad=False)
    return AvgPool2dSame(kernel_size, stride)
