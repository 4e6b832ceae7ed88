"""Inception family: torchvision ``googlenet`` / ``inception_v3`` and timm ``inception_v3`` /
``inception_resnet_v2`` parameter names -> cnnzoo.

Inside a module cnnzoo keeps torchvision's branch names and makes each multi-conv branch a Sequential:
``branch5x5_2`` -> ``branch5x5.1``, ``branch3x3_2a`` -> ``branch3x3.1.a``, ``branch_pool.conv`` ->
``branch_pool.1`` (after the pool). Modules move into the stem / stages; auxiliary classifiers are dropped.
"""
from __future__ import annotations

import re

from ..equivalence import register_equivalent

_BRANCH_STEP = re.compile(r"\.branch(\w+?)_(\d)([ab]?)\.")


def _branch_steps(rest: str) -> str:
    rest = _BRANCH_STEP.sub(lambda m: f".branch{m.group(1)}.{int(m.group(2)) - 1}"
                                      f"{'.' + m.group(3) if m.group(3) else ''}.", "." + rest)[1:]
    return re.sub(r"^branch_pool\.(conv|bn)\.", r"branch_pool.1.\1.", rest)


def _moved(places: dict[str, str], inner=lambda rest: rest):
    """Rule for ``MODULE.rest`` -> ``places[MODULE].inner(rest)``."""
    names = "|".join(sorted(places, key=len, reverse=True))
    return (rf"({names})\.(.+)", lambda m: f"{places[m.group(1)]}.{inner(m.group(2))}")


def drop_aux(state_dict: dict) -> dict:
    """Remove the auxiliary classifiers (``AuxLogits``, ``aux1``/``aux2``) that ImageNet checkpoints keep."""
    return {k: v for k, v in state_dict.items() if not k.startswith(("AuxLogits.", "aux1.", "aux2."))}


_V3_PLACES = {
    "Conv2d_1a_3x3": "stem.conv2d_1a", "Conv2d_2a_3x3": "stem.conv2d_2a", "Conv2d_2b_3x3": "stem.conv2d_2b",
    "Conv2d_3b_1x1": "stages.0.conv2d_3b", "Conv2d_4a_3x3": "stages.0.conv2d_4a",
    **{f"Mixed_5{c}": f"stages.1.mixed_5{c}" for c in "bcd"},
    **{f"Mixed_6{c}": f"stages.2.mixed_6{c}" for c in "abcde"},
    **{f"Mixed_7{c}": f"stages.3.mixed_7{c}" for c in "abc"},
}
INCEPTION_V3_RULES = [_moved(_V3_PLACES, _branch_steps), (r"fc\.(.+)", r"head.fc.\1")]

# GoogLeNet: torchvision's module and branch names are cnnzoo's (branch2.0, branch4.1, ...); only places move.
_GOOGLENET_PLACES = {
    "conv1": "stem.conv1", "conv2": "stages.0.conv2", "conv3": "stages.0.conv3",
    **{f"inception3{c}": f"stages.1.inception3{c}" for c in "ab"},
    **{f"inception4{c}": f"stages.2.inception4{c}" for c in "abcde"},
    **{f"inception5{c}": f"stages.3.inception5{c}" for c in "ab"},
}
GOOGLENET_RULES = [_moved(_GOOGLENET_PLACES), (r"fc\.(.+)", r"head.fc.\1")]

register_equivalent("googlenet", "torchvision", "googlenet", GOOGLENET_RULES, post=drop_aux, aux_logits=False,
                    init_weights=False)
register_equivalent("inception_v3", "torchvision", "inception_v3", INCEPTION_V3_RULES, post=drop_aux,
                    aux_logits=False, init_weights=False)
register_equivalent("inception_v3", "timm", "inception_v3", INCEPTION_V3_RULES, post=drop_aux)

# Inception-ResNet-v2: timm's names inside the modules are cnnzoo's; only places move.
_IRV2_PLACES = {
    "conv2d_1a": "stem.conv2d_1a", "conv2d_2a": "stem.conv2d_2a", "conv2d_2b": "stem.conv2d_2b",
    "conv2d_3b": "stages.0.conv2d_3b", "conv2d_4a": "stages.0.conv2d_4a",
    "mixed_5b": "stages.1.mixed_5b", "repeat": "stages.1.repeat", "mixed_6a": "stages.2.mixed_6a",
    "repeat_1": "stages.2.repeat_1", "mixed_7a": "stages.3.mixed_7a", "repeat_2": "stages.3.repeat_2",
    "block8": "stages.3.block8", "conv2d_7b": "stages.3.conv2d_7b",
}
register_equivalent("inception_resnet_v2", "timm", "inception_resnet_v2",
                    [_moved(_IRV2_PLACES), (r"classif\.(.+)", r"head.fc.\1")])
