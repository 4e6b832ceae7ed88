"""VGG (Simonyan & Zisserman 2015): configurations A (11 layers), B (13), D (16) and E (19), with or without
BatchNorm, as torchvision's ``vgg11`` ... ``vgg19_bn`` define them (their ImageNet weights load).

Layout: ``stem`` (the full-resolution conv block and its max-pool; the pre-pool map is the stride-1 feature)
-> ``stages.0..3`` (conv blocks at /2, /4, /8, /16, each but the first opened by its max-pool) -> ``final``
(the last max-pool, then the 4096-4096 fully connected layers written as convs, :class:`ConvMlp`) -> head. The
feature maps are timm's ``vgg*`` features (the ReLU before each pool).
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

# Output channels of the convs of each of the five blocks (a max-pool closes every block).
VGG_CFGS = {
    "vgg11": ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    "vgg13": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    "vgg19": ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}


def build_vgg(blocks, batch_norm: bool = False, num_classes: int = 1000, in_chans: int = 3,
              drop_rate: float | None = None, drop_path_rate: float = 0.0, act_layer: ActSpec = "relu") -> ZooModel:
    """VGG from its conv blocks; ``drop_rate`` (None: the paper's 0.5) is the dropout of the two hidden fully
    connected layers."""
    reject_drop_path(drop_path_rate, "VGG")
    conv = partial(ConvNormAct, kernel_size=3, bias=True, act_layer=act_layer,
                   norm_layer=nn.BatchNorm2d if batch_norm else nn.Identity)
    parts, in_chs = [], in_chans
    for b, widths in enumerate(blocks, start=1):
        layers = OrderedDict(pool=nn.MaxPool2d(2, 2)) if b > 2 else OrderedDict()
        for i, width in enumerate(widths, start=1):
            layers[f"conv{b}_{i}"] = conv(in_chs, width)
            in_chs = width
        parts.append(layers)
    parts[0]["pool"] = nn.MaxPool2d(2, 2)  # the stem ends with the first block's pool
    stem, stages = nn.Sequential(parts[0]), [nn.Sequential(p) for p in parts[1:]]
    info = [dict(num_chs=blocks[b][-1], reduction=2 ** b) for b in range(1, 5)]
    final = nn.Sequential(OrderedDict(
        pool=nn.MaxPool2d(2, 2),
        mlp=ConvMlp(in_chs, 4096, 7, 0.5 if drop_rate is None else drop_rate, act_layer),
    ))
    model = ZooModel(stem, stages, info, 4096, num_classes, in_chans, 0.0, final)
    init_weights(model)
    return model


TV = "torchvision (Simonyan & Zisserman 2015)"
# torchvision's parameter counts and ImageNet top-1 of its IMAGENET1K_V1 weights.
PUBLISHED = {"vgg11": (132.86, 69.020), "vgg11_bn": (132.87, 70.370), "vgg13": (133.05, 69.928),
             "vgg13_bn": (133.05, 71.586), "vgg16": (138.36, 71.592), "vgg16_bn": (138.37, 73.360),
             "vgg19": (143.67, 72.376), "vgg19_bn": (143.68, 74.218)}


def _register() -> None:
    for name, (params_m, top1) in PUBLISHED.items():
        base, batch_norm = name.removesuffix("_bn"), name.endswith("_bn")

        def variant(blocks=VGG_CFGS[base], batch_norm=batch_norm, **kwargs):
            return build_vgg(blocks, batch_norm, **kwargs)

        depth = sum(len(b) for b in VGG_CFGS[base]) + 3
        variant.__name__ = name
        variant.__doc__ = (f"VGG-{depth}{' with BatchNorm' if batch_norm else ''} (Simonyan & Zisserman 2015), "
                           f"torchvision's layout.")
        register_model(variant, family="vgg", reference=_ref(params_m, TV, top1_in1k=top1))


_register()
