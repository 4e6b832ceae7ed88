"""DenseNet family: torchvision ``densenet*`` and timm ``densenet.py`` parameter names -> cnnzoo.

Both libraries name the flat ``features`` sequential the same way (``denseblockN.denselayerM``,
``transitionN``, ``norm0``/``norm5``); timm's BN-act modules keep the BN parameter names. cnnzoo's stage ``i``
is ``transition i`` (for ``i > 0``) followed by ``denseblock i+1``.
"""
from __future__ import annotations

from ..equivalence import register_equivalent


def _stage(template: str, group: int = 1, offset: int = 1):
    """Replacement that turns the 1-based block/transition number in ``group`` into cnnzoo's stage index."""
    def repl(m):
        return m.expand(template).replace("{s}", str(int(m.group(group)) - offset))
    return repl


def _layer(template: str):
    """Replacement for ``denseblockN.denselayerM.``: stage N-1, layer M-1."""
    def repl(m):
        return m.expand(template).replace("{s}", str(int(m.group(1)) - 1)).replace("{l}", str(int(m.group(2)) - 1))
    return repl


_LAYER = r"features\.denseblock(\d+)\.denselayer(\d+)\."

DENSENET_RULES = [
    (r"features\.conv0\.weight", r"stem.conv.conv.weight"),
    (r"features\.norm0\.(.+)", r"stem.conv.bn.\1"),
    (_LAYER + r"norm(\d)\.(.+)", _layer(r"stages.{s}.block.layers.{l}.norm\3.bn.\4")),
    (_LAYER + r"conv(\d)\.weight", _layer(r"stages.{s}.block.layers.{l}.conv\3.weight")),
    # transitionN sits between denseblockN and denseblockN+1, i.e. it opens cnnzoo stage N.
    (r"features\.transition(\d+)\.norm\.(.+)", _stage(r"stages.{s}.transition.norm.bn.\2", offset=0)),
    (r"features\.transition(\d+)\.conv\.weight", _stage(r"stages.{s}.transition.conv.weight", offset=0)),
    (r"features\.norm5\.(.+)", r"final.bn.\1"),
    (r"classifier\.(.+)", r"head.fc.\1"),
]

for _arch in ("densenet121", "densenet169", "densenet201", "densenet161"):
    register_equivalent(_arch, "torchvision", _arch, DENSENET_RULES)
    register_equivalent(_arch, "timm", _arch, DENSENET_RULES)
