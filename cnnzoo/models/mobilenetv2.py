"""MobileNetV2 (Sandler et al. 2018) at ImageNet and CIFAR size, and ``build_mbconv_net``, the builder that
EfficientNet shares: a stage table of MBConv rows, scaled in width and depth, on the ZooModel skeleton.

Layout: ``stem`` (3x3 conv, stride 2) -> ``stages.0..6`` (one per table row) -> ``final`` (1x1 conv to the
head width) -> ``head``. Channel counts are rounded to multiples of 8 exactly as timm's ``mobilenetv2_*`` and
torchvision's ``mobilenet_v2`` round them, so their ImageNet weights load.

CIFAR variants are named ``mobilenetv2_{050,075,100,140}_cifar``: the ImageNet layout with the stem conv and
the first stride-2 stage at stride 1, so a 32x32 input ends at 4x4 instead of 1x1. That is the layout of the
common CIFAR port (chenyaofo/pytorch-cifar-models ``cifar10_mobilenetv2_x*``), whose parameter counts they
reproduce.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Sequence

from torch import nn

from ..registry import register_model
from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct
from ..layers.drop import drop_path_rates
from ..layers.helpers import make_divisible
from ..layers.mbconv import DepthwiseSeparable, MBConv
from ._init import init_weights
from ._skeleton import ZooModel


@dataclass(frozen=True)
class StageSpec:
    """One row of an MBConv stage table: ``repeats`` blocks, the first of which carries ``stride``."""

    repeats: int
    kernel_size: int
    stride: int
    exp_ratio: float
    out_chs: int
    se_ratio: float = 0.0


MOBILENETV2_STAGES = (
    StageSpec(1, 3, 1, 1, 16),
    StageSpec(2, 3, 2, 6, 24),
    StageSpec(3, 3, 2, 6, 32),
    StageSpec(4, 3, 2, 6, 64),
    StageSpec(3, 3, 1, 6, 96),
    StageSpec(3, 3, 2, 6, 160),
    StageSpec(1, 3, 1, 6, 320),
)


def round_channels(channels: float, width: float = 1.0) -> int:
    """Width-multiplied channels, to a multiple of 8 (never more than 10% below the exact product)."""
    return make_divisible(channels * width, 8)


def scale_stages(stages: Sequence[StageSpec], width: float = 1.0, depth: float = 1.0) -> list[StageSpec]:
    """Multiply every row's channels by ``width`` (rounded to multiples of 8) and repeats by ``depth`` (ceil)."""
    return [replace(s, out_chs=round_channels(s.out_chs, width), repeats=math.ceil(s.repeats * depth))
            for s in stages]


def cifar_stages(stages: Sequence[StageSpec]) -> list[StageSpec]:
    """The same table with its first stride-2 row at stride 1 (one fewer halving, for 32x32 inputs)."""
    out = list(stages)
    first = next(i for i, s in enumerate(out) if s.stride == 2)
    out[first] = replace(out[first], stride=1)
    return out


def bn_layer(eps: float = 1e-5, momentum: float = 0.1) -> type[nn.Module]:
    if eps == 1e-5 and momentum == 0.1:
        return nn.BatchNorm2d
    return functools.partial(nn.BatchNorm2d, eps=eps, momentum=momentum)


