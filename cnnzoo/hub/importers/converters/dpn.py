"""DPN family: timm ``dpn.py`` parameter names (those of the MXNet weights of cypw/DPNs) -> cnnzoo.

timm keeps one flat ``features`` sequential: ``conv1_1`` (stem), ``conv{2..5}_{j}`` (block j of stage 2..5,
1-based), ``conv5_bn_ac`` (closing BN-act), and a 1x1-conv classifier. Inside a block: ``c1x1_w_s1`` /
``c1x1_w_s2`` the projection (stride 1 / 2), ``c1x1_a``, ``c3x3_b``, ``c1x1_c`` the three body convs; the "b"
variant (dpn68b) splits the last conv into ``c1x1_c1`` (residual outputs) and ``c1x1_c2`` (dense outputs), which
cnnzoo keeps as one conv (``post`` concatenates them, residual outputs first).
"""
from __future__ import annotations

import re

import torch

from ..equivalence import register_equivalent

_BLOCK = r"features\.conv(\d)_(\d+)\."


def _in_block(template: str):
    """``conv{S}_{J}.`` -> ``stages.{S-2}.{J-1}.``."""
    def repl(m):
        return m.expand(template).replace("{s}", str(int(m.group(1)) - 2)).replace("{b}", str(int(m.group(2)) - 1))
    return repl


_UNITS = {"c1x1_w_s1": "proj", "c1x1_w_s2": "proj", "c1x1_a": "conv1", "c3x3_b": "conv2", "c1x1_c": "conv3"}

DPN_RULES = [
    (r"features\.conv1_1\.conv\.weight", r"stem.conv.conv.weight"),
    (r"features\.conv1_1\.bn\.(.+)", r"stem.conv.bn.\1"),
    (r"features\.conv5_bn_ac\.bn\.(.+)", r"final.bn.\1"),
    *[(_BLOCK + theirs + r"\.(bn\.[^.]+|conv\.weight)", _in_block(rf"stages.{{s}}.{{b}}.{ours}.\3"))
      for theirs, ours in _UNITS.items()],
    # the "b" split convs, renamed so post() can find and merge them
    (_BLOCK + r"c1x1_c([12])\.weight", _in_block(r"stages.{s}.{b}.conv3.conv.weight.part\3")),
    (r"classifier\.(.+)", r"head.fc.\1"),
]

_PART = re.compile(r"(.+)\.part([12])")


def merge_split_and_flatten(state_dict: dict) -> dict:
    """Concatenate the "b" variant's two last 1x1 kernels; make the 1x1-conv classifier a linear layer."""
    out, parts = {}, {}
    for key, value in state_dict.items():
        m = _PART.fullmatch(key)
        if m:
            parts.setdefault(m.group(1), {})[m.group(2)] = value
        elif key == "head.fc.weight" and value.dim() == 4:
            out[key] = value.flatten(1)
        else:
            out[key] = value
    for key, p in parts.items():
        out[key] = torch.cat([p["1"], p["2"]], 0)
    return out


for _arch in ("dpn68", "dpn68b", "dpn92", "dpn98", "dpn107", "dpn131"):
    register_equivalent(_arch, "timm", _arch, DPN_RULES, post=merge_split_and_flatten)
