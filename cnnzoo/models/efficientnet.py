"""EfficientNet (Tan & Le 2019): the B0 stage table, and B1..B7 *generated* from it by compound scaling.

A member is B0 with every stage's channels multiplied by ``width`` (rounded to multiples of 8, never more than
10% down) and its repeats by ``depth`` (rounded up), evaluated at a larger resolution. ``scale(width, depth)``
builds any member; ``scale(phi=...)`` takes the paper's compound coefficient (width 1.1^phi, depth 1.2^phi,
resolution 224 * 1.15^phi). The registered B0..B7 use the paper's rounded coefficients (its Table / the
reference code), listed once in ``VARIANTS``.

The architecture is the one of torchvision's ``efficientnet_b*`` (the ImageNet import target) and timm's
``efficientnet_b*`` (identical for B0..B4): SiLU, SE of a quarter of the block's *input* channels, head conv to
``1280 * width``. B5..B7 use BatchNorm eps 1e-3 / momentum 0.01 as torchvision does for them (their weights
were ported from TensorFlow); B0..B4 use PyTorch's defaults.

``efficientnet_b0_cifar`` is B0 with the stem and the first stride-2 stage at stride 1 (32x32 -> 4x4), the
change that makes the CIFAR MobileNetV2s.
"""
from __future__ import annotations

from typing import NamedTuple

from ..registry import register_model
from ..errors import InvalidArgumentError
from ..layers.activations import ActSpec
from ._skeleton import ZooModel
from .mobilenetv2 import StageSpec, build_mbconv_net, cifar_stages, round_channels, scale_stages

B0_STAGES = (
    StageSpec(1, 3, 1, 1, 16, se_ratio=0.25),
    StageSpec(2, 3, 2, 6, 24, se_ratio=0.25),
    StageSpec(2, 5, 2, 6, 40, se_ratio=0.25),
    StageSpec(3, 3, 2, 6, 80, se_ratio=0.25),
    StageSpec(3, 5, 1, 6, 112, se_ratio=0.25),
    StageSpec(4, 5, 2, 6, 192, se_ratio=0.25),
    StageSpec(1, 3, 1, 6, 320, se_ratio=0.25),
)
B0_STEM, B0_HEAD, B0_RESOLUTION = 32, 1280, 224

# Grid-searched constants of the paper (eq. 3): depth alpha^phi, width beta^phi, resolution gamma^phi.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


class Variant(NamedTuple):
    width: float
    depth: float
    resolution: int
    drop_rate: float
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1


_TF_BN = dict(bn_eps=1e-3, bn_momentum=0.01)
VARIANTS = {
    "b0": Variant(1.0, 1.0, 224, 0.2),
    "b1": Variant(1.0, 1.1, 240, 0.2),
    "b2": Variant(1.1, 1.2, 260, 0.3),
    "b3": Variant(1.2, 1.4, 300, 0.3),
    "b4": Variant(1.4, 1.8, 380, 0.4),
    "b5": Variant(1.6, 2.2, 456, 0.4, **_TF_BN),
    "b6": Variant(1.8, 2.6, 528, 0.5, **_TF_BN),
    "b7": Variant(2.0, 3.1, 600, 0.5, **_TF_BN),
}


def compound(phi: float, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> tuple[float, float, int]:
    """(width, depth, resolution) of compound coefficient ``phi`` by the paper's rule."""
    return beta ** phi, alpha ** phi, int(round(B0_RESOLUTION * gamma ** phi))


def efficientnet_stages(width: float = 1.0, depth: float = 1.0) -> list[StageSpec]:
    """The B0 stage table scaled by ``width`` and ``depth``."""
    return scale_stages(B0_STAGES, width, depth)


def scale(width: float = 1.0, depth: float = 1.0, *, phi: float | None = None, cifar: bool = False,
          act_layer: ActSpec = "silu", drop_rate: float = 0.2, **kwargs) -> ZooModel:
    """Build the EfficientNet of width/depth coefficients ``width``/``depth`` (or of compound coefficient
    ``phi``, which overrides both). ``scale(1.4, 1.8)`` is efficientnet_b4; ``cifar=True`` gives the 32x32
    layout. Other keyword arguments go to ``build_mbconv_net`` (num_classes, bn_eps, drop_path_rate, ...)."""
    if phi is not None:
        width, depth, _ = compound(phi)
    for label, value in (("width", width), ("depth", depth)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise InvalidArgumentError(f"EfficientNet {label} coefficient must be a number > 0, got {value!r}")
    stages = efficientnet_stages(width, depth)
    if cifar:
        stages = cifar_stages(stages)
    return build_mbconv_net(stages, stem_width=round_channels(B0_STEM, width),
                            head_width=round_channels(B0_HEAD, width), stem_stride=1 if cifar else 2,
                            act_layer=act_layer, drop_rate=drop_rate, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# Registration: generated from VARIANTS, nothing typed per variant
# --------------------------------------------------------------------------------------------------------------
TV = "torchvision (Tan & Le 2019)"
# torchvision's published parameter counts and ImageNet top-1 of its efficientnet_b* weights (B1: V1 weights).
PUBLISHED = {"b0": (5.29, 77.692), "b1": (7.79, 78.642), "b2": (9.11, 80.608), "b3": (12.23, 82.008),
             "b4": (19.34, 83.384), "b5": (30.39, 83.444), "b6": (43.04, 84.008), "b7": (66.35, 84.122)}


def _register() -> None:
    for key, v in VARIANTS.items():
        def variant(v=v, drop_rate: float | None = None, **kwargs):
            # None is "the paper's rate"; create_model passes its own drop_rate (0.0 unless the user sets it).
            return scale(v.width, v.depth, drop_rate=v.drop_rate if drop_rate is None else drop_rate,
                         bn_eps=v.bn_eps, bn_momentum=v.bn_momentum, **kwargs)

        variant.__name__ = f"efficientnet_{key}"
        variant.__doc__ = (f"EfficientNet-{key.upper()} (Tan & Le 2019): B0 scaled by width {v.width}, depth "
                           f"{v.depth}, at {v.resolution}px; paper dropout {v.drop_rate}.")
        params_m, top1 = PUBLISHED[key]
        register_model(variant, family="efficientnet", input_size=v.resolution,
                       reference=dict(params_m=params_m, source=TV, top1_in1k=top1, drop_rate=v.drop_rate))


_register()


@register_model(family="efficientnet", size="cifar")
def efficientnet_b0_cifar(drop_rate: float | None = None, **kwargs):
    """EfficientNet-B0 for CIFAR: stem and the 24-channel stage at stride 1 (32x32 -> 4x4)."""
    return scale(1.0, 1.0, cifar=True, drop_rate=0.2 if drop_rate is None else drop_rate, **kwargs)
