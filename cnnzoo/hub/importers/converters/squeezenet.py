"""SqueezeNet: torchvision ``squeezenet1_0`` / ``squeezenet1_1`` parameter names -> cnnzoo.

torchvision's flat ``features`` list becomes the stem and stages (Fire modules named ``fire2``.. as in the
paper, their inner names unchanged); the classifier's 1x1 conv becomes the head's per-pixel linear layer.
"""
from __future__ import annotations

from ....models.squeezenet import FIRES
from ..equivalence import register_equivalent


def _places(version: str) -> dict[int, str]:
    """torchvision ``features`` index -> cnnzoo module of each Fire module."""
    places, stage, number = {}, 0, 2
    for index, spec in enumerate(FIRES[version], start=3):  # features 0-2: conv, relu, pool
        if spec is None:
            stage += 1
        else:
            places[index] = f"stages.{stage}.fire{number}"
            number += 1
    return places


def flatten_classifier(state_dict: dict) -> dict:
    return {k: (v.flatten(1) if k == "head.fc.weight" else v) for k, v in state_dict.items()}


for _version in FIRES:
    _fires = _places(_version)
    register_equivalent(f"squeezenet{_version}", "torchvision", f"squeezenet{_version}", [
        (r"features\.0\.(.+)", r"stem.conv1.\1"),
        (r"features\.(\d+)\.(.+)", lambda m, fires=_fires: f"{fires[int(m.group(1))]}.{m.group(2)}"),
        (r"classifier\.1\.(.+)", r"head.fc.\1"),
    ], post=flatten_classifier)
