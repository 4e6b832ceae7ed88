"""NASNet-A (Zoph et al. 2018): cells found by architecture search, stacked N at a time between reductions.

"NASNet-A (N @ F)": N normal cells per stage, F channels entering the classifier (F = 24 C for the last cell's
width C). Large is 6 @ 4032 with a 96-channel stem at 331 px; Mobile is 4 @ 1056 with a 32-channel stem at 224 px.
Both follow timm's ``nasnetalarge`` (TF "SAME" padding), whose ImageNet weights the Large model loads.

Layout: ``stem`` (3x3/2 conv + BN, no act) -> ``stages.0`` (cell_stem_0, /4) -> ``stages.1`` (cell_stem_1 and N
cells, /8) -> ``stages.2`` (reduction + N cells, /16) -> ``stages.3`` (reduction + N cells, /32) -> ``final``
(act) -> head. The cells and the two-input bookkeeping are in :mod:`cnnzoo.layers.nasnet_cells`. The stem conv
is unpadded (any input of 3 px or more works; the maps are a pixel short of input / stride).
"""
from __future__ import annotations

import functools

from torch import nn

from ..layers.activations import ActSpec, get_act
from ..layers.conv_norm_act import ConvNormAct
from ..layers.nasnet_cells import BN_EPS, CellStage, NormalCell, ReductionCell
from ..registry import reference as _ref
from ..registry import register_model
from ._drop_path_support import reject_drop_path
from ._init import init_weights
from ._skeleton import ZooModel


def _body_stage(in_x: int, in_prev: int, channels: int, cells: int, act_layer: ActSpec) -> tuple[CellStage, int]:
    """A reduction cell, then ``cells`` normal cells (the first reading the reduction's ``prev`` at twice the
    resolution); returns the stage and its output channels."""
    reduce = ReductionCell(in_x, in_prev, channels, act_layer=act_layer)
    out_reduce = 4 * channels
    body = [NormalCell(out_reduce, in_prev, channels, reduce_prev=True, act_layer=act_layer)]
    body += [NormalCell(6 * channels, out_reduce if i == 0 else 6 * channels, channels, act_layer=act_layer)
             for i in range(cells - 1)]
    return CellStage(reduce, *body), 6 * channels


def build_nasnet(
    cells_per_stage: int,
    num_features: int,
    stem_size: int,
    *,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    act_layer: ActSpec = "relu",
) -> ZooModel:
    """NASNet-A (``cells_per_stage`` @ ``num_features``)."""
    reject_drop_path(drop_path_rate, "NASNet", "has no drop path here (ScheduledDropPath is not implemented)")
    c = num_features // 24
    stem = ConvNormAct(in_chans, stem_size, 3, 2, padding=0, apply_act=False,
                       norm_layer=functools.partial(nn.BatchNorm2d, eps=BN_EPS))
    stem_0 = ReductionCell(stem_size, stem_size, c // 4, prev_proj="none", keeps_prev=False, act_layer=act_layer)
    stem_1 = ReductionCell(c, stem_size, c // 2, prev_proj="reduce", keeps_prev=False, act_layer=act_layer)
    cells = [NormalCell(2 * c, c, c, reduce_prev=True, act_layer=act_layer)]
    cells += [NormalCell(6 * c, 2 * c if i == 0 else 6 * c, c, act_layer=act_layer)
              for i in range(cells_per_stage - 1)]
    stage2, chs2 = _body_stage(6 * c, 6 * c, 2 * c, cells_per_stage, act_layer)
    stage3, chs3 = _body_stage(chs2, chs2, 4 * c, cells_per_stage, act_layer)
    stages = [CellStage(stem_0, first=True), CellStage(stem_1, *cells), stage2, stage3]
    info = [dict(num_chs=c, reduction=4), dict(num_chs=6 * c, reduction=8), dict(num_chs=chs2, reduction=16),
            dict(num_chs=chs3, reduction=32)]
    # the cells' inputs are activated where they are read, so only the classifier's input needs the act
    final = get_act(act_layer)(inplace=False)
    model = ZooModel(stem, stages, info, chs3, num_classes, in_chans, drop_rate, final)
    init_weights(model)
    return model


@register_model(family="nasnet", input_size=331,
                reference=_ref(88.75, "timm nasnetalarge (Zoph et al. 2018)", top1_in1k=82.626, min_input_size=3))
def nasnetalarge(**kwargs):
    """NASNet-A Large (6 @ 4032), 331 px, TF "SAME" padding as timm's ``nasnetalarge``."""
    return build_nasnet(6, 4032, 96, **kwargs)


@register_model(family="nasnet", reference=_ref(5.3, "Zoph et al. 2018 (NASNet-A 4 @ 1056)", top1_in1k=74.0,
                                                min_input_size=3))
def nasnetamobile(**kwargs):
    """NASNet-A Mobile (4 @ 1056), 224 px: the Large model's cells with a 32-channel stem and 4 cells a stage."""
    return build_nasnet(4, 1056, 32, **kwargs)
