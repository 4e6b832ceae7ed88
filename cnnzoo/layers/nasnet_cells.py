"""NASNet-A cells (Zoph et al. 2018), in the layout of timm's ``nasnetalarge`` (Cadene's port of the TF-slim
model): TF "SAME" padding, BatchNorm eps 1e-3, parameter names ``comb_iter_{i}_{left,right}``, ``conv_1x1``
(projection of the current input), ``conv_prev_1x1`` (of the previous cell's output).

Every cell reads two maps, the previous cell's output ``x`` and the one before it ``prev``. Both are first
projected to the cell's width ``C`` (``prev`` through a factorised reduction when it is at twice the
resolution), then five pairs of ops (separable convs, pools, identity) are summed and concatenated:

- a normal cell keeps the resolution and outputs ``6 * C`` channels (the projected ``prev`` and the 5 sums);
- a reduction cell halves it and outputs ``4 * C`` (4 of its sums; the first only feeds two others).

NASNet's stem cells are reduction cells too: ``cell_stem_0`` reads the stem conv's map as both inputs (its
``prev`` branch is the raw map), ``cell_stem_1`` reduces that map to meet ``cell_stem_0``'s output.

Because a stage boundary falls between cells and the next stage needs *two* maps, ``CellStage`` returns the
last cell's output with the map before it attached (``carry`` / ``carried``): the skeleton, ``features_only``
and checkpointing pass one tensor from stage to stage, and each stage still receives both of its inputs.
"""
from __future__ import annotations

import functools

import torch
from torch import nn

from .activations import ActSpec, get_act
from .tf_same import avg_pool_same, conv2d_same, max_pool_same

BN_EPS = 1e-3
_PREV = "nasnet_prev_map"


