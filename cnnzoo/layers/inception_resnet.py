"""Inception-ResNet-v2 modules (Szegedy et al. 2017, figures 9-18), in the layout of the TF-slim model that timm
and Cadene ported: branch names ``branch0``... and ``conv2d``, the 1x1 projection back to the trunk width.

A residual module adds ``scale * conv2d(concat(branches))`` to its input; the paper scales the residuals (0.17,
0.10, 0.20) so that the very wide sums stay stable in training. ``conv`` is the network's conv -> BN -> act
factory, ``conv(in_chs, out_chs, kernel_size, stride=1, padding=0)``.
"""
from __future__ import annotations

import torch
from torch import nn

from .activations import ActSpec, get_act
from .inception import Branches, ConvFactory


class ResidualBranches(Branches):
    """``act(x + scale * conv2d(concat(branches(x))))``; ``act_layer=None`` leaves the sum unactivated (the
    network's last module, whose output goes to a 1x1 conv)."""

    def __init__(self, out_chs: int, scale: float, act_layer: ActSpec | None, **branches: nn.Module):
        super().__init__(**branches)
        cat_chs = sum(_out_channels(b) for b in branches.values())
        self.scale = scale
        self.conv2d = nn.Conv2d(cat_chs, out_chs, 1)
        self.act = get_act(act_layer)() if act_layer is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2d(super().forward(x)) * self.scale + x)


def _out_channels(branch: nn.Module) -> int:
    convs = [m for m in branch.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def mixed_5b(conv: ConvFactory) -> Branches:
    """Stem end (35x35, 192 -> 320): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg-pool -> 1x1."""
    return Branches(
        branch0=conv(192, 96, 1),
        branch1=nn.Sequential(conv(192, 48, 1), conv(48, 64, 5, 1, 2)),
        branch2=nn.Sequential(conv(192, 64, 1), conv(64, 96, 3, 1, 1), conv(96, 96, 3, 1, 1)),
        branch3=nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(192, 64, 1)),
    )


def block35(conv: ConvFactory, act_layer: ActSpec, scale: float = 0.17) -> ResidualBranches:
    """Inception-ResNet-A (35x35, 320 channels)."""
    return ResidualBranches(
        320, scale, act_layer,
        branch0=conv(320, 32, 1),
        branch1=nn.Sequential(conv(320, 32, 1), conv(32, 32, 3, 1, 1)),
        branch2=nn.Sequential(conv(320, 32, 1), conv(32, 48, 3, 1, 1), conv(48, 64, 3, 1, 1)),
    )


def mixed_6a(conv: ConvFactory) -> Branches:
    """Reduction-A (35 -> 17, 320 -> 1088)."""
    return Branches(
        branch0=conv(320, 384, 3, 2),
        branch1=nn.Sequential(conv(320, 256, 1), conv(256, 256, 3, 1, 1), conv(256, 384, 3, 2)),
        branch2=nn.MaxPool2d(3, 2),
    )


def block17(conv: ConvFactory, act_layer: ActSpec, scale: float = 0.10) -> ResidualBranches:
    """Inception-ResNet-B (17x17, 1088 channels), 7x7 factorised into 1x7 and 7x1."""
    return ResidualBranches(
        1088, scale, act_layer,
        branch0=conv(1088, 192, 1),
        branch1=nn.Sequential(conv(1088, 128, 1), conv(128, 160, (1, 7), 1, (0, 3)),
                              conv(160, 192, (7, 1), 1, (3, 0))),
    )


def mixed_7a(conv: ConvFactory) -> Branches:
    """Reduction-B (17 -> 8, 1088 -> 2080)."""
    return Branches(
        branch0=nn.Sequential(conv(1088, 256, 1), conv(256, 384, 3, 2)),
        branch1=nn.Sequential(conv(1088, 256, 1), conv(256, 288, 3, 2)),
        branch2=nn.Sequential(conv(1088, 256, 1), conv(256, 288, 3, 1, 1), conv(288, 320, 3, 2)),
        branch3=nn.MaxPool2d(3, 2),
    )


def block8(conv: ConvFactory, act_layer: ActSpec | None, scale: float = 0.20) -> ResidualBranches:
    """Inception-ResNet-C (8x8, 2080 channels), 3x3 factorised into 1x3 and 3x1."""
    return ResidualBranches(
        2080, scale, act_layer,
        branch0=conv(2080, 192, 1),
        branch1=nn.Sequential(conv(2080, 192, 1), conv(192, 224, (1, 3), 1, (0, 1)),
                              conv(224, 256, (3, 1), 1, (1, 0))),
    )
