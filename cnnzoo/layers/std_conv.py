"""Weight-standardised convolution (Qiao et al. 2019), the conv of BiT's ResNetV2 (Kolesnikov et al. 2020).

Every output filter is shifted and scaled to zero mean and unit variance over its inputs before it is applied;
with GroupNorm instead of BatchNorm this trains well at any batch size, which is why BiT uses the pair.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .helpers import same_padding


class StdConv2d(nn.Conv2d):
    """nn.Conv2d whose weight is standardised per output channel on every call (the stored weight is the raw
    one, so a state_dict holds what timm's ``StdConv2d`` holds)."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int, stride: int = 1, groups: int = 1,
                 bias: bool = False, eps: float = 1e-6):
        super().__init__(in_chs, out_chs, kernel_size, stride, same_padding(kernel_size, stride), groups=groups,
                         bias=bias)
        self.eps = eps

    def standardized_weight(self) -> torch.Tensor:
        w = self.weight.flatten(1)
        var, mean = torch.var_mean(w, dim=1, unbiased=False, keepdim=True)
        return ((w - mean) * torch.rsqrt(var + self.eps)).view_as(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.standardized_weight(), self.bias, self.stride, self.padding, self.dilation,
                        self.groups)
