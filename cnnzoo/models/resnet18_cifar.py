"""The 18-layer CIFAR ResNets of kuangliu/pytorch-cifar, the layout most CIFAR experiments (and the activation
study's "SE Net-18") use: a 3x3 stem at full resolution, four stages of two pre-activation basic blocks
(64/128/256/512 channels, 32 -> 4 px), 1x1 projection shortcuts on the pre-activated input.

- ``preact_resnet18_cifar`` (``PreActResNet18``): a bare conv stem, and no closing BN-ReLU after the last block
  (the reference omits it; 11,171,146 parameters with 10 classes).
- ``senet18_cifar`` (``SENet18``): conv-BN-ReLU stem, squeeze-and-excitation (channels // 16, biased 1x1
  convs) on every block's residual branch (11,260,354 parameters).
"""
from __future__ import annotations

import functools

from torch import nn

from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct
from ..layers.drop import drop_path_rates
from ..layers.residual import PreActBasicBlock, projection_shortcut
from ..layers.squeeze_excite import SqueezeExcite
from ..registry import reference as _ref
from ..registry import register_model
from ._init import init_weights
from ._skeleton import ZooModel

WIDTHS = (64, 128, 256, 512)
KUANGLIU = "kuangliu/pytorch-cifar"


def build_resnet18_cifar(se: bool, num_classes: int = 10, in_chans: int = 3, drop_rate: float = 0.0,
                         drop_path_rate: float = 0.0, act_layer: ActSpec = "relu", width: float = 1.0) -> ZooModel:
    """``width`` scales every stage's channels (64-128-256-512 at 1.0), for the narrower named variants."""
    widths = [int(round(w * width)) for w in WIDTHS]
    if se:
        stem = ConvNormAct(in_chans, widths[0], 3, act_layer=act_layer)
        attn = functools.partial(SqueezeExcite, rd_ratio=1 / 16, rd_divisor=1)
    else:
        stem, attn = nn.Conv2d(in_chans, widths[0], 3, 1, 1, bias=False), None
    in_chs, reduction, stages, info = widths[0], 1, [], []
    for i, (planes, rates) in enumerate(zip(widths, drop_path_rates(drop_path_rate, [2] * 4))):
        stride = 1 if i == 0 else 2
        blocks = []
        for b in range(2):
            s = stride if b == 0 else 1
            down = projection_shortcut(in_chs, planes, s, preact=True) if s != 1 or in_chs != planes else None
            blocks.append(PreActBasicBlock(in_chs, planes, s, down, act_layer=act_layer, attn_layer=attn,
                                           drop_path=rates[b]))
            in_chs = planes
        reduction *= stride
        stages.append(nn.Sequential(*blocks))
        info.append(dict(num_chs=planes, reduction=reduction))
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans, drop_rate)
    init_weights(model)
    return model


@register_model(family="preact_resnet", size="cifar", reference=_ref(11.17, f"{KUANGLIU} PreActResNet18"))
def preact_resnet18_cifar(**kwargs):
    """Pre-activation ResNet-18 for CIFAR, kuangliu/pytorch-cifar's ``PreActResNet18`` (no closing BN-ReLU)."""
    return build_resnet18_cifar(se=False, **kwargs)


@register_model(family="senet", size="cifar", reference=_ref(11.26, f"{KUANGLIU} SENet18"))
def senet18_cifar(**kwargs):
    """SENet-18 for CIFAR, kuangliu/pytorch-cifar's ``SENet18``: pre-activation blocks with SE (reduction 16)."""
    return build_resnet18_cifar(se=True, **kwargs)


@register_model(family="senet", size="cifar")
def senet18_w050_cifar(**kwargs):
    """SENet-18 for CIFAR at half width (32-64-128-256 channels): the activation study's CPU-sized SENet-18."""
    return build_resnet18_cifar(se=True, width=0.5, **kwargs)


@register_model(family="senet", size="cifar")
def senet18_w025_cifar(**kwargs):
    """SENet-18 for CIFAR at quarter width (16-32-64-128 channels)."""
    return build_resnet18_cifar(se=True, width=0.25, **kwargs)
