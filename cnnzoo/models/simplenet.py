"""SimpleNet (Hasanpour et al. 2016, "Let's keep it simple"): 13 plain conv-BN-ReLU layers and no fully connected
layer but the classifier, for CIFAR-size inputs; the layout of the authors' PyTorch code
(Coderx7/SimpleNet_Pytorch ``simplenet``): biased convs, BatchNorm momentum 0.05, 2x2 max-pools each followed
by a 0.1 Dropout2d, two 1x1 convs near the end, global *max* pooling, dropout 0.1 before the classifier.

Layout: ``stem`` (conv 64) -> ``stages.0`` (3 convs, 128) -> ``stages.1`` (pool, 3 convs, 256: /2) ->
``stages.2`` (pool, 2 convs, 256: /4) -> ``stages.3`` (pool, conv 512: /8) -> ``stages.4`` (pool, 1x1 2048,
1x1 256: /16) -> ``stages.5`` (pool, conv 256: /32) -> ``final`` (global max pool) -> head. The pools round up,
so inputs that are not multiples of 32 work (at 32x32 that changes nothing).

The paper's 5.48M is the conv weights alone (5,482,176); with biases, BatchNorm and the classifier the
reference code has 5,498,378 parameters (10 classes), as this model.
"""
from __future__ import annotations

import functools

from torch import nn

from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel

# (kernel, channels) of the convs of each stage; every stage after the first opens with pool + Dropout2d
STAGES = (((3, 128), (3, 128), (3, 128)), ((3, 128), (3, 128), (3, 256)), ((3, 256), (3, 256)), ((3, 512),),
          ((1, 2048), (1, 256)), ((3, 256),))


def build_simplenet(num_classes: int = 10, in_chans: int = 3, drop_rate: float | None = None,
                    block_drop_rate: float = 0.1, drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """SimpleNet; ``block_drop_rate`` is the Dropout2d after each pool, ``drop_rate`` (None: 0.1) the dropout
    before the classifier."""
    reject_drop_path(drop_path_rate, "SimpleNet")
    conv = functools.partial(ConvNormAct, bias=True, act_layer=act_layer,
                             norm_layer=functools.partial(nn.BatchNorm2d, momentum=0.05))
    stem = conv(in_chans, 64, 3)
    in_chs, reduction, stages, info = 64, 1, [], []
    for i, convs in enumerate(STAGES):
        layers = [nn.MaxPool2d(2, 2, ceil_mode=True), nn.Dropout2d(block_drop_rate)] if i > 0 else []
        for kernel, out_chs in convs:
            layers.append(conv(in_chs, out_chs, kernel))
            in_chs = out_chs
        reduction *= 2 if i > 0 else 1
        stages.append(nn.Sequential(*layers))
        info.append(dict(num_chs=in_chs, reduction=reduction))
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans, 0.1 if drop_rate is None else drop_rate,
                     final=nn.AdaptiveMaxPool2d(1))
    init_weights(model)
    return model


@register_model(family="simplenet", size="cifar",
                reference=_ref(5.5, "Coderx7/SimpleNet_Pytorch simplenet (Hasanpour et al. 2016: 5.48M conv weights)"))
def simplenet(**kwargs):
    """SimpleNet (Hasanpour et al. 2016): 13 conv layers, 5.5M parameters, CIFAR-10/100 size."""
    return build_simplenet(**kwargs)
