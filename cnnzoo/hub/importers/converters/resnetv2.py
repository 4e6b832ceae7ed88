"""BiT ResNetV2: timm ``resnetv2_50x1_bit`` parameter names -> cnnzoo (``stages.S.blocks.B`` ->
``stages.S.B``, the closing ``norm`` -> ``final``, the 1x1-conv classifier -> a linear layer)."""
from __future__ import annotations

from ..equivalence import register_equivalent

RESNETV2_BIT_RULES = [
    (r"stages\.(\d)\.blocks\.(\d+)\.downsample\.conv\.(.+)", r"stages.\1.\2.downsample.\3"),
    (r"stages\.(\d)\.blocks\.(\d+)\.(.+)", r"stages.\1.\2.\3"),
    (r"norm\.(.+)", r"final.\1"),
]


def flatten_conv_classifier(state_dict: dict) -> dict:
    return {k: (v.flatten(1) if k == "head.fc.weight" else v) for k, v in state_dict.items()}


register_equivalent("resnetv2_50x1_bit", "timm", "resnetv2_50x1_bit", RESNETV2_BIT_RULES,
                    post=flatten_conv_classifier)
