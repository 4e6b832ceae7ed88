"""SqueezeNet 1.0 (Iandola et al. 2016) and 1.1 (the cheaper revision of the authors' repository), as
torchvision's ``squeezenet1_0`` / ``squeezenet1_1`` define them.

Layout: ``stem`` (strided conv, max-pool) -> ``stages.0`` (Fire modules at /4) -> ``stages.1`` (max-pool,
Fire modules: /8) -> ``stages.2`` (max-pool, Fire modules: /16, 512) -> head. The classifier is SqueezeNet's:
dropout, a 1x1 conv to the classes, ReLU, then the global average pool (the ReLU comes before the pooling, so
it is not a linear layer on pooled features; :class:`PixelClassifierHead` applies it per pixel).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.activations import ActSpec, get_act
from ..layers.fire import Fire
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ClassifierHead, ZooModel

# (squeeze, expand1x1, expand3x3) per Fire module; None marks a max-pool (a stage boundary)
FIRES = {
    "1_0": ((16, 64, 64), (16, 64, 64), (32, 128, 128), None, (32, 128, 128), (48, 192, 192), (48, 192, 192),
            (64, 256, 256), None, (64, 256, 256)),
    "1_1": ((16, 64, 64), (16, 64, 64), None, (32, 128, 128), (32, 128, 128), None, (48, 192, 192),
            (48, 192, 192), (64, 256, 256), (64, 256, 256)),
}
STEM = {"1_0": (96, 7), "1_1": (64, 3)}  # (channels, kernel) of the stride-2 first conv


class PixelClassifierHead(ClassifierHead):
    """dropout -> linear on every pixel (SqueezeNet's 1x1 conv) -> act -> global pool. ``pre_logits`` and
    ``num_classes=0`` give the pooled features, as every cnnzoo head."""

    def __init__(self, in_features: int, num_classes: int, drop_rate: float, act_layer: ActSpec):
        super().__init__(in_features, num_classes, drop_rate)
        self.act = get_act(act_layer)(inplace=True)

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if pre_logits or not isinstance(self.fc, nn.Linear):
            return super().forward(x, pre_logits=True)
        x = F.linear(self.drop(x).movedim(1, -1), self.fc.weight, self.fc.bias).movedim(-1, 1)
        return self.pool(self.act(x))


def build_squeezenet(version: str, num_classes: int = 1000, in_chans: int = 3, drop_rate: float | None = None,
                     drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """SqueezeNet ``version`` "1_0" or "1_1"; ``drop_rate`` None is the paper's 0.5 before the classifier."""
    reject_drop_path(drop_path_rate, "SqueezeNet")
    stem_chs, kernel = STEM[version]
    stem = nn.Sequential(OrderedDict(conv1=nn.Conv2d(in_chans, stem_chs, kernel, 2),
                                     act=get_act(act_layer)(inplace=True),
                                     pool=nn.MaxPool2d(3, 2, ceil_mode=True)))
    groups, in_chs, number = [OrderedDict()], stem_chs, 2  # the paper numbers the Fire modules from 2
    for spec in FIRES[version]:
        if spec is None:
            groups.append(OrderedDict(pool=nn.MaxPool2d(3, 2, ceil_mode=True)))
            continue
        fire = Fire(in_chs, *spec, act_layer=act_layer)
        groups[-1][f"fire{number}"] = fire
        in_chs, number = fire.out_chs, number + 1
    stages = [nn.Sequential(g) for g in groups]
    info = [dict(num_chs=next(m for m in reversed(s) if isinstance(m, Fire)).out_chs, reduction=4 * 2 ** i)
            for i, s in enumerate(stages)]
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans)
    model.head = PixelClassifierHead(in_chs, num_classes, 0.5 if drop_rate is None else drop_rate, act_layer)
    init_weights(model)
    return model


@register_model(family="squeezenet",
                reference=_ref(1.25, "torchvision squeezenet1_0 (Iandola et al. 2016)", top1_in1k=58.092,
                               min_input_size=21))
def squeezenet1_0(**kwargs):
    """SqueezeNet 1.0 (Iandola et al. 2016), torchvision's layout."""
    return build_squeezenet("1_0", **kwargs)


@register_model(family="squeezenet",
                reference=_ref(1.24, "torchvision squeezenet1_1 (Iandola et al. 2016)", top1_in1k=58.178,
                               min_input_size=17))
def squeezenet1_1(**kwargs):
    """SqueezeNet 1.1: 2.4x fewer operations than 1.0 at its accuracy (3x3 first conv, earlier pools)."""
    return build_squeezenet("1_1", **kwargs)
