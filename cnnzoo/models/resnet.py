"""ResNet family: ResNet, Wide ResNet, ResNeXt, SE-ResNet(X), SENet-154 and Res2Net at ImageNet size; ResNet,
pre-activation ResNet, SE-ResNet, WRN and ResNeXt-29 at CIFAR size.

Every network is ``build_resnet`` with a block type, a stage table and a stem; the registered functions below
only choose those.
"""
from __future__ import annotations

import functools
from typing import Sequence

from torch import nn

from ..registry import reference as _ref, register_model
from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct, NormAct
from ..layers.drop import drop_path_rates
from ..layers.residual import (BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck, Res2Bottleneck,
                               ZeroPadShortcut, projection_shortcut)
from ..layers.squeeze_excite import SqueezeExcite
from ._init import init_weights
from ._skeleton import ZooModel

# SE as timm's ResNet-based SE nets use it (reduced width rounded to a multiple of 8) and as the original
# SENet / CIFAR SE-ResNets do (plain channels // 16).
se_divisible = functools.partial(SqueezeExcite, rd_ratio=1 / 16, rd_divisor=8)
se_plain = functools.partial(SqueezeExcite, rd_ratio=1 / 16, rd_divisor=1)


def _make_stem(stem_type: str, in_chans: int, width: int, act_layer: ActSpec) -> tuple[nn.Module, int, int]:
    """Returns (stem, out channels, reduction)."""
    if stem_type in ("default", "legacy"):
        stem = nn.Sequential()
        stem.add_module("conv", ConvNormAct(in_chans, width, 7, 2, act_layer=act_layer))
        # The original SENet code pools without padding and rounds up; the sizes match, the windows don't.
        pool = nn.MaxPool2d(3, 2, ceil_mode=True) if stem_type == "legacy" else nn.MaxPool2d(3, 2, 1)
        stem.add_module("pool", pool)
        return stem, width, 4
    if stem_type == "deep":  # three 3x3 convs (SENet-154, ResNet-C)
        stem = nn.Sequential()
        stem.add_module("conv1", ConvNormAct(in_chans, width, 3, 2, act_layer=act_layer))
        stem.add_module("conv2", ConvNormAct(width, width, 3, act_layer=act_layer))
        stem.add_module("conv3", ConvNormAct(width, width * 2, 3, act_layer=act_layer))
        stem.add_module("pool", nn.MaxPool2d(3, 2, 1))
        return stem, width * 2, 4
    if stem_type == "cifar":  # one 3x3 conv at full resolution
        return ConvNormAct(in_chans, width, 3, act_layer=act_layer), width, 1
    if stem_type == "cifar_preact":  # the first block's BN-act follows, so the stem is a bare conv
        return nn.Conv2d(in_chans, width, 3, 1, 1, bias=False), width, 1
    raise ValueError(f"unknown stem_type {stem_type!r}")


def build_resnet(
    block: type[nn.Module],
    depths: Sequence[int],
    widths: Sequence[int] = (64, 128, 256, 512),
    strides: Sequence[int] | None = None,
    *,
    stem_type: str = "default",
    stem_width: int = 64,
    shortcut: str = "B",
    down_kernel_size: int = 1,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    act_layer: ActSpec = "relu",
    zero_init_last: bool = True,
    **block_kwargs,
) -> ZooModel:
    """Assemble a residual network.

    ``widths`` are the per-stage ``planes`` (a block outputs ``planes * block.expansion`` channels).
    ``shortcut`` "A" is the parameter-free zero-padding shortcut of He et al. 2015's CIFAR nets; "B" a strided
    1x1 (or ``down_kernel_size``) conv + BN wherever the shape changes. ``zero_init_last`` starts every
    post-activation block as the identity (its last BN scale is zero), which keeps even ResNet-1202 finite at
    initialisation and helps early training.
    """
    strides = strides or [1] + [2] * (len(depths) - 1)
    preact = block in (PreActBasicBlock, PreActBottleneck)
    stem, in_chs, reduction = _make_stem(stem_type, in_chans, stem_width, act_layer)
    dprs = drop_path_rates(drop_path_rate, list(depths))
    stages, info = [], []
    for depth, planes, stride, rates in zip(depths, widths, strides, dprs):
        out_chs = planes * block.expansion
        blocks = []
        for i in range(depth):
            s = stride if i == 0 else 1
            downsample = None
            if s != 1 or in_chs != out_chs:
                if shortcut == "A":
                    downsample = ZeroPadShortcut(in_chs, out_chs, s)
                else:
                    k = down_kernel_size if s != 1 else 1
                    downsample = projection_shortcut(in_chs, out_chs, s, k, preact=preact)
            blocks.append(block(in_chs, planes, s, downsample, act_layer=act_layer, drop_path=rates[i],
                                **block_kwargs))
            in_chs = out_chs
        reduction *= stride
        stages.append(nn.Sequential(*blocks))
        info.append(dict(num_chs=out_chs, reduction=reduction))
    final = NormAct(in_chs, act_layer) if preact else None
    # a pre-activation net's closing BN-act finishes its last map (as DenseNet's norm5 does)
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans, drop_rate, final, final_is_feature=preact)
    init_weights(model, zero_init_last)
    return model


