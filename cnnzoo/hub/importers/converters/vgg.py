"""VGG and AlexNet: torchvision ``vgg*`` / ``alexnet`` parameter names -> cnnzoo.

torchvision numbers the layers of one flat ``features`` list (convs, BNs, ReLUs and pools alike) and keeps the
fully connected layers as linear layers on the flattened 7x7 (6x6) grid; cnnzoo names each conv after its
block (``conv3_2``) and holds the first two fully connected layers as convs over that grid, so their weights
are only reshaped: (4096, C * g * g) -> (4096, C, g, g).
"""
from __future__ import annotations

import functools

from ....models.vgg import VGG_CFGS
from ..equivalence import register_equivalent


def _vgg_places(blocks, batch_norm: bool) -> dict[int, str]:
    """torchvision ``features`` index -> cnnzoo module, for every conv and BN."""
    places, index = {}, 0
    for b, widths in enumerate(blocks, start=1):
        stage = "stem" if b == 1 else f"stages.{b - 2}"
        for i in range(1, len(widths) + 1):
            places[index] = f"{stage}.conv{b}_{i}.conv"
            if batch_norm:
                places[index + 1] = f"{stage}.conv{b}_{i}.bn"
            index += 3 if batch_norm else 2  # conv, (bn,) relu
        index += 1  # the block's max-pool
    return places


def _feature_rule(places: dict[int, str]):
    return (r"features\.(\d+)\.(.+)", lambda m: f"{places[int(m.group(1))]}.{m.group(2)}")


def linear_to_conv(state_dict: dict, in_chs: int) -> dict:
    """Reshape the first two fully connected layers into the convs of ``ConvMlp``: fc1 over the whole
    ``in_chs`` x grid x grid map, fc2 a 1x1."""
    out = dict(state_dict)
    fc1, fc2 = out["final.mlp.fc1.weight"], out["final.mlp.fc2.weight"]
    if fc1.dim() == 2:
        grid = round((fc1.shape[1] // in_chs) ** 0.5)
        out["final.mlp.fc1.weight"] = fc1.reshape(fc1.shape[0], in_chs, grid, grid)
    if fc2.dim() == 2:
        out["final.mlp.fc2.weight"] = fc2.reshape(*fc2.shape, 1, 1)
    return out


def _classifier_rules(fc1: int, fc2: int, fc3: int) -> list:
    return [(rf"classifier\.{fc1}\.(.+)", r"final.mlp.fc1.\1"), (rf"classifier\.{fc2}\.(.+)", r"final.mlp.fc2.\1"),
            (rf"classifier\.{fc3}\.(.+)", r"head.fc.\1")]


for _base, _blocks in VGG_CFGS.items():
    for _bn in (False, True):
        register_equivalent(f"{_base}{'_bn' if _bn else ''}", "torchvision", f"{_base}{'_bn' if _bn else ''}",
                            [_feature_rule(_vgg_places(_blocks, _bn)), *_classifier_rules(0, 3, 6)],
                            post=functools.partial(linear_to_conv, in_chs=512), init_weights=False)

_ALEXNET_PLACES = {0: "stem.conv1.conv", 3: "stages.0.conv2.conv", 6: "stages.1.conv3.conv",
                   8: "stages.1.conv4.conv", 10: "stages.1.conv5.conv"}
register_equivalent("alexnet", "torchvision", "alexnet", [_feature_rule(_ALEXNET_PLACES), *_classifier_rules(1, 4, 6)],
                    post=functools.partial(linear_to_conv, in_chs=256))
