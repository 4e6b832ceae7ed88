"""MobileNetV1 (Howard et al. 2017): a 3x3 stem conv, then 13 depthwise-separable convs (depthwise 3x3 -> BN ->
act -> pointwise 1x1 -> BN -> act), no residuals.

``mobilenetv1_100`` is timm's ``mobilenetv1_100`` (ReLU6, stages of 1/2/2/6/2 blocks at /2../32), whose
ImageNet weights it loads. ``mobilenetv1_100_cifar`` is the common CIFAR port (kuangliu/pytorch-cifar
``MobileNet``): the same blocks with the stem at stride 1 (32x32 -> 2x2) and ReLU.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..layers.activations import ActSpec
from ..layers.conv_norm_act import ConvNormAct
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel

# (blocks, output channels) per stage; the first block of every stage but the first has stride 2
STAGES = ((1, 64), (2, 128), (2, 256), (6, 512), (2, 1024))
STEM_WIDTH = 32


def depthwise_separable(in_chs: int, out_chs: int, stride: int, act_layer: ActSpec) -> nn.Sequential:
    """Depthwise 3x3 -> BN -> act -> pointwise 1x1 -> BN -> act (the activation after the pointwise conv is
    what separates it from MobileNetV2's linear bottleneck)."""
    return nn.Sequential(OrderedDict(
        conv_dw=ConvNormAct(in_chs, in_chs, 3, stride, groups=in_chs, act_layer=act_layer),
        conv_pw=ConvNormAct(in_chs, out_chs, 1, act_layer=act_layer),
    ))


def build_mobilenetv1(stem_stride: int = 2, num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.0,
                      drop_path_rate: float = 0.0, act_layer: ActSpec = "relu6") -> ZooModel:
    reject_drop_path(drop_path_rate, "MobileNetV1")
    stem = ConvNormAct(in_chans, STEM_WIDTH, 3, stem_stride, act_layer=act_layer)
    in_chs, reduction, stages, info = STEM_WIDTH, stem_stride, [], []
    for i, (blocks, out_chs) in enumerate(STAGES):
        stride = 1 if i == 0 else 2
        stages.append(nn.Sequential(*[
            depthwise_separable(in_chs if b == 0 else out_chs, out_chs, stride if b == 0 else 1, act_layer)
            for b in range(blocks)]))
        in_chs, reduction = out_chs, reduction * stride
        info.append(dict(num_chs=out_chs, reduction=reduction))
    model = ZooModel(stem, stages, info, in_chs, num_classes, in_chans, drop_rate)
    init_weights(model)
    return model


@register_model(family="mobilenetv1", reference=_ref(4.23, "timm mobilenetv1_100 (Howard et al. 2017)"))
def mobilenetv1_100(**kwargs):
    """MobileNetV1 x1.0 (Howard et al. 2017), timm's layout (ReLU6)."""
    return build_mobilenetv1(**kwargs)


@register_model(family="mobilenetv1", size="cifar",
                reference=_ref(3.22, "kuangliu/pytorch-cifar MobileNet (Howard et al. 2017)"))
def mobilenetv1_100_cifar(act_layer: ActSpec = "relu", **kwargs):
    """MobileNetV1 x1.0 for CIFAR: the stem at stride 1 (32x32 -> 2x2) and ReLU, kuangliu/pytorch-cifar's
    layout."""
    return build_mobilenetv1(stem_stride=1, act_layer=act_layer, **kwargs)