def carry(x: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    """Attach ``prev`` (the map before ``x``) to ``x`` for the next stage."""
    setattr(x, _PREV, prev)
    return x


def carried(x: torch.Tensor) -> torch.Tensor | None:
    return getattr(x, _PREV, None)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class ActConvBn(nn.Sequential):
    """act -> 1x1 conv -> BN: the projection of a cell input."""

    def __init__(self, in_chs: int, out_chs: int, act_layer: ActSpec = "relu"):
        super().__init__()
        self.act = get_act(act_layer)(inplace=False)  # the input is read by other branches too
        self.conv = nn.Conv2d(in_chs, out_chs, 1, bias=False)
        self.bn = _bn(out_chs)


class SeparableConv(nn.Sequential):
    """Depthwise kxk (TF "SAME" padding) -> pointwise 1x1."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.depthwise_conv2d = conv2d_same(in_chs, in_chs, kernel_size, stride, groups=in_chs)
        self.pointwise_conv2d = nn.Conv2d(in_chs, out_chs, 1, bias=False)


class BranchSeparables(nn.Sequential):
    """(act -> separable conv -> BN) twice; only the first carries the stride."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int, stride: int = 1, act_layer: ActSpec = "relu"):
        super().__init__()
        act = get_act(act_layer)
        self.act_1 = act(inplace=False)
        self.separable_1 = SeparableConv(in_chs, out_chs, kernel_size, stride)
        self.bn_sep_1 = _bn(out_chs)
        self.act_2 = act(inplace=True)
        self.separable_2 = SeparableConv(out_chs, out_chs, kernel_size)
        self.bn_sep_2 = _bn(out_chs)


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing half the pixels: two strided 1x1 convs, the second on the map shifted
    by one pixel, concatenated and normalised (NASNet's projection of a ``prev`` map at twice the resolution)."""

    def __init__(self, in_chs: int, out_chs: int, act_layer: ActSpec = "relu"):
        super().__init__()
        self.act = get_act(act_layer)(inplace=False)
        self.path_1 = nn.Sequential()
        self.path_1.add_module("conv", nn.Conv2d(in_chs, out_chs // 2, 1, bias=False))
        self.path_2 = nn.Sequential()
        self.path_2.add_module("conv", nn.Conv2d(in_chs, out_chs // 2, 1, bias=False))
        self.final_path_bn = _bn(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(x)
        # drop the first row/column and pad one of zeros at the end (timm's ZeroPad2d((-1, 1, -1, 1)))
        shifted = nn.functional.pad(x, (-1, 1, -1, 1))
        return self.final_path_bn(torch.cat([self.path_1(x[:, :, ::2, ::2]), self.path_2(shifted[:, :, ::2, ::2])], 1))


class ReductionCell(nn.Module):
    """Halves the resolution; outputs ``4 * channels``.

    ``prev_proj``: "conv" (1x1, same resolution), "reduce" (``prev`` at twice the resolution: cell_stem_1) or
    "none" (cell_stem_0, whose ``prev`` is the raw stem map of ``in_prev`` channels). ``keeps_prev``: the cell
    after it reads this cell's ``prev`` again, not its ``x`` (NASNet's body reduction cells).
    """

    def __init__(self, in_x: int, in_prev: int, channels: int, prev_proj: str = "conv", keeps_prev: bool = True,
                 act_layer: ActSpec = "relu"):
        super().__init__()
        self.keeps_prev = keeps_prev
        sep = functools.partial(BranchSeparables, act_layer=act_layer)
        left_in = in_prev if prev_proj == "none" else channels
        if prev_proj == "conv":
            self.conv_prev_1x1 = ActConvBn(in_prev, channels, act_layer)
        elif prev_proj == "reduce":
            self.conv_prev_1x1 = FactorizedReduce(in_prev, channels, act_layer)
        else:
            self.conv_prev_1x1 = nn.Identity()
        self.conv_1x1 = ActConvBn(in_x, channels, act_layer)
        self.comb_iter_0_left = sep(channels, channels, 5, 2)
        self.comb_iter_0_right = sep(left_in, channels, 7, 2)
        self.comb_iter_1_left = max_pool_same(3, 2)
        self.comb_iter_1_right = sep(left_in, channels, 7, 2)
        self.comb_iter_2_left = avg_pool_same(3, 2)
        self.comb_iter_2_right = sep(left_in, channels, 5, 2)
        self.comb_iter_3_right = avg_pool_same(3, 1)
        self.comb_iter_4_left = sep(channels, channels, 3, 1)
        self.comb_iter_4_right = max_pool_same(3, 2)

    def forward(self, x: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        left, right = self.conv_prev_1x1(prev), self.conv_1x1(x)
        comb0 = self.comb_iter_0_left(right) + self.comb_iter_0_right(left)
        comb1 = self.comb_iter_1_left(right) + self.comb_iter_1_right(left)
        comb2 = self.comb_iter_2_left(right) + self.comb_iter_2_right(left)
        comb3 = self.comb_iter_3_right(comb0) + comb1
        comb4 = self.comb_iter_4_left(comb0) + self.comb_iter_4_right(right)
        return torch.cat([comb1, comb2, comb3, comb4], 1)


class NormalCell(nn.Module):
    """Keeps the resolution; outputs ``6 * channels``. ``reduce_prev``: ``prev`` is at twice the resolution
    (the first cell after a reduction, timm's ``FirstCell``)."""

    keeps_prev = False

    def __init__(self, in_x: int, in_prev: int, channels: int, reduce_prev: bool = False,
                 act_layer: ActSpec = "relu"):
        super().__init__()
        sep = functools.partial(BranchSeparables, act_layer=act_layer)
        proj = FactorizedReduce if reduce_prev else ActConvBn
        self.conv_prev_1x1 = proj(in_prev, channels, act_layer)
        self.conv_1x1 = ActConvBn(in_x, channels, act_layer)
        self.comb_iter_0_left = sep(channels, channels, 5)
        self.comb_iter_0_right = sep(channels, channels, 3)
        self.comb_iter_1_left = sep(channels, channels, 5)
        self.comb_iter_1_right = sep(channels, channels, 3)
        self.comb_iter_2_left = avg_pool_same(3, 1)
        self.comb_iter_3_left = avg_pool_same(3, 1)
        self.comb_iter_3_right = avg_pool_same(3, 1)
        self.comb_iter_4_left = sep(channels, channels, 3)

    def forward(self, x: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        left, right = self.conv_prev_1x1(prev), self.conv_1x1(x)
        comb0 = self.comb_iter_0_left(right) + self.comb_iter_0_right(left)
        comb1 = self.comb_iter_1_left(left) + self.comb_iter_1_right(left)
        comb2 = self.comb_iter_2_left(right) + left
        comb3 = self.comb_iter_3_left(left) + self.comb_iter_3_right(left)
        comb4 = self.comb_iter_4_left(right) + right
        return torch.cat([left, comb0, comb1, comb2, comb3, comb4], 1)


class CellStage(nn.Sequential):
    """Cells in sequence, each reading (previous output, the one before). The first stage of a network reads the
    stem map as both; a later stage finds its second input attached to its first (see ``carry``)."""

    def __init__(self, *cells: nn.Module, first: bool = False):
        super().__init__(*cells)
        self.first = first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev = x if self.first else carried(x)
        if prev is None:
            raise RuntimeError("a NASNet stage needs the map its previous stage carries; run the stages in order "
                               "on the previous stage's output (model.stages(...) or model.forward_features)")
        for cell in self:
            x, prev = cell(x, prev), (prev if cell.keeps_prev else x)
        return carry(x, prev)
