"""Dual Path Networks (Chen et al. 2017): DPN-68/68b/92/98/107/131 at ImageNet size, DPN-26/92 and a small DPN at
CIFAR size.

The ImageNet networks match timm's ``dpn.py`` (which loads the MXNet weights of the paper's authors, cypw/DPNs),
so ``cnnzoo.hub`` converts those weights one to one. Where timm differs from the MXNet original, cnnzoo follows
timm:

- the closing BN-act is BN-ReLU as in the MXNet symbol (``conv5_x_x__relu-sp``). timm's constructor names ELU
  for it (``fc_act_layer``), but its norm-act factory keeps the ReLU of the partial it is given, so the network
  timm builds (the one its MXNet weights are loaded into) ends in ReLU; cnnzoo builds that. ``final_act_layer=``
  chooses another.
- the classifier is a linear layer after global average pooling (timm: an equivalent 1x1 conv; the MXNet
  evaluation used 320 px inputs with mean-max pooling).
- BN epsilon is 1e-3, MXNet's default, throughout.
- the MXNet weights expect inputs normalised with mean (124, 117, 104) / 255 and std 1 / (0.0167 * 255); the
  data config of a converted weight carries them.

``dpn68b`` is ``dpn68`` in timm's "b" layout, whose last 1x1 is two convs (residual and dense outputs); one conv
with both outputs is the same function, so cnnzoo builds one and the converter concatenates the two kernels.

Every stage output is the plain ``[residual | dense]`` tensor (see :mod:`cnnzoo.layers.dual_path`).
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Sequence

from torch import nn

from ..registry import reference as _ref, register_model
from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct, NormAct
from ..layers.drop import drop_path_rates
from ..layers.dual_path import DualPathBlock
from ._init import init_weights
from ._skeleton import ZooModel

BatchNorm = functools.partial(nn.BatchNorm2d, eps=1e-3)


def build_dpn(
    depths: Sequence[int],
    incs: Sequence[int],
    residual_widths: Sequence[int],
    mid_widths: Sequence[int],
    groups: int,
    *,
    stem_width: int = 64,
    stem_kernel: int = 7,
    stem_type: str = "imagenet",
    strides: Sequence[int] | None = None,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    act_layer: ActSpec = "relu",
    final_act_layer: ActSpec = None,
) -> ZooModel:
    """Assemble a DPN.

    Per stage: ``depths`` blocks, dense increment ``incs``, residual path width ``residual_widths`` (``bw``),
    1x1/3x3 width ``mid_widths`` (``R``). ``stem_type`` "imagenet" is a ``stem_kernel`` conv-BN-act with stride 2
    and a 3x3/2 max-pool; "cifar" a 3x3 conv-BN-act at full resolution. ``final_act_layer`` (default: the
    network's activation) is the closing BN-act's.
    """
    strides = strides or [1] + [2] * (len(depths) - 1)
    if stem_type == "imagenet":
        stem = nn.Sequential(OrderedDict(
            conv=ConvNormAct(in_chans, stem_width, stem_kernel, 2, act_layer=act_layer, norm_layer=BatchNorm),
            pool=nn.MaxPool2d(3, 2, 1),
        ))
        reduction = 4
    elif stem_type == "cifar":
        stem = ConvNormAct(in_chans, stem_width, 3, 1, act_layer=act_layer, norm_layer=BatchNorm)
        reduction = 1
    else:
        raise ValueError(f"unknown stem_type {stem_type!r}")

    chs, stages, info = stem_width, [], []
    dprs = drop_path_rates(drop_path_rate, list(depths))
    for depth, inc, bw, mid, stride, rates in zip(depths, incs, residual_widths, mid_widths, strides, dprs):
        blocks = []
        for i in range(depth):
            block = DualPathBlock(chs, mid, bw, inc, groups, stride if i == 0 else 1, project=i == 0,
                                  act_layer=act_layer, norm_layer=BatchNorm, drop_path=rates[i])
            blocks.append(block)
            chs = block.out_chs
        reduction *= stride
        stages.append(nn.Sequential(*blocks))
        info.append(dict(num_chs=chs, reduction=reduction))
    final = NormAct(chs, final_act_layer or act_layer, norm_layer=BatchNorm, inplace=False)
    model = ZooModel(stem, stages, info, chs, num_classes, in_chans, drop_rate, final)
    init_weights(model)
    return model


def _imagenet_dpn(depths, incs, k_r: int, groups: int, stem_width: int, small: bool = False,
                  **kwargs) -> ZooModel:
    """The ImageNet DPN of the paper's tables: residual width ``bw_base * 4`` (``* 1`` for the small DPN-68),
    ``R = k_r * bw_base / 64`` with ``bw_base`` 64/128/256/512; DPN-68 has a 3x3 stem, the others 7x7."""
    bw_base = (64, 128, 256, 512)
    residual = [b * (1 if small else 4) for b in bw_base]
    mid = [k_r * b // 64 for b in bw_base]
    return build_dpn(depths, incs, residual, mid, groups, stem_width=stem_width, stem_kernel=3 if small else 7,
                     **kwargs)


# --------------------------------------------------------------------------------------------------------------
# ImageNet size
# --------------------------------------------------------------------------------------------------------------

CHEN = "Chen et al. 2017 / timm"


@register_model(family="dpn", reference=_ref(12.61, CHEN))
def dpn68(**kwargs):
    """DPN-68 (Chen et al. 2017): 3x3 stem of 10 channels, 3/4/12/3 blocks, R=128, G=32, increments 16/32/32/64."""
    return _imagenet_dpn((3, 4, 12, 3), (16, 32, 32, 64), 128, 32, 10, small=True, **kwargs)


@register_model(family="dpn", reference=_ref(12.61, "timm dpn68b"))
def dpn68b(**kwargs):
    """DPN-68b: DPN-68's network for timm's ``dpn68b`` weights (its split last 1x1 is one conv here)."""
    return _imagenet_dpn((3, 4, 12, 3), (16, 32, 32, 64), 128, 32, 10, small=True, **kwargs)


@register_model(family="dpn", reference=_ref(37.67, CHEN))
def dpn92(**kwargs):
    """DPN-92 (Chen et al. 2017): 3/4/20/3 blocks, R=96, G=32, increments 16/32/24/128."""
    return _imagenet_dpn((3, 4, 20, 3), (16, 32, 24, 128), 96, 32, 64, **kwargs)


@register_model(family="dpn", reference=_ref(61.57, CHEN))
def dpn98(**kwargs):
    """DPN-98 (Chen et al. 2017): 96-channel stem, 3/6/20/3 blocks, R=160, G=40, increments 16/32/32/128."""
    return _imagenet_dpn((3, 6, 20, 3), (16, 32, 32, 128), 160, 40, 96, **kwargs)


@register_model(family="dpn", reference=_ref(86.92, CHEN))
def dpn107(**kwargs):
    """DPN-107 (Chen et al. 2017): 128-channel stem, 4/8/20/3 blocks, R=200, G=50, increments 20/64/64/128."""
    return _imagenet_dpn((4, 8, 20, 3), (20, 64, 64, 128), 200, 50, 128, **kwargs)


@register_model(family="dpn", reference=_ref(79.25, CHEN))
def dpn131(**kwargs):
    """DPN-131 (Chen et al. 2017): 128-channel stem, 4/8/28/3 blocks, R=160, G=40, increments 16/32/32/128."""
    return _imagenet_dpn((4, 8, 28, 3), (16, 32, 32, 128), 160, 40, 128, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# CIFAR size: 3x3 stem conv at full resolution, no max-pool
# --------------------------------------------------------------------------------------------------------------
def _cifar_dpn(depths, **kwargs) -> ZooModel:
    """DPN-92's stage widths (R 96/192/384/768, bw 256/512/1024/2048, increments 16/32/24/128, G=32) with a
    64-channel 3x3 stem and stage strides 1/2/2/2 (32 -> 32 -> 16 -> 8 -> 4): the table of the common CIFAR
    port kuangliu/pytorch-cifar. Its blocks are the DPN blocks of this library (pre-activation, projection to both
    paths), not that port's post-activation variant, so the counts differ from it."""
    return build_dpn(depths, (16, 32, 24, 128), (256, 512, 1024, 2048), (96, 192, 384, 768), 32,
                     stem_type="cifar", **kwargs)


@register_model(family="dpn", size="cifar")
def dpn26(**kwargs):
    """DPN-26 for CIFAR: DPN-92's widths with 2 blocks per stage (no paper defines it; the shape of
    kuangliu/pytorch-cifar's DPN26, see ``_cifar_dpn``)."""
    return _cifar_dpn((2, 2, 2, 2), **kwargs)


@register_model(family="dpn", size="cifar")
def dpn92_cifar(**kwargs):
    """DPN-92 for CIFAR: ImageNet DPN-92's stage table (3/4/20/3 blocks) on a 3x3 full-resolution stem (no
    paper defines it; the shape of kuangliu/pytorch-cifar's DPN92, see ``_cifar_dpn``)."""
    return _cifar_dpn((3, 4, 20, 3), **kwargs)


@register_model(family="dpn", size="cifar")
def dpn29(**kwargs):
    """DPN-29 for CIFAR: 3 stages of 3 dual-path blocks (32 -> 16 -> 8), residual widths 64/128/256,
    R 48/96/192 with 12 groups of 4/8/16 channels, increments 8/16/16, 32-channel 3x3 stem; about resnet56's
    compute (no published result; a cnnzoo training target)."""
    return build_dpn((3, 3, 3), (8, 16, 16), (64, 128, 256), (48, 96, 192), 12, stem_width=32, stem_type="cifar",
                     **kwargs)
