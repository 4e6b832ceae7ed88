"""NASNet-A Large: timm ``nasnetalarge`` parameter names -> cnnzoo.

timm names the cells flatly (``cell_stem_0``, ``cell_stem_1``, ``cell_0``..``cell_17``, ``reduction_cell_0/1``);
cnnzoo groups them in stages of one reduction cell and N = 6 normal cells. Inside a cell the names are the same,
except that the projection of the previous map is always ``conv_prev_1x1`` (timm's ``path_1``, ``path_2`` and
``final_path_bn`` of the cells that read it at twice the resolution sit under it).
"""
from __future__ import annotations

from ..equivalence import register_equivalent

_REDUCED_PREV = r"((?:path_\d|final_path_bn)\..+)"


def _cell(cells_per_stage: int, prefix: str = ""):
    """``cell_K.`` -> ``stages.{1 + K // N}.{K % N + 1}.`` (index 0 of each stage is its reduction cell)."""
    def repl(m):
        k = int(m.group(1))
        return f"stages.{1 + k // cells_per_stage}.{k % cells_per_stage + 1}.{prefix}{m.group(2)}"
    return repl


def nasnet_rules(cells_per_stage: int) -> list:
    return [
        (r"conv0\.(.+)", r"stem.\1"),
        (r"cell_stem_0\.(.+)", r"stages.0.0.\1"),
        (r"cell_stem_1\." + _REDUCED_PREV, r"stages.1.0.conv_prev_1x1.\1"),
        (r"cell_stem_1\.(.+)", r"stages.1.0.\1"),
        (r"reduction_cell_(\d)\.(.+)", lambda m: f"stages.{int(m.group(1)) + 2}.0.{m.group(2)}"),
        (r"cell_(\d+)\." + _REDUCED_PREV, _cell(cells_per_stage, "conv_prev_1x1.")),
        (r"cell_(\d+)\.(.+)", _cell(cells_per_stage)),
        (r"last_linear\.(.+)", r"head.fc.\1"),
    ]


register_equivalent("nasnetalarge", "timm", "nasnetalarge", nasnet_rules(6))