# --------------------------------------------------------------------------------------------------------------
# ImageNet size
# --------------------------------------------------------------------------------------------------------------
TV = "torchvision (He et al. 2016)"



@register_model(family="resnet", reference=_ref(source="cnnzoo: ResNet-18 with one block per stage"))
def resnet10(**kwargs):
    """ResNet-10: ResNet-18's layout with one basic block per stage (5.4M parameters, 4.9M with 10 classes), a small
    ImageNet-size backbone whose fp32 weights fit the project's weight budget."""
    return build_resnet(BasicBlock, [1, 1, 1, 1], **kwargs)


@register_model(family="resnet", reference=_ref(11.69, TV, top1_in1k=69.758))
def resnet18(**kwargs):
    """ResNet-18 (He et al. 2016)."""
    return build_resnet(BasicBlock, [2, 2, 2, 2], **kwargs)


@register_model(family="resnet", reference=_ref(21.80, TV, top1_in1k=73.314))
def resnet34(**kwargs):
    """ResNet-34 (He et al. 2016)."""
    return build_resnet(BasicBlock, [3, 4, 6, 3], **kwargs)


@register_model(family="resnet", reference=_ref(25.56, TV, top1_in1k=76.130))
def resnet50(**kwargs):
    """ResNet-50 (He et al. 2016), stride on the 3x3 conv ("v1.5")."""
    return build_resnet(Bottleneck, [3, 4, 6, 3], **kwargs)


@register_model(family="resnet", reference=_ref(44.55, TV, top1_in1k=77.374))
def resnet101(**kwargs):
    """ResNet-101 (He et al. 2016)."""
    return build_resnet(Bottleneck, [3, 4, 23, 3], **kwargs)


@register_model(family="resnet", reference=_ref(60.19, TV, top1_in1k=78.312))
def resnet152(**kwargs):
    """ResNet-152 (He et al. 2016)."""
    return build_resnet(Bottleneck, [3, 8, 36, 3], **kwargs)


@register_model(family="resnet", reference=_ref(68.88, "torchvision (Zagoruyko & Komodakis 2016)", top1_in1k=78.468))
def wide_resnet50_2(**kwargs):
    """Wide ResNet-50-2: ResNet-50 with twice as wide 3x3 convs."""
    return build_resnet(Bottleneck, [3, 4, 6, 3], base_width=128, **kwargs)


@register_model(family="resnet", reference=_ref(126.89, "torchvision (Zagoruyko & Komodakis 2016)", top1_in1k=78.848))
def wide_resnet101_2(**kwargs):
    """Wide ResNet-101-2."""
    return build_resnet(Bottleneck, [3, 4, 23, 3], base_width=128, **kwargs)


@register_model(family="resnext", reference=_ref(25.03, "torchvision (Xie et al. 2017)", top1_in1k=77.618))
def resnext50_32x4d(**kwargs):
    """ResNeXt-50 32x4d (Xie et al. 2017): grouped 3x3 bottleneck, cardinality 32, width 4."""
    return build_resnet(Bottleneck, [3, 4, 6, 3], groups=32, base_width=4, **kwargs)


