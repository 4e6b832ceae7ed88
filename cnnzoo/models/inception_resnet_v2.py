"""Inception-ResNet-v2 (Szegedy et al. 2017) in the layout of timm's ``inception_resnet_v2`` (the TF-slim model
ported by Cadene), whose ImageNet weights it loads.

Layout (299 px): ``stem`` (conv2d_1a/2a/2b, max-pool; shared with Inception v3) -> ``stages.0`` (conv2d_3b,
conv2d_4a: /4, 192) -> ``stages.1`` (max-pool, mixed_5b, 10 x block35: /8, 320) -> ``stages.2`` (mixed_6a,
20 x block17: /16, 1088) -> ``stages.3`` (mixed_7a, 9 x block8, a last block8 without act, conv2d_7b: /32,
1536) -> head. The smallest input is 75 px, as for Inception v3.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..layers.activations import ActSpec
from ..layers.inception_resnet import block8, block17, block35, mixed_5b, mixed_6a, mixed_7a
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel
from .inception_v3 import inception_conv, inception_stage0, inception_stem


def _repeat(make, count: int) -> nn.Sequential:
    return nn.Sequential(*[make() for _ in range(count)])


def build_inception_resnet_v2(num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.0,
                              drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    reject_drop_path(drop_path_rate, "Inception-ResNet-v2", "has no drop path here")
    conv = inception_conv(act_layer)
    stages = [
        inception_stage0(conv),
        nn.Sequential(OrderedDict(pool=nn.MaxPool2d(3, 2), mixed_5b=mixed_5b(conv),
                                  repeat=_repeat(lambda: block35(conv, act_layer), 10))),
        nn.Sequential(OrderedDict(mixed_6a=mixed_6a(conv), repeat_1=_repeat(lambda: block17(conv, act_layer), 20))),
        nn.Sequential(OrderedDict(mixed_7a=mixed_7a(conv), repeat_2=_repeat(lambda: block8(conv, act_layer), 9),
                                  block8=block8(conv, None, scale=1.0), conv2d_7b=conv(2080, 1536, 1))),
    ]
    info = [dict(num_chs=192, reduction=4), dict(num_chs=320, reduction=8), dict(num_chs=1088, reduction=16),
            dict(num_chs=1536, reduction=32)]
    model = ZooModel(inception_stem(in_chans, conv), stages, info, 1536, num_classes, in_chans, drop_rate)
    init_weights(model)
    return model


@register_model(family="inception", input_size=299,
                reference=_ref(55.84, "timm inception_resnet_v2 (Szegedy et al. 2017)", top1_in1k=80.462,
                               min_input_size=75))
def inception_resnet_v2(**kwargs):
    """Inception-ResNet-v2 (Szegedy et al. 2017), 299 px, timm's layout."""
    return build_inception_resnet_v2(**kwargs)
