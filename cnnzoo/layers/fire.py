"""SqueezeNet's Fire module (Iandola et al. 2016): a 1x1 "squeeze" to few channels, then 1x1 and 3x3 "expand"
convs side by side, concatenated. No BatchNorm: the convs carry biases, as in the paper and torchvision."""
from __future__ import annotations

import torch
from torch import nn

from .activations import ActSpec, get_act


class Fire(nn.Module):
    """``in_chs`` -> squeeze to ``squeeze_chs`` -> ``expand1x1_chs + expand3x3_chs`` channels (torchvision's
    parameter names)."""

    def __init__(self, in_chs: int, squeeze_chs: int, expand1x1_chs: int, expand3x3_chs: int,
                 act_layer: ActSpec = "relu"):
        super().__init__()
        act = get_act(act_layer)
        self.squeeze = nn.Conv2d(in_chs, squeeze_chs, 1)
        self.squeeze_act = act(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_chs, expand1x1_chs, 1)
        self.expand1x1_act = act(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_chs, expand3x3_chs, 3, padding=1)
        self.expand3x3_act = act(inplace=True)

    @property
    def out_chs(self) -> int:
        return self.expand1x1.out_channels + self.expand3x3.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_act(self.squeeze(x))
        return torch.cat([self.expand1x1_act(self.expand1x1(x)), self.expand3x3_act(self.expand3x3(x))], 1)
