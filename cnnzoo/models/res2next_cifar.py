"""Res2NeXt-29 for CIFAR (Gao et al. 2019, "Res2Net", CIFAR-100 experiments): ResNeXt-29's 3x3 stem and three
stages of three bottlenecks (256/512/1024 output channels), each 3x3 replaced by ``scale`` hierarchical groups
of ``cardinality x width x 2^stage`` channels (grouped ``cardinality`` ways).

The block is cnnzoo's ``Res2Bottleneck`` (the official Res2Net code's: stride on the 3x3s, the last split
average-pooled in a stage's first block). The parameter counts equal the public PyTorch reproduction
dl19940602/res2net-pytorch with CIFAR-100's 100 classes (23.71M and 32.96M), which strides its 1x1 instead.
"""
from __future__ import annotations

from ..layers.residual import Res2Bottleneck
from ..registry import reference as _ref
from ..registry import register_model
from .resnet import build_resnet

SOURCE = "dl19940602/res2net-pytorch, CIFAR-100 (Gao et al. 2019)"


def res2next29(cardinality: int, width: int, scale: int, **kwargs):
    return build_resnet(Res2Bottleneck, [3, 3, 3], (64, 128, 256), stem_type="cifar", stem_width=64,
                        groups=cardinality, base_width=width, scale=scale, **kwargs)


@register_model(family="res2net", size="cifar", reference=_ref(source=SOURCE, params_m_cifar100=23.71))
def res2next29_6cx24wx4scale(**kwargs):
    """Res2NeXt-29, 6c x 24w x 4s for CIFAR (Gao et al. 2019)."""
    return res2next29(6, 24, 4, **kwargs)


@register_model(family="res2net", size="cifar", reference=_ref(source=SOURCE, params_m_cifar100=32.96))
def res2next29_8cx25wx4scale(**kwargs):
    """Res2NeXt-29, 8c x 25w x 4s for CIFAR (Gao et al. 2019)."""
    return res2next29(8, 25, 4, **kwargs)