@register_model(family="resnext", reference=_ref(44.18, "timm (Xie et al. 2017)"))
def resnext101_32x4d(**kwargs):
    """ResNeXt-101 32x4d."""
    return build_resnet(Bottleneck, [3, 4, 23, 3], groups=32, base_width=4, **kwargs)


@register_model(family="resnext", reference=_ref(88.79, "torchvision (Xie et al. 2017)", top1_in1k=79.312))
def resnext101_32x8d(**kwargs):
    """ResNeXt-101 32x8d."""
    return build_resnet(Bottleneck, [3, 4, 23, 3], groups=32, base_width=8, **kwargs)


@register_model(family="resnext", reference=_ref(83.46, "torchvision (Xie et al. 2017)"))
def resnext101_64x4d(**kwargs):
    """ResNeXt-101 64x4d."""
    return build_resnet(Bottleneck, [3, 4, 23, 3], groups=64, base_width=4, **kwargs)


def _seresnet(block, depths, **kwargs):
    return build_resnet(block, depths, attn_layer=se_divisible, **kwargs)


@register_model(family="senet", reference=_ref(11.78, "timm (Hu et al. 2018)"))
def seresnet18(**kwargs):
    """SE-ResNet-18 (Hu et al. 2018), SE width rounded to a multiple of 8 as in timm."""
    return _seresnet(BasicBlock, [2, 2, 2, 2], **kwargs)


@register_model(family="senet", reference=_ref(21.96, "timm (Hu et al. 2018)"))
def seresnet34(**kwargs):
    """SE-ResNet-34 (Hu et al. 2018)."""
    return _seresnet(BasicBlock, [3, 4, 6, 3], **kwargs)


@register_model(family="senet", reference=_ref(28.09, "Hu et al. 2018 / timm"))
def seresnet50(**kwargs):
    """SE-ResNet-50 (Hu et al. 2018)."""
    return _seresnet(Bottleneck, [3, 4, 6, 3], **kwargs)


@register_model(family="senet", reference=_ref(49.33, "Hu et al. 2018 / timm"))
def seresnet101(**kwargs):
    """SE-ResNet-101 (Hu et al. 2018)."""
    return _seresnet(Bottleneck, [3, 4, 23, 3], **kwargs)


@register_model(family="senet", reference=_ref(66.82, "Hu et al. 2018 / timm"))
def seresnet152(**kwargs):
    """SE-ResNet-152 (Hu et al. 2018)."""
    return _seresnet(Bottleneck, [3, 8, 36, 3], **kwargs)


@register_model(family="senet", reference=_ref(16.79, "timm legacy_seresnext26_32x4d"))
def seresnext26_32x4d(**kwargs):
    """SE-ResNeXt-26 32x4d in the layout of the original SENet code (timm ``legacy_seresnext26_32x4d``):
    SE width channels // 16 and a stem max-pool without padding that rounds up."""
    return build_resnet(Bottleneck, [2, 2, 2, 2], groups=32, base_width=4, stem_type="legacy",
                        attn_layer=se_plain, **kwargs)


@register_model(family="senet", reference=_ref(27.56, "Hu et al. 2018 / timm"))
def seresnext50_32x4d(**kwargs):
    """SE-ResNeXt-50 32x4d (Hu et al. 2018)."""
    return _seresnet(Bottleneck, [3, 4, 6, 3], groups=32, base_width=4, **kwargs)


@register_model(family="senet", reference=_ref(48.96, "Hu et al. 2018 / timm"))
def seresnext101_32x4d(**kwargs):
    """SE-ResNeXt-101 32x4d (Hu et al. 2018)."""
    return _seresnet(Bottleneck, [3, 4, 23, 3], groups=32, base_width=4, **kwargs)


@register_model(family="senet", reference=_ref(115.09, "Hu et al. 2018 / timm"))
def senet154(**kwargs):
    """SENet-154 (Hu et al. 2018): 64x4d SE-ResNeXt-152 with a deep 3x3 stem, a halved first 1x1 in each block
    and 3x3 strided projection shortcuts."""
    return _seresnet(Bottleneck, [3, 8, 36, 3], groups=64, base_width=4, reduce_first=2, stem_type="deep",
                     down_kernel_size=3, **kwargs)


