"""AlexNet (Krizhevsky 2014, "One weird trick"), the single-tower version torchvision's ``alexnet`` defines.

Layout: ``stem`` (11x11/4 conv, max-pool) -> ``stages.0`` (5x5 conv: /8, 192) -> ``stages.1`` (max-pool, three
3x3 convs: /16, 256) -> ``final`` (max-pool, the 4096-4096 fully connected layers as convs) -> head. No
padding in the pools: the smallest input is 63 px (torchvision's ``min_size``).
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial

from torch import nn

from ..layers.activations import ActSpec
from ..layers.conv_mlp import ConvMlp
from ..layers.conv_norm_act import ConvNormAct
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel


def build_alexnet(num_classes: int = 1000, in_chans: int = 3, drop_rate: float | None = None,
                  drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """AlexNet; ``drop_rate`` (None: 0.5) is the dropout before each hidden fully connected layer."""
    reject_drop_path(drop_path_rate, "AlexNet")
    conv = partial(ConvNormAct, bias=True, act_layer=act_layer, norm_layer=nn.Identity)
    stem = nn.Sequential(OrderedDict(conv1=conv(in_chans, 64, 11, 4, 2), pool=nn.MaxPool2d(3, 2)))
    stages = [
        nn.Sequential(OrderedDict(conv2=conv(64, 192, 5, 1, 2))),
        nn.Sequential(OrderedDict(pool=nn.MaxPool2d(3, 2), conv3=conv(192, 384, 3), conv4=conv(384, 256, 3),
                                  conv5=conv(256, 256, 3))),
    ]
    info = [dict(num_chs=192, reduction=8), dict(num_chs=256, reduction=16)]
    final = nn.Sequential(OrderedDict(
        pool=nn.MaxPool2d(3, 2),
        mlp=ConvMlp(256, 4096, 6, 0.5 if drop_rate is None else drop_rate, act_layer, drop_first=True),
    ))
    model = ZooModel(stem, stages, info, 4096, num_classes, in_chans, 0.0, final)
    init_weights(model)
    return model


@register_model(family="alexnet", reference=_ref(61.10, "torchvision alexnet (Krizhevsky 2014)",
                                                 top1_in1k=56.522, min_input_size=63))
def alexnet(**kwargs):
    """AlexNet (Krizhevsky 2014, single tower), torchvision's layout."""
    return build_alexnet(**kwargs)
