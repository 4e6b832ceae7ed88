"""Inception v3 (Szegedy et al. 2016), as torchvision's ``inception_v3`` and timm's ``inception_v3`` define it,
without the auxiliary classifier (an ImageNet checkpoint's ``AuxLogits`` weights are dropped on import).

Layout (299 px): ``stem`` (conv2d_1a/2a/2b, max-pool; its conv2d_2b map is the stride-2 feature) ->
``stages.0`` (conv2d_3b, conv2d_4a: /4, 192) -> ``stages.1`` (max-pool, mixed_5b..5d: /8, 288) ->
``stages.2`` (mixed_6a..6e: /16, 768) -> ``stages.3`` (mixed_7a..7c: /32, 2048) -> head. Convs without
padding shrink the map, so the smallest input is 75 px (torchvision's ``min_size``).
"""
from __future__ import annotations

import functools
from collections import OrderedDict

from torch import nn

from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct
from ..layers.inception import inception_a, inception_b, inception_c, inception_d, inception_e
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel


def inception_conv(act_layer: ActSpec, eps: float = 1e-3):
    """conv (no bias) -> BN (eps 1e-3, as the TF-trained Inception weights) -> act, unpadded by default."""
    def conv(in_chs, out_chs, kernel_size, stride=1, padding=0):
        return ConvNormAct(in_chs, out_chs, kernel_size, stride, padding, act_layer=act_layer,
                           norm_layer=functools.partial(nn.BatchNorm2d, eps=eps))
    return conv


def inception_stem(in_chans: int, conv) -> nn.Sequential:
    """The stem Inception v3 and Inception-ResNet-v2 share: 3x3/2, 3x3, 3x3 (padded), 3x3/2 max-pool."""
    return nn.Sequential(OrderedDict(
        conv2d_1a=conv(in_chans, 32, 3, 2),
        conv2d_2a=conv(32, 32, 3),
        conv2d_2b=conv(32, 64, 3, 1, 1),
        pool=nn.MaxPool2d(3, 2),
    ))


def inception_stage0(conv) -> nn.Sequential:
    """The stem's second half, a stage here (1x1 to 80, unpadded 3x3 to 192 at /4), also shared."""
    return nn.Sequential(OrderedDict(conv2d_3b=conv(64, 80, 1), conv2d_4a=conv(80, 192, 3)))


def build_inception_v3(num_classes: int = 1000, in_chans: int = 3, drop_rate: float | None = None,
                       drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """Inception v3; ``drop_rate`` None is the paper's (torchvision's) 0.5 before the classifier."""
    reject_drop_path(drop_path_rate, "Inception v3")
    conv = inception_conv(act_layer)
    stages = [
        inception_stage0(conv),
        nn.Sequential(OrderedDict(pool=nn.MaxPool2d(3, 2), mixed_5b=inception_a(192, 32, conv),
                                  mixed_5c=inception_a(256, 64, conv), mixed_5d=inception_a(288, 64, conv))),
        nn.Sequential(OrderedDict(mixed_6a=inception_b(288, conv), mixed_6b=inception_c(768, 128, conv),
                                  mixed_6c=inception_c(768, 160, conv), mixed_6d=inception_c(768, 160, conv),
                                  mixed_6e=inception_c(768, 192, conv))),
        nn.Sequential(OrderedDict(mixed_7a=inception_d(768, conv), mixed_7b=inception_e(1280, conv),
                                  mixed_7c=inception_e(2048, conv))),
    ]
    info = [dict(num_chs=192, reduction=4), dict(num_chs=288, reduction=8), dict(num_chs=768, reduction=16),
            dict(num_chs=2048, reduction=32)]
    model = ZooModel(inception_stem(in_chans, conv), stages, info, 2048, num_classes, in_chans,
                     0.5 if drop_rate is None else drop_rate)
    init_weights(model)
    return model


@register_model(family="inception", input_size=299,
                reference=_ref(23.83, "timm inception_v3 (Szegedy et al. 2016), without the aux classifier",
                               top1_in1k=77.294, min_input_size=75))
def inception_v3(**kwargs):
    """Inception v3 (Szegedy et al. 2016), 299 px, torchvision/timm layout without the auxiliary classifier."""
    return build_inception_v3(**kwargs)
