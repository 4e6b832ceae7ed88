"""ResNetV2 of Big Transfer (BiT, Kolesnikov et al. 2020): a pre-activation ResNet whose norms are GroupNorm(32)
and whose convs are weight-standardised, as timm's ``resnetv2_50x1_bit`` defines it (its ImageNet-21k and
fine-tuned ImageNet-1k weights load).

Layout: ``stem`` (weight-standardised 7x7/2 conv, then BiT's "fixed SAME" max-pool: zero padding of 1, 3x3/2)
-> ``stages.0..3`` (pre-activation bottlenecks, 256..2048 channels at /4../32) -> ``final`` (GroupNorm-act)
-> head.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.activations import ActSpec
from ..layers.bit_bottleneck import BitBottleneck, GroupNormAct
from ..layers.drop import drop_path_rates
from ..layers.std_conv import StdConv2d
from ..registry import reference as _ref
from ..registry import register_model
from ._init import init_weights
from ._skeleton import ZooModel


class ZeroPadMaxPool2d(nn.MaxPool2d):
    """3x3/2 max-pool after a zero padding of 1 (BiT's approximation of TF "SAME"; the zeros can win where the
    un-normalised stem output is negative, as in the original)."""

    def __init__(self):
        super().__init__(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (1, 1, 1, 1)))


def build_resnetv2_bit(depths: Sequence[int], width_factor: int = 1, num_classes: int = 1000, in_chans: int = 3,
                       drop_rate: float = 0.0, drop_path_rate: float = 0.0, act_layer: ActSpec = "relu",
                       zero_init_last: bool = True) -> ZooModel:
    stem_width = 64 * width_factor
    stem = nn.Sequential(OrderedDict(conv=StdConv2d(in_chans, stem_width, 7, 2, eps=1e-8), pool=ZeroPadMaxPool2d()))
    in_chs, reduction, stages, info = stem_width, 4, [], []
    for i, (depth, rates) in enumerate(zip(depths, drop_path_rates(drop_path_rate, list(depths)))):
        out_chs, stride = 256 * width_factor * 2 ** i, 1 if i == 0 else 2
        blocks = []
        for b in range(depth):
            blocks.append(BitBottleneck(in_chs, out_chs, stride if b == 0 else 1, act_layer, rates[b]))
            in_chs = out_chs
        reduction *= stride
        stages.append(nn.Sequential(*blocks))
        info.append(dict(num_chs=out_chs, reduction=reduction))
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans, drop_rate,
                     final=GroupNormAct(in_chs, act_layer=act_layer))
    init_weights(model, zero_init_last)
    return model


@register_model(family="resnetv2", interpolation="bilinear",
                reference=_ref(25.55, "timm resnetv2_50x1_bit (Kolesnikov et al. 2020)"))
def resnetv2_50x1_bit(**kwargs):
    """BiT-M R50x1 (Kolesnikov et al. 2020): pre-activation ResNet-50, GroupNorm + weight standardisation."""
    return build_resnetv2_bit([3, 4, 6, 3], **kwargs)
