"""The fully connected classifier of AlexNet and VGG, written as convolutions.

torchvision resizes the last feature map to a fixed grid (6x6 for AlexNet, 7x7 for VGG), flattens it and applies
two hidden linear layers. A conv whose kernel is the whole grid is that first linear layer (same weights,
reshaped), and a 1x1 conv the second, so the classifier ends in a 1x1 map of ``hidden`` channels that the
skeleton's global pool and final linear layer take like any other network's features.
"""
from __future__ import annotations

import torch
from torch import nn

from .activations import ActSpec, get_act


class ConvMlp(nn.Module):
    """adaptive average pool to ``grid`` -> (dropout) -> grid x grid conv -> act -> (dropout) -> 1x1 conv -> act.

    ``drop_first`` puts each dropout before its layer (AlexNet) instead of after its activation (VGG); only
    training differs."""

    def __init__(self, in_chs: int, hidden: int = 4096, grid: int = 7, drop_rate: float = 0.5,
                 act_layer: ActSpec = "relu", drop_first: bool = False):
        super().__init__()
        act = get_act(act_layer)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.fc1 = nn.Conv2d(in_chs, hidden, grid)
        self.act1 = act(inplace=True)
        self.fc2 = nn.Conv2d(hidden, hidden, 1)
        self.act2 = act(inplace=True)
        self.drop1 = nn.Dropout(drop_rate)
        self.drop2 = nn.Dropout(drop_rate)
        self.drop_first = drop_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        if self.drop_first:
            return self.act2(self.fc2(self.drop2(self.act1(self.fc1(self.drop1(x))))))
        return self.drop2(self.act2(self.fc2(self.drop1(self.act1(self.fc1(x))))))