@register_model(family="res2net", reference=_ref(25.70, "Gao et al. 2019 / timm"))
def res2net50_26w_4s(**kwargs):
    """Res2Net-50 26w x 4s (Gao et al. 2019): hierarchical multi-scale 3x3 inside the bottleneck."""
    return build_resnet(Res2Bottleneck, [3, 4, 6, 3], base_width=26, scale=4, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# CIFAR size: 3x3 stem, no max-pool, three stages (32 -> 16 -> 8)
# --------------------------------------------------------------------------------------------------------------
CIFAR_WIDTHS = (16, 32, 64)
HE2015 = "He et al. 2015"


def _cifar_resnet(depth: int, attn_layer=None, **kwargs) -> ZooModel:
    """He et al. 2015's 6n+2 CIFAR ResNet with the paper's option-A (zero-padding) shortcuts.

    The last BN of a block starts at the usual scale 1 here, not at zero (the ImageNet-size default): trained
    side by side for 15 epochs, zero-init cost ResNet-20 2.5 points of CIFAR-10 test top-1 (81.64 vs 84.16,
    docs/training.md, "Why ResNet-20 learned slowly"). ResNet-1202 keeps zero-init: without it an untrained
    600-block stream overflows to NaN in eval mode (BN is the identity there before any statistics).
    """
    kwargs.setdefault("zero_init_last", depth > 200)
    n = (depth - 2) // 6
    return build_resnet(BasicBlock, [n] * 3, CIFAR_WIDTHS, stem_type="cifar", stem_width=16, shortcut="A",
                        attn_layer=attn_layer, **kwargs)


def _register_cifar_resnets() -> None:
    published = {20: (0.27, 91.25), 32: (0.46, 92.49), 44: (0.66, 92.83), 56: (0.85, 93.03),
                 110: (1.7, 93.57), 1202: (19.4, 92.07)}
    for depth, (params_m, top1) in published.items():
        def plain(depth=depth, **kwargs):
            return _cifar_resnet(depth, **kwargs)

        plain.__name__ = f"resnet{depth}"
        plain.__doc__ = f"ResNet-{depth} for CIFAR ({HE2015}): 3 stages of {(depth - 2) // 6} basic blocks, " \
                        f"16/32/64 channels, option-A zero-padding shortcuts."
        register_model(plain, family="resnet", size="cifar",
                       reference=_ref(params_m, HE2015, top1_cifar10=top1))
    for depth in (20, 56, 110):
        def se(depth=depth, **kwargs):
            return _cifar_resnet(depth, attn_layer=se_plain, **kwargs)

        se.__name__ = f"se_resnet{depth}"
        se.__doc__ = f"SE-ResNet-{depth} for CIFAR: resnet{depth} with squeeze-and-excitation (reduction 16) " \
                     f"after the second conv of every block."
        register_model(se, family="senet", size="cifar")


_register_cifar_resnets()


def _preact_cifar(block, depth: int, **kwargs) -> ZooModel:
    per_stage = (depth - 2) // (9 if block is PreActBottleneck else 6)
    return build_resnet(block, [per_stage] * 3, CIFAR_WIDTHS, stem_type="cifar_preact", stem_width=16, **kwargs)


@register_model(family="preact_resnet", size="cifar")
def preact_resnet20(**kwargs):
    """Pre-activation ResNet-20 for CIFAR (He et al. 2016b), 1x1 projection shortcuts."""
    return _preact_cifar(PreActBasicBlock, 20, **kwargs)


@register_model(family="preact_resnet", size="cifar")
def preact_resnet56(**kwargs):
    """Pre-activation ResNet-56 for CIFAR (He et al. 2016b)."""
    return _preact_cifar(PreActBasicBlock, 56, **kwargs)


@register_model(family="preact_resnet", size="cifar", reference=_ref(1.7, "He et al. 2016b", top1_cifar10=93.63))
def preact_resnet110(**kwargs):
    """Pre-activation ResNet-110 for CIFAR (He et al. 2016b)."""
    return _preact_cifar(PreActBasicBlock, 110, **kwargs)


@register_model(family="preact_resnet", size="cifar", reference=_ref(1.7, "He et al. 2016b", top1_cifar10=94.54))
def preact_resnet164(**kwargs):
    """Pre-activation ResNet-164 for CIFAR (He et al. 2016b): bottleneck blocks, 64/128/256 output channels."""
    return _preact_cifar(PreActBottleneck, 164, **kwargs)


def _wrn(depth: int, k: int, block_drop_rate: float = 0.0, **kwargs) -> ZooModel:
    """WRN-depth-k (Zagoruyko & Komodakis 2016): pre-activation basic blocks, widths 16k/32k/64k, 1x1
    projection shortcuts; ``block_drop_rate`` is the paper's dropout between the two convs."""
    n = (depth - 4) // 6
    return build_resnet(PreActBasicBlock, [n] * 3, (16 * k, 32 * k, 64 * k), stem_type="cifar_preact",
                        stem_width=16, block_drop_rate=block_drop_rate, **kwargs)


@register_model(family="wide_resnet", size="cifar", reference=_ref(11.0, "Zagoruyko & Komodakis 2016", top1_cifar10=95.19))
def wrn16_8(**kwargs):
    """WRN-16-8 for CIFAR (Zagoruyko & Komodakis 2016)."""
    return _wrn(16, 8, **kwargs)


@register_model(family="wide_resnet", size="cifar", reference=_ref(36.5, "Zagoruyko & Komodakis 2016", top1_cifar10=96.00))
def wrn28_10(**kwargs):
    """WRN-28-10 for CIFAR (Zagoruyko & Komodakis 2016)."""
    return _wrn(28, 10, **kwargs)


def _resnext29(cardinality: int, width: int, attn_layer=None, base_planes: int = 64, **kwargs) -> ZooModel:
    """ResNeXt-29 (Xie et al. 2017) for CIFAR: 3x3 stem, 3 stages of 3 grouped bottlenecks, block outputs
    4 x base_planes x 2^stage (256/512/1024 in the paper), bottleneck width cardinality x width x 2^stage,
    1x1 projection shortcuts."""
    planes = (base_planes, base_planes * 2, base_planes * 4)
    return build_resnet(Bottleneck, [3, 3, 3], planes, stem_type="cifar", stem_width=base_planes,
                        groups=cardinality, base_width=width * 64 // base_planes, attn_layer=attn_layer, **kwargs)


@register_model(family="resnext", size="cifar", reference=_ref(34.4, "Xie et al. 2017", top1_cifar10=96.35))
def resnext29_8x64d(**kwargs):
    """ResNeXt-29 8x64d for CIFAR (Xie et al. 2017)."""
    return _resnext29(8, 64, **kwargs)


@register_model(family="resnext", size="cifar", reference=_ref(68.1, "Xie et al. 2017", top1_cifar10=96.42))
def resnext29_16x64d(**kwargs):
    """ResNeXt-29 16x64d for CIFAR (Xie et al. 2017)."""
    return _resnext29(16, 64, **kwargs)


@register_model(family="resnext", size="cifar", reference=_ref(4.78, "pytorchcv (Xie et al. 2017 shape)"))
def resnext29_32x4d(**kwargs):
    """ResNeXt-29 32x4d for CIFAR (the shape of Xie et al. 2017 with 4-channel groups)."""
    return _resnext29(32, 4, **kwargs)


@register_model(family="resnext", size="cifar")
def resnext29_8x4d_w128(**kwargs):
    """ResNeXt-29 8x4d at half width (block outputs 128/256/512, 32-channel stem): 0.73M parameters and
    0.113 GMACs, below ResNet-56's 0.126, so it can be trained on a CPU. No paper reports this shape."""
    return _resnext29(8, 4, base_planes=32, **kwargs)


@register_model(family="senet", size="cifar")
def se_resnext29_8x64d(**kwargs):
    """SE-ResNeXt-29 8x64d for CIFAR: resnext29_8x64d with SE (reduction 16) in every block."""
    return _resnext29(8, 64, attn_layer=se_plain, **kwargs)
