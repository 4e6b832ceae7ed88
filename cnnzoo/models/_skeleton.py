"""The one model skeleton every family builds: stem -> stages -> final -> head.

``forward(x) = forward_head(forward_features(x))``. Stages are ``stages.0`` ... ``stages.{n-1}``, so freezing,
layer-wise learning rates and ``features_only`` work the same way in every family.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import InputShapeError, InvalidArgumentError


def check_num_classes(num_classes: int) -> int:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise InvalidArgumentError(
            f"num_classes must be an integer >= 0 (0 gives pooled features), got {num_classes!r}"
        )
    return num_classes


def check_in_chans(in_chans: int) -> int:
    if not isinstance(in_chans, int) or isinstance(in_chans, bool) or in_chans < 1:
        raise InvalidArgumentError(f"in_chans must be an integer >= 1, got {in_chans!r}")
    return in_chans


def check_input(x: torch.Tensor, in_chans: int) -> None:
    """Reject inputs of the wrong rank or channel count with a message instead of a conv shape error."""
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return
    if x.dim() != 4:
        raise InputShapeError(f"expected a 4-D input (batch, {in_chans}, height, width), got shape {tuple(x.shape)}")
    if x.shape[1] != in_chans:
        raise InputShapeError(
            f"expected {in_chans} input channels, got {x.shape[1]} (input shape {tuple(x.shape)}); "
            f"build the model with in_chans={x.shape[1]} to change it"
        )


class ClassifierHead(nn.Module):
    """Global average pool -> dropout -> linear. ``num_classes=0`` replaces the linear layer by identity."""

    def __init__(self, in_features: int, num_classes: int, drop_rate: float = 0.0):
        super().__init__()
        self.in_features = in_features
        self.drop = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.reset(num_classes)

    def reset(self, num_classes: int) -> None:
        self.num_classes = check_num_classes(num_classes)
        self.fc = nn.Linear(self.in_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.drop(x.mean((2, 3)))
        return x if pre_logits else self.fc(x)


class ZooModel(nn.Module):
    """Base class of every cnnzoo network.

    Subclasses (or builders) provide ``stem``, a list of ``stages``, an optional ``final`` module applied after
    the last stage (the closing BN-act of pre-activation nets, EfficientNet's 1x1 head conv), the number of
    channels entering the classifier and one ``feature_info`` entry per stage.
    """

    def __init__(
        self,
        stem: nn.Module,
        stages: Sequence[nn.Module],
        feature_info: list[dict],
        num_features: int,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
        final: nn.Module | None = None,
    ):
        super().__init__()
        if len(feature_info) != len(stages):
            raise ValueError("one feature_info entry is needed per stage")
        self.in_chans = check_in_chans(in_chans)
        self.stem = stem
        self.stages = nn.Sequential(*stages)
        self.final = final if final is not None else nn.Identity()
        self.num_features = num_features
        self.feature_info = [dict(info, module=f"stages.{i}") for i, info in enumerate(feature_info)]
        self.head = ClassifierHead(num_features, num_classes, drop_rate)
        self.pretrained_cfg: dict = {}

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def check_input(self, x: torch.Tensor) -> None:
        check_input(x, self.in_chans)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.final(self.stages(self.stem(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return self.head(x, pre_logits=pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.head.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.head.reset(num_classes)

    def stage_names(self) -> list[str]:
        """Module names in forward order: ``stem``, ``stages.0`` ... , ``final``, ``head``."""
        return ["stem"] + [f"stages.{i}" for i in range(len(self.stages))] + ["final", "head"]


class FeatureExtractor(nn.Module):
    """``features_only=True``: returns the maps of the stages picked by ``out_indices`` (stage indices)."""

    def __init__(self, model: ZooModel, out_indices: Sequence[int] | None = None):
        super().__init__()
        n = len(model.stages)
        out_indices = list(range(n)) if out_indices is None else list(out_indices)
        resolved = []
        for i in out_indices:
            if not isinstance(i, int) or not -n <= i < n:
                raise InvalidArgumentError(
                    f"out_indices entry {i!r} is not a stage of this model; valid: {list(range(n))} "
                    f"(or negative from the end)"
                )
            resolved.append(i % n)
        self.out_indices = tuple(sorted(set(resolved)))
        self.in_chans = model.in_chans
        self.stem = model.stem
        self.stages = nn.Sequential(*list(model.stages)[: self.out_indices[-1] + 1])
        self.feature_info = [model.feature_info[i] for i in self.out_indices]
        self.pretrained_cfg = model.pretrained_cfg

    def channels(self) -> list[int]:
        return [f["num_chs"] for f in self.feature_info]

    def reductions(self) -> list[int]:
        return [f["reduction"] for f in self.feature_info]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        check_input(x, self.in_chans)
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return outs
