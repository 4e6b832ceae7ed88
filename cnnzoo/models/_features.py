"""``features_only``: the feature list a model exposes and the wrapper that returns those maps.

``feature_info`` follows timm: one entry per reduction (output stride), the *last* module that works at it, and
the stem's own map before its closing pool (stride 2) when the stem has one. So ``out_indices=(1, 2, 3, 4)``
picks the strides 4..32 of an ImageNet ResNet, DenseNet, DPN or MBConv net here as in timm, and the channels,
reductions and modules match timm's for every architecture both define (tests/test_features_timm.py).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ._checks import check_input

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)


def _stride(module: nn.Module) -> int:
    stride = module.stride if module.stride is not None else module.kernel_size  # a pool's default stride
    return stride[0] if isinstance(stride, tuple) else stride


def _walk(module: nn.Module) -> tuple[int, int | None]:
    """(total stride, channels of the last conv) of a sequential module."""
    reduction, channels = 1, None
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            reduction, channels = reduction * _stride(m), m.out_channels
        elif isinstance(m, _POOLS):
            reduction *= _stride(m)
    return reduction, channels


def stem_features(stem: nn.Module) -> list[dict]:
    """The stem's candidate feature maps: the map before a closing pool (ResNet's ``act1``, DenseNet's
    ``norm0``, at stride 2) and the stem's output (NASNet's ``conv0``). A stage at the same stride replaces
    them (:func:`build_feature_info`)."""
    found = []
    if isinstance(stem, nn.Sequential) and len(stem) >= 2 and isinstance(stem[-1], _POOLS):
        reduction, channels = _walk(stem[:-1])
        if channels is not None:
            found.append(dict(num_chs=channels, reduction=reduction, module=f"stem.{list(stem._modules)[-2]}"))
    reduction, channels = _walk(stem)
    if channels is not None:
        found.append(dict(num_chs=channels, reduction=reduction, module="stem"))
    return found


def build_feature_info(stage_info: Sequence[dict], stem_info: list[dict], final_is_feature: bool) -> list[dict]:
    """One entry per reduction, the last module at it. ``final_is_feature``: the closing norm-act belongs to
    the last map (DenseNet's ``norm5``); otherwise the last stage's output is the last feature (DPN's
    ``conv5_x``, EfficientNet's ``blocks.6``)."""
    candidates = [dict(info) for info in stem_info]
    candidates += [dict(info, module=f"stages.{i}") for i, info in enumerate(stage_info)]
    if final_is_feature:
        candidates[-1]["module"] = "final"
    kept: list[dict] = []
    for entry in candidates:
        if kept and kept[-1]["reduction"] == entry["reduction"]:
            kept[-1] = entry
        else:
            kept.append(entry)
    return kept


def resolve_out_indices(out_indices: Sequence[int] | None, count: int) -> tuple[int, ...]:
    if out_indices is None:
        return tuple(range(count))
    resolved = []
    for i in out_indices:
        if not isinstance(i, int) or isinstance(i, bool) or not -count <= i < count:
            raise InvalidArgumentError(
                f"out_indices entry {i!r} is not a feature of this model; valid: {list(range(count))} "
                f"(or negative from the end), one per entry of model.feature_info")
        resolved.append(i % count)
    return tuple(sorted(set(resolved)))


class FeatureExtractor(nn.Module):
    """``features_only=True``: the maps of ``model.feature_info[i]`` for ``i`` in ``out_indices`` (timm's
    meaning: an index into the feature list, stem feature included). Only the modules needed run; parameter
    names stay those of the full model (``stem.*``, ``stages.*``, ``final.*``)."""

    def __init__(self, model: nn.Module, out_indices: Sequence[int] | None = None):
        super().__init__()
        self.out_indices = resolve_out_indices(out_indices, len(model.feature_info))
        self.feature_info = [model.feature_info[i] for i in self.out_indices]
        wanted = [f["module"] for f in self.feature_info]
        self.in_chans = model.in_chans
        self.pretrained_cfg = model.pretrained_cfg
        self.stem = model.stem
        self.split_stem = any(m.startswith("stem.") for m in wanted)
        self.stem_is_feature = "stem" in wanted
        self.stem_taps = [name for name in self.stem._modules if f"stem.{name}" in wanted]
        stage_taps = [int(m.split(".")[1]) for m in wanted if m.startswith("stages.")]
        self.use_final = "final" in wanted
        last_stage = len(model.stages) - 1 if self.use_final else max(stage_taps, default=-1)
        self.stages = nn.Sequential(*list(model.stages)[: last_stage + 1])
        self.stage_taps = stage_taps
        self.final = model.final if self.use_final else nn.Identity()

    def channels(self) -> list[int]:
        return [f["num_chs"] for f in self.feature_info]

    def reductions(self) -> list[int]:
        return [f["reduction"] for f in self.feature_info]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        check_input(x, self.in_chans)
        outs = []
        if self.split_stem:
            for name, module in self.stem.named_children():
                x = module(x)
                if name in self.stem_taps:
                    outs.append(x)
        else:
            x = self.stem(x)
        if self.stem_is_feature:
            outs.append(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.stage_taps:
                outs.append(x)
        if self.use_final:
            outs.append(self.final(x))
        return outs
