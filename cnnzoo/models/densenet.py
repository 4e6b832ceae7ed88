"""DenseNet family (Huang et al. 2017): DenseNet-121/169/201/161 at ImageNet size, DenseNet-40 (k=12) and
DenseNet-BC and DenseNet-121 (kuangliu/pytorch-cifar) at CIFAR size.

Every network is ``build_densenet`` with a block table. Stage ``i`` is ``(transition ->) dense block i``: the
transition that halves the resolution opens the next stage, as a strided conv opens a ResNet stage, so the stage
outputs are the dense-block outputs at strides 4/8/16/32 (ImageNet) or 1/2/4 (CIFAR), the maps timm's
``features_only`` DenseNet returns. ``final`` is the closing BN-act. ``memory_efficient=True`` checkpoints the
concatenation + BN-act-conv of every dense layer (see :mod:`cnnzoo.layers.dense`).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from torch import nn

from ..registry import reference as _ref, register_model
from ..errors import InvalidArgumentError
from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct, NormAct
from ..layers.dense import DenseBlock, Transition
from ._init import init_weights
from ._skeleton import ZooModel


def build_densenet(
    block_config: Sequence[int],
    growth_rate: int,
    *,
    stem_width: int | None = None,
    bn_size: int | None = 4,
    compression: float = 0.5,
    stem_type: str = "imagenet",
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    block_drop_rate: float = 0.0,
    act_layer: ActSpec = "relu",
    memory_efficient: bool = False,
) -> ZooModel:
    """Assemble a DenseNet.

    ``stem_width`` defaults to ``2 * growth_rate``. ``bn_size`` 0/None drops the 1x1 bottleneck, ``compression``
    1.0 keeps every channel at the transitions (DenseNet without "-BC"); a transition outputs
    ``floor(channels * compression)``. ``block_drop_rate`` is dropout after every dense layer (the paper's 0.2
    for CIFAR without augmentation). ``stem_type`` "imagenet" is 7x7/2 conv-BN-act + 3x3/2 max-pool;
    "cifar" a bare 3x3 conv at full resolution (the first dense layer's BN-act follows it).
    """
    if drop_path_rate:
        raise InvalidArgumentError(
            f"drop_path_rate={drop_path_rate!r}: a DenseNet has no residual branch to drop; use 0 (or "
            f"block_drop_rate for dropout after every dense layer)"
        )
    if not 0.0 < compression <= 1.0:
        raise InvalidArgumentError(f"compression must be in (0, 1], got {compression!r}")
    stem_width = stem_width or 2 * growth_rate
    if stem_type == "imagenet":
        stem = nn.Sequential(OrderedDict(
            conv=ConvNormAct(in_chans, stem_width, 7, 2, act_layer=act_layer),
            pool=nn.MaxPool2d(3, 2, 1),
        ))
        reduction = 4
    elif stem_type == "cifar":
        stem = nn.Conv2d(in_chans, stem_width, 3, 1, 1, bias=False)
        reduction = 1
    else:
        raise ValueError(f"unknown stem_type {stem_type!r}")

    chs, stages, info = stem_width, [], []
    for i, num_layers in enumerate(block_config):
        parts = OrderedDict()
        if i > 0:
            out = int(chs * compression)
            parts["transition"] = Transition(chs, out, act_layer)
            chs, reduction = out, reduction * 2
        parts["block"] = DenseBlock(num_layers, chs, growth_rate, bn_size, act_layer, block_drop_rate,
                                    memory_efficient)
        chs = parts["block"].out_chs
        stages.append(nn.Sequential(parts))
        info.append(dict(num_chs=chs, reduction=reduction))
    # timm's last DenseNet feature is norm5, the closing BN-act: it finishes the last dense block's map
    model = ZooModel(stem, stages, info, chs, num_classes, in_chans, drop_rate, final=NormAct(chs, act_layer),
                     final_is_feature=True)
    init_weights(model)
    return model


# --------------------------------------------------------------------------------------------------------------
# ImageNet size
# --------------------------------------------------------------------------------------------------------------
TV = "torchvision (Huang et al. 2017)"



@register_model(family="densenet", reference=_ref(7.98, TV, top1_in1k=74.434))
def densenet121(**kwargs):
    """DenseNet-121 (Huang et al. 2017): k=32, blocks of 6/12/24/16 bottleneck layers, compression 0.5."""
    return build_densenet([6, 12, 24, 16], 32, **kwargs)


@register_model(family="densenet", reference=_ref(14.15, TV, top1_in1k=75.600))
def densenet169(**kwargs):
    """DenseNet-169 (Huang et al. 2017): k=32, blocks of 6/12/32/32 layers."""
    return build_densenet([6, 12, 32, 32], 32, **kwargs)


@register_model(family="densenet", reference=_ref(20.01, TV, top1_in1k=76.896))
def densenet201(**kwargs):
    """DenseNet-201 (Huang et al. 2017): k=32, blocks of 6/12/48/32 layers."""
    return build_densenet([6, 12, 48, 32], 32, **kwargs)


@register_model(family="densenet", reference=_ref(28.68, TV, top1_in1k=77.138))
def densenet161(**kwargs):
    """DenseNet-161 (Huang et al. 2017): k=48, 96-channel stem, blocks of 6/12/36/24 layers."""
    return build_densenet([6, 12, 36, 24], 48, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# CIFAR size: bare 3x3 stem, three dense blocks at 32 -> 16 -> 8
# --------------------------------------------------------------------------------------------------------------
HUANG = "Huang et al. 2017"


def _densenet_bc_cifar(depth: int, growth_rate: int, **kwargs) -> ZooModel:
    """DenseNet-BC-depth-k for CIFAR: (depth - 4) / 6 bottleneck layers per block, 2k-channel stem,
    compression 0.5."""
    n = (depth - 4) // 6
    return build_densenet([n] * 3, growth_rate, stem_type="cifar", **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(1.0, HUANG, top1_cifar10=94.76))
def densenet40_k12(**kwargs):
    """DenseNet-40 (k=12) for CIFAR (Huang et al. 2017): 3 blocks of 12 BN-act-3x3 layers without bottleneck,
    a 16-channel stem and transitions without compression."""
    return build_densenet([12] * 3, 12, stem_width=16, bn_size=None, compression=1.0, stem_type="cifar",
                          **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(0.77, "pytorchcv 769,162 (Huang et al. 2017 0.8M)",
                                                                 top1_cifar10=95.49))
def densenet_bc_100_k12(**kwargs):
    """DenseNet-BC-100 (k=12) for CIFAR (Huang et al. 2017): 3 blocks of 16 bottleneck layers."""
    return _densenet_bc_cifar(100, 12, **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(15.3, HUANG, top1_cifar10=96.38))
def densenet_bc_250_k24(**kwargs):
    """DenseNet-BC-250 (k=24) for CIFAR (Huang et al. 2017): 3 blocks of 41 bottleneck layers."""
    return _densenet_bc_cifar(250, 24, **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(25.6, HUANG, top1_cifar10=96.54))
def densenet_bc_190_k40(**kwargs):
    """DenseNet-BC-190 (k=40) for CIFAR (Huang et al. 2017): 3 blocks of 31 bottleneck layers."""
    return _densenet_bc_cifar(190, 40, **kwargs)


@register_model(family="densenet", size="cifar")
def densenet_bc_52_k12(**kwargs):
    """DenseNet-BC-52 (k=12) for CIFAR: the shape of DenseNet-BC-100 with 8 bottleneck layers per block, at
    about resnet56's compute (no published result; a cnnzoo training target)."""
    return _densenet_bc_cifar(52, 12, **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(6.96, "kuangliu/pytorch-cifar DenseNet121"))
def densenet121_cifar(**kwargs):
    """DenseNet-121 for CIFAR, kuangliu/pytorch-cifar's ``DenseNet121``: DenseNet-121's four blocks (6/12/24/16,
    k=32) behind a bare 3x3 stem, at 32 -> 16 -> 8 -> 4."""
    return build_densenet([6, 12, 24, 16], 32, stem_type="cifar", **kwargs)


@register_model(family="densenet", size="cifar", reference=_ref(1.0, "kuangliu/pytorch-cifar densenet_cifar"))
def densenet121_k12_cifar(**kwargs):
    """DenseNet-121 for CIFAR with growth rate 12 instead of 32, kuangliu/pytorch-cifar's ``densenet_cifar``: the
    activation study's CPU-sized DenseNet-121."""
    return build_densenet([6, 12, 24, 16], 12, stem_type="cifar", **kwargs)