def build_mbconv_net(
    stages: Sequence[StageSpec],
    *,
    stem_width: int,
    head_width: int,
    stem_stride: int = 2,
    act_layer: ActSpec = "relu6",
    bn_eps: float = 1e-5,
    bn_momentum: float = 0.1,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
) -> ZooModel:
    """Assemble an MBConv network from an already scaled stage table.

    Rows with ``exp_ratio == 1`` are DepthwiseSeparable blocks, the others MBConv. ``drop_path_rate`` rises
    linearly over all blocks (the last block gets the full rate).
    """
    norm_layer = bn_layer(bn_eps, bn_momentum)
    stem = ConvNormAct(in_chans, stem_width, 3, stem_stride, act_layer=act_layer, norm_layer=norm_layer)
    in_chs, reduction = stem_width, stem_stride
    dprs = drop_path_rates(drop_path_rate, [s.repeats for s in stages])
    built, info = [], []
    for spec, rates in zip(stages, dprs):
        blocks = []
        for i in range(spec.repeats):
            common = dict(kernel_size=spec.kernel_size, stride=spec.stride if i == 0 else 1,
                          se_ratio=spec.se_ratio, act_layer=act_layer, norm_layer=norm_layer, drop_path=rates[i])
            if spec.exp_ratio == 1:
                blocks.append(DepthwiseSeparable(in_chs, spec.out_chs, **common))
            else:
                blocks.append(MBConv(in_chs, spec.out_chs, exp_ratio=spec.exp_ratio, **common))
            in_chs = spec.out_chs
        reduction *= spec.stride
        built.append(nn.Sequential(*blocks))
        info.append(dict(num_chs=in_chs, reduction=reduction))
    final = ConvNormAct(in_chs, head_width, 1, act_layer=act_layer, norm_layer=norm_layer)
    model = ZooModel(stem, built, info, head_width, num_classes, in_chans, drop_rate, final)
    init_weights(model)
    return model


def mobilenetv2(width: float = 1.0, cifar: bool = False, act_layer: ActSpec = "relu6", **kwargs) -> ZooModel:
    """MobileNetV2 with width multiplier ``width``. The head conv widens with ``width`` above 1 but never
    narrows below 1280 (timm and torchvision agree)."""
    stages = scale_stages(MOBILENETV2_STAGES, width)
    if cifar:
        stages = cifar_stages(stages)
    return build_mbconv_net(stages, stem_width=round_channels(32, width),
                            head_width=round_channels(1280, max(1.0, width)), stem_stride=1 if cifar else 2,
                            act_layer=act_layer, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# Registration: one ImageNet and one CIFAR model per width multiplier
# --------------------------------------------------------------------------------------------------------------
# ImageNet: (params in M, source, top-1). The x1.0 count is torchvision's / timm's published 3.50M; the other
# widths carry the counts of timm's definitions of the same names.
IMAGENET = {
    "050": (0.5, 1.97, "timm mobilenetv2_050 (Sandler et al. 2018)", None),
    "075": (0.75, 2.64, "timm mobilenetv2_075 (Sandler et al. 2018)", None),
    "100": (1.0, 3.50, "torchvision mobilenet_v2 (Sandler et al. 2018)", 71.878),
    "140": (1.4, 6.11, "timm mobilenetv2_140 (Sandler et al. 2018)", None),
}
# CIFAR-10 figures of chenyaofo/pytorch-cifar-models (params in M, top-1).
CIFAR = {"050": (0.5, 0.70, 92.88), "075": (0.75, 1.37, 93.72), "100": (1.0, 2.24, 93.79), "140": (1.4, 4.33, 94.22)}
CIFAR_SOURCE = "chenyaofo/pytorch-cifar-models cifar10_mobilenetv2"


def _register() -> None:
    for suffix, (width, params_m, source, top1) in IMAGENET.items():
        def imagenet(width=width, **kwargs):
            return mobilenetv2(width, **kwargs)

        imagenet.__name__ = f"mobilenetv2_{suffix}"
        imagenet.__doc__ = f"MobileNetV2 x{width} (Sandler et al. 2018), channel rounding of timm/torchvision."
        reference = dict(params_m=params_m, source=source)
        if top1 is not None:
            reference["top1_in1k"] = top1
        register_model(imagenet, family="mobilenetv2", reference=reference)
    for suffix, (width, params_m, top1) in CIFAR.items():
        def cifar(width=width, **kwargs):
            return mobilenetv2(width, cifar=True, **kwargs)

        cifar.__name__ = f"mobilenetv2_{suffix}_cifar"
        cifar.__doc__ = (f"MobileNetV2 x{width} for CIFAR: stem and the 24-channel stage at stride 1 "
                         f"(32x32 -> 4x4), the layout of {CIFAR_SOURCE}_x{width}.")
        register_model(cifar, family="mobilenetv2", size="cifar",
                       reference=dict(params_m=params_m, source=f"{CIFAR_SOURCE}_x{width}",
                                      public_top1_cifar10=top1))  # a public weight, not a paper


_register()
