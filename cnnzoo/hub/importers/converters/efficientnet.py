"""EfficientNet: torchvision ``efficientnet_b0..b7`` and timm ``efficientnet_b0..b3`` parameter names -> cnnzoo.

torchvision's B5..B7 use BatchNorm eps 1e-3 and so does cnnzoo's definition of them; timm's B0..B3 equal
torchvision's (eps 1e-5, same SE widths), so one cnnzoo architecture serves both.
"""
from __future__ import annotations

from ....models.efficientnet import B0_STAGES, VARIANTS
from ..equivalence import register_equivalent
from .mobilenetv2 import TIMM_MBCONV_RULES
from .resnet import in_stage

_HEAD_INDEX = len(B0_STAGES) + 1  # features.0 is the stem, features.1..7 the stages

# torchvision's MBConv is a Sequential ``block``: [expand,] depthwise, SE, project; stage 1 has no expand.
TV_EFFICIENTNET_RULES = [
    (r"features\.0\.0\.weight", r"stem.conv.weight"),
    (r"features\.0\.1\.(.+)", r"stem.bn.\1"),
    (rf"features\.{_HEAD_INDEX}\.0\.weight", r"final.conv.weight"),
    (rf"features\.{_HEAD_INDEX}\.1\.(.+)", r"final.bn.\1"),
    (r"features\.1\.(\d+)\.block\.0\.0\.weight", r"stages.0.\1.conv_dw.conv.weight"),
    (r"features\.1\.(\d+)\.block\.0\.1\.(.+)", r"stages.0.\1.conv_dw.bn.\2"),
    (r"features\.1\.(\d+)\.block\.1\.(fc\d)\.(.+)", r"stages.0.\1.se.\2.\3"),
    (r"features\.1\.(\d+)\.block\.2\.0\.weight", r"stages.0.\1.conv_pw.conv.weight"),
    (r"features\.1\.(\d+)\.block\.2\.1\.(.+)", r"stages.0.\1.conv_pw.bn.\2"),
    (r"features\.(\d)\.(\d+)\.block\.0\.0\.weight", in_stage(r"stages.{s}.\2.conv_pw.conv.weight")),
    (r"features\.(\d)\.(\d+)\.block\.0\.1\.(.+)", in_stage(r"stages.{s}.\2.conv_pw.bn.\3")),
    (r"features\.(\d)\.(\d+)\.block\.1\.0\.weight", in_stage(r"stages.{s}.\2.conv_dw.conv.weight")),
    (r"features\.(\d)\.(\d+)\.block\.1\.1\.(.+)", in_stage(r"stages.{s}.\2.conv_dw.bn.\3")),
    (r"features\.(\d)\.(\d+)\.block\.2\.(fc\d)\.(.+)", in_stage(r"stages.{s}.\2.se.\3.\4")),
    (r"features\.(\d)\.(\d+)\.block\.3\.0\.weight", in_stage(r"stages.{s}.\2.conv_pwl.conv.weight")),
    (r"features\.(\d)\.(\d+)\.block\.3\.1\.(.+)", in_stage(r"stages.{s}.\2.conv_pwl.bn.\3")),
    (r"classifier\.1\.(.+)", r"head.fc.\1"),
]

for _key in VARIANTS:
    register_equivalent(f"efficientnet_{_key}", "torchvision", f"efficientnet_{_key}", TV_EFFICIENTNET_RULES)
for _key in ("b0", "b1", "b2", "b3"):
    register_equivalent(f"efficientnet_{_key}", "timm", f"efficientnet_{_key}", TIMM_MBCONV_RULES)
