"""MobileNetV1: timm ``mobilenetv1_100`` parameter names -> cnnzoo (timm's ``blocks.S.B`` are cnnzoo's
``stages.S.B``; each block's two conv-BN pairs are named after their conv)."""
from __future__ import annotations

from ..equivalence import register_equivalent

MOBILENETV1_RULES = [
    (r"conv_stem\.weight", r"stem.conv.weight"),
    (r"bn1\.(.+)", r"stem.bn.\1"),
    (r"blocks\.(\d+)\.(\d+)\.(conv_dw|conv_pw)\.weight", r"stages.\1.\2.\3.conv.weight"),
    (r"blocks\.(\d+)\.(\d+)\.bn1\.(.+)", r"stages.\1.\2.conv_dw.bn.\3"),
    (r"blocks\.(\d+)\.(\d+)\.bn2\.(.+)", r"stages.\1.\2.conv_pw.bn.\3"),
    (r"classifier\.(.+)", r"head.fc.\1"),
]

register_equivalent("mobilenetv1_100", "timm", "mobilenetv1_100", MOBILENETV1_RULES)
