"""MobileNetV2: timm ``mobilenetv2_*`` and torchvision ``mobilenet_v2`` parameter names -> cnnzoo.

Both libraries define the same network as cnnzoo (same channel rounding, BN eps 1e-5, ReLU6), so renaming is all
there is to it. The MBConv rules for timm's ``blocks.S.B`` layout are shared with EfficientNet.
"""
from __future__ import annotations

import itertools

from ....models.mobilenetv2 import MOBILENETV2_STAGES
from ..equivalence import register_equivalent

# timm's EfficientNet class (MobileNetV2 and EfficientNet alike): stage 0 holds the depthwise-separable blocks
# (conv_dw/bn1, conv_pw/bn2), every later stage inverted residuals (conv_pw/bn1, conv_dw/bn2, conv_pwl/bn3).
TIMM_MBCONV_RULES = [
    (r"conv_stem\.weight", r"stem.conv.weight"),
    (r"bn1\.(.+)", r"stem.bn.\1"),
    (r"blocks\.0\.(\d+)\.conv_dw\.weight", r"stages.0.\1.conv_dw.conv.weight"),
    (r"blocks\.0\.(\d+)\.bn1\.(.+)", r"stages.0.\1.conv_dw.bn.\2"),
    (r"blocks\.0\.(\d+)\.conv_pw\.weight", r"stages.0.\1.conv_pw.conv.weight"),
    (r"blocks\.0\.(\d+)\.bn2\.(.+)", r"stages.0.\1.conv_pw.bn.\2"),
    (r"blocks\.(\d+)\.(\d+)\.(conv_pw|conv_dw|conv_pwl)\.weight", r"stages.\1.\2.\3.conv.weight"),
    (r"blocks\.(\d+)\.(\d+)\.bn1\.(.+)", r"stages.\1.\2.conv_pw.bn.\3"),
    (r"blocks\.(\d+)\.(\d+)\.bn2\.(.+)", r"stages.\1.\2.conv_dw.bn.\3"),
    (r"blocks\.(\d+)\.(\d+)\.bn3\.(.+)", r"stages.\1.\2.conv_pwl.bn.\3"),
    (r"blocks\.(\d+)\.(\d+)\.se\.conv_reduce\.(.+)", r"stages.\1.\2.se.fc1.\3"),
    (r"blocks\.(\d+)\.(\d+)\.se\.conv_expand\.(.+)", r"stages.\1.\2.se.fc2.\3"),
    (r"conv_head\.weight", r"final.conv.weight"),
    (r"bn2\.(.+)", r"final.bn.\1"),
    (r"classifier\.(.+)", r"head.fc.\1"),
]

# torchvision numbers the blocks of all stages in one flat ``features`` list (features.0 is the stem).
_FLAT_TO_STAGE = {flat: (s, b) for flat, (s, b) in enumerate(
    itertools.chain.from_iterable(((s, b) for b in range(spec.repeats)) for s, spec in enumerate(MOBILENETV2_STAGES)),
    start=1)}
_HEAD_INDEX = len(_FLAT_TO_STAGE) + 1


def _block(template: str):
    """Replacement for a ``features.N.`` match: flat block N -> ``stages.S.B.`` (then ``template``)."""
    def repl(m):
        s, b = _FLAT_TO_STAGE[int(m.group(1))]
        return f"stages.{s}.{b}." + m.expand(template)
    return repl


TV_MOBILENETV2_RULES = [
    (r"features\.0\.0\.weight", r"stem.conv.weight"),
    (r"features\.0\.1\.(.+)", r"stem.bn.\1"),
    (rf"features\.{_HEAD_INDEX}\.0\.weight", r"final.conv.weight"),
    (rf"features\.{_HEAD_INDEX}\.1\.(.+)", r"final.bn.\1"),
    # expansion 1: conv.0 = depthwise ConvBNAct, conv.1/conv.2 = linear 1x1 conv / BN
    (r"features\.(1)\.conv\.0\.0\.weight", _block(r"conv_dw.conv.weight")),
    (r"features\.(1)\.conv\.0\.1\.(.+)", _block(r"conv_dw.bn.\2")),
    (r"features\.(1)\.conv\.1\.weight", _block(r"conv_pw.conv.weight")),
    (r"features\.(1)\.conv\.2\.(.+)", _block(r"conv_pw.bn.\2")),
    # inverted residual: conv.0 = expand, conv.1 = depthwise, conv.2/conv.3 = linear 1x1 conv / BN
    (r"features\.(\d+)\.conv\.0\.0\.weight", _block(r"conv_pw.conv.weight")),
    (r"features\.(\d+)\.conv\.0\.1\.(.+)", _block(r"conv_pw.bn.\2")),
    (r"features\.(\d+)\.conv\.1\.0\.weight", _block(r"conv_dw.conv.weight")),
    (r"features\.(\d+)\.conv\.1\.1\.(.+)", _block(r"conv_dw.bn.\2")),
    (r"features\.(\d+)\.conv\.2\.weight", _block(r"conv_pwl.conv.weight")),
    (r"features\.(\d+)\.conv\.3\.(.+)", _block(r"conv_pwl.bn.\2")),
    (r"classifier\.1\.(.+)", r"head.fc.\1"),
]

for _suffix in ("050", "075", "100", "140"):
    register_equivalent(f"mobilenetv2_{_suffix}", "timm", f"mobilenetv2_{_suffix}", TIMM_MBCONV_RULES)
register_equivalent("mobilenetv2_100", "torchvision", "mobilenet_v2", TV_MOBILENETV2_RULES)
