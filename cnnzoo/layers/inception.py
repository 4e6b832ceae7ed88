"""Inception modules: parallel branches whose outputs are concatenated along the channels.

``Branches`` is the one mechanism; the functions below only choose the branches of GoogLeNet's module
(Szegedy et al. 2015, as torchvision defines it) and of the five modules of Inception v3 (Szegedy et al. 2016,
"Rethinking the Inception Architecture": figures 5, 6 and 7 and the two grid reductions). Branch names are
torchvision's (``branch1x1``, ``branch5x5``, ``branch_pool``, ...), a branch of several convs is a Sequential.

``conv`` is a factory ``conv(in_chs, out_chs, kernel_size, stride=1, padding=0)`` returning conv -> BN -> act,
so the network chooses the activation and the BatchNorm epsilon once.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

ConvFactory = Callable[..., nn.Module]


class Branches(nn.Module):
    """Runs every branch on the same input and concatenates the outputs (in the order given)."""

    def __init__(self, **branches: nn.Module):
        super().__init__()
        self.branch_names = list(branches)
        for name, branch in branches.items():
            self.add_module(name, branch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._modules[name](x) for name in self.branch_names], 1)


def inception_v1(in_chs: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int,
                 conv: ConvFactory, wide_kernel: int = 3) -> Branches:
    """GoogLeNet's module: 1x1 | 1x1 -> 3x3 | 1x1 -> "5x5" | 3x3 max-pool -> 1x1.

    ``wide_kernel`` is 3, not the paper's 5: torchvision's GoogLeNet (and the weights ported into it) use a 3x3
    there (pytorch/vision#906), and its 6.62M parameters count it so.
    """
    return Branches(
        branch1=conv(in_chs, ch1x1, 1),
        branch2=nn.Sequential(conv(in_chs, ch3x3red, 1), conv(ch3x3red, ch3x3, 3, padding=1)),
        branch3=nn.Sequential(conv(in_chs, ch5x5red, 1),
                              conv(ch5x5red, ch5x5, wide_kernel, padding=wide_kernel // 2)),
        branch4=nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv(in_chs, pool_proj, 1)),
    )


def _pool_branch(in_chs: int, out_chs: int, conv: ConvFactory) -> nn.Module:
    # count_include_pad=True, as torchvision's F.avg_pool2d default that the ported weights were used with
    return nn.Sequential(nn.AvgPool2d(3, 1, 1), conv(in_chs, out_chs, 1))


def _chain(conv: ConvFactory, *specs) -> nn.Sequential:
    """Convs in sequence; each spec is (in, out, kernel[, stride[, padding]])."""
    return nn.Sequential(*[conv(*spec) for spec in specs])


def _split(conv: ConvFactory, chs: int) -> Branches:
    """1x3 and 3x1 side by side on the same map (figure 7's expanded filter bank)."""
    return Branches(a=conv(chs, chs, (1, 3), 1, (0, 1)), b=conv(chs, chs, (3, 1), 1, (1, 0)))


def inception_a(in_chs: int, pool_chs: int, conv: ConvFactory) -> Branches:
    """Figure 5 (35x35 grid): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg-pool -> 1x1."""
    return Branches(
        branch1x1=conv(in_chs, 64, 1),
        branch5x5=_chain(conv, (in_chs, 48, 1), (48, 64, 5, 1, 2)),
        branch3x3dbl=_chain(conv, (in_chs, 64, 1), (64, 96, 3, 1, 1), (96, 96, 3, 1, 1)),
        branch_pool=_pool_branch(in_chs, pool_chs, conv),
    )


def inception_b(in_chs: int, conv: ConvFactory) -> Branches:
    """Grid reduction 35 -> 17: strided 3x3 | 1x1 -> 3x3 -> strided 3x3 | strided max-pool."""
    return Branches(
        branch3x3=conv(in_chs, 384, 3, 2),
        branch3x3dbl=_chain(conv, (in_chs, 64, 1), (64, 96, 3, 1, 1), (96, 96, 3, 2)),
        branch_pool=nn.MaxPool2d(3, 2),
    )


def inception_c(in_chs: int, c7: int, conv: ConvFactory) -> Branches:
    """Figure 6 (17x17 grid): the 7x7 factorised into 1x7 and 7x1 convs."""
    return Branches(
        branch1x1=conv(in_chs, 192, 1),
        branch7x7=_chain(conv, (in_chs, c7, 1), (c7, c7, (1, 7), 1, (0, 3)), (c7, 192, (7, 1), 1, (3, 0))),
        branch7x7dbl=_chain(conv, (in_chs, c7, 1), (c7, c7, (7, 1), 1, (3, 0)), (c7, c7, (1, 7), 1, (0, 3)),
                            (c7, c7, (7, 1), 1, (3, 0)), (c7, 192, (1, 7), 1, (0, 3))),
        branch_pool=_pool_branch(in_chs, 192, conv),
    )


def inception_d(in_chs: int, conv: ConvFactory) -> Branches:
    """Grid reduction 17 -> 8: 1x1 -> strided 3x3 | 1x1 -> 1x7 -> 7x1 -> strided 3x3 | strided max-pool."""
    return Branches(
        branch3x3=_chain(conv, (in_chs, 192, 1), (192, 320, 3, 2)),
        branch7x7x3=_chain(conv, (in_chs, 192, 1), (192, 192, (1, 7), 1, (0, 3)), (192, 192, (7, 1), 1, (3, 0)),
                           (192, 192, 3, 2)),
        branch_pool=nn.MaxPool2d(3, 2),
    )


def inception_e(in_chs: int, conv: ConvFactory) -> Branches:
    """Figure 7 (8x8 grid): the 3x3s end in parallel 1x3 / 3x1 pairs, widening the output to 2048."""
    return Branches(
        branch1x1=conv(in_chs, 320, 1),
        branch3x3=nn.Sequential(conv(in_chs, 384, 1), _split(conv, 384)),
        branch3x3dbl=nn.Sequential(conv(in_chs, 448, 1), conv(448, 384, 3, 1, 1), _split(conv, 384)),
        branch_pool=_pool_branch(in_chs, 192, conv),
    )
