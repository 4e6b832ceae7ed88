"""GoogLeNet / Inception v1 (Szegedy et al. 2015) as torchvision's ``googlenet`` defines it: BatchNorm after every
conv (eps 1e-3), the "5x5" branch with a 3x3 kernel, max-pools rounding up, no auxiliary classifiers.

Layout: ``stem`` (7x7/2 conv, max-pool) -> ``stages.0`` (1x1, 3x3: /4, 192) -> ``stages.1`` (max-pool,
inception 3a-3b: /8, 480) -> ``stages.2`` (max-pool, 4a-4e: /16, 832) -> ``stages.3`` (max-pool, 5a-5b: /32,
1024) -> head (dropout 0.2).

torchvision's ImageNet weights expect inputs scaled as (x - 0.5) / 0.5 (its ``transform_input=True`` converts
ImageNet-normalised input to that); cnnzoo's model has no such hidden step, so the imported weight's data config
says mean = std = 0.5 instead, which gives the network the same numbers.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..layers.activations import ActSpec
from ..layers.inception import inception_v1
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel
from .inception_v3 import inception_conv

# (in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool proj) of table 1
MODULES = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def build_googlenet(num_classes: int = 1000, in_chans: int = 3, drop_rate: float | None = None,
                    drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """GoogLeNet; ``drop_rate`` None is torchvision's 0.2 before the classifier."""
    reject_drop_path(drop_path_rate, "GoogLeNet")
    conv = inception_conv(act_layer)

    def group(pool: nn.Module | None, names: str) -> nn.Sequential:
        parts = OrderedDict(pool=pool) if pool is not None else OrderedDict()
        parts.update((f"inception{n}", inception_v1(*MODULES[n], conv)) for n in names.split())
        return nn.Sequential(parts)

    stem = nn.Sequential(OrderedDict(conv1=conv(in_chans, 64, 7, 2, 3), pool1=nn.MaxPool2d(3, 2, ceil_mode=True)))
    stages = [
        nn.Sequential(OrderedDict(conv2=conv(64, 64, 1), conv3=conv(64, 192, 3, 1, 1))),
        group(nn.MaxPool2d(3, 2, ceil_mode=True), "3a 3b"),
        group(nn.MaxPool2d(3, 2, ceil_mode=True), "4a 4b 4c 4d 4e"),
        group(nn.MaxPool2d(2, 2, ceil_mode=True), "5a 5b"),
    ]
    info = [dict(num_chs=192, reduction=4), dict(num_chs=480, reduction=8), dict(num_chs=832, reduction=16),
            dict(num_chs=1024, reduction=32)]
    model = ZooModel(stem, stages, info, 1024, num_classes, in_chans, 0.2 if drop_rate is None else drop_rate)
    init_weights(model)
    return model


@register_model(family="inception",
                reference=_ref(6.62, "torchvision googlenet (Szegedy et al. 2015)", top1_in1k=69.778))
def googlenet(**kwargs):
    """GoogLeNet (Inception v1, Szegedy et al. 2015) with BatchNorm, torchvision's layout."""
    return build_googlenet(**kwargs)
