"""The one model skeleton every family builds: stem -> stages -> final -> head.

``forward(x) = forward_head(forward_features(x))``. Stages are ``stages.0`` ... ``stages.{n-1}``, so freezing,
layer-wise learning rates, ``group_matcher``, gradient checkpointing and ``features_only`` work the same way in
every family, and timm's tools that use those hooks (``resolve_data_config``, layer decay, ``checkpoint_seq``-style
memory saving) accept a cnnzoo model.
"""
from __future__ import annotations

import re
from typing import Sequence

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ..layers.checkpoint import checkpoint_block
from ..layers.global_pool import GlobalPool
from ._checks import check_in_chans, check_input, check_num_classes
from ._features import FeatureExtractor, build_feature_info, stem_features

__all__ = ["ZooModel", "ClassifierHead", "FeatureExtractor", "check_num_classes", "check_in_chans", "check_input"]

# timm's ordinal for "merge with the previous group" (its MATCH_PREV_GROUP): the final norm/conv joins the last block
_MERGE_WITH_PREVIOUS = (99999,)


class ClassifierHead(nn.Module):
    """Global pool -> dropout -> linear. ``num_classes=0`` replaces the linear layer by identity (pooled
    features); ``pool_type=''`` also skips the pooling (the feature map itself, only without a classifier)."""

    def __init__(self, in_features: int, num_classes: int, drop_rate: float = 0.0, pool_type: str = "avg"):
        super().__init__()
        self.in_features = in_features
        self.drop = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.pool = GlobalPool(pool_type)
        self.reset(num_classes)

    def reset(self, num_classes: int, pool_type: str | None = None) -> None:
        pool = GlobalPool(self.pool.pool_type if pool_type is None else pool_type)
        check_num_classes(num_classes)
        if pool.is_identity() and num_classes > 0:
            raise InvalidArgumentError(
                f"global_pool='' (no pooling) leaves a feature map that a linear classifier cannot take; "
                f"use num_classes=0 with it, or a pool type ('avg', 'max', 'avgmax', 'catavgmax')")
        self.pool, self.num_classes = pool, num_classes
        width = self.in_features * pool.feat_mult()
        self.fc = nn.Linear(width, num_classes) if num_classes > 0 else nn.Identity()

    def set_pool(self, pool_type: str) -> None:
        """Change the pooling, keeping the classifier's weights when its input width does not change."""
        old_fc, old_mult = self.fc, self.pool.feat_mult()
        self.reset(self.num_classes, pool_type)
        if self.pool.feat_mult() == old_mult:
            self.fc = old_fc

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.drop(self.pool(x))
        return x if pre_logits else self.fc(x)


class ZooModel(nn.Module):
    """Base class of every cnnzoo network.

    Builders provide ``stem``, a list of ``stages``, an optional ``final`` module applied after the last stage
    (the closing BN-act of pre-activation nets, the 1x1 head conv of MBConv nets), the channels entering the
    classifier and one ``stage_info`` entry (``num_chs``, ``reduction``) per stage. ``feature_info`` is derived
    from them (see :mod:`cnnzoo.models._features`): ``final_is_feature`` says the closing norm-act belongs to
    the last feature map, and the stem contributes its own maps at strides no stage has (``stem_info``
    overrides what :func:`~cnnzoo.models._features.stem_features` finds).
    """

    __jit_unused_properties__ = ["default_cfg"]

    def __init__(
        self,
        stem: nn.Module,
        stages: Sequence[nn.Module],
        stage_info: list[dict],
        num_features: int,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
        final: nn.Module | None = None,
        *,
        global_pool: str = "avg",
        final_is_feature: bool = False,
        stem_info: list[dict] | None = None,
    ):
        super().__init__()
        if len(stage_info) != len(stages):
            raise ValueError("one stage_info entry is needed per stage")
        self.in_chans = check_in_chans(in_chans)
        self.stem = stem
        self.stages = nn.Sequential(*stages)
        self.final = final if final is not None else nn.Identity()
        self.num_features = num_features
        self.stage_info = [dict(info, module=f"stages.{i}") for i, info in enumerate(stage_info)]
        stem_info = stem_features(stem) if stem_info is None else stem_info
        self.feature_info = build_feature_info(stage_info, stem_info, final_is_feature)
        self.head = ClassifierHead(num_features, num_classes, drop_rate, global_pool)
        self.grad_checkpointing = False
        self.pretrained_cfg: dict = {}

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    @property
    def default_cfg(self) -> dict:
        """timm's older name of ``pretrained_cfg`` (the same dict)."""
        return self.pretrained_cfg

    @default_cfg.setter
    def default_cfg(self, cfg: dict) -> None:
        self.pretrained_cfg = cfg

    def check_input(self, x: torch.Tensor) -> None:
        check_input(x, self.in_chans)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = self.stem(x)
        if self.grad_checkpointing and not torch.jit.is_scripting():
            x = self._checkpointed_stages(x)
        else:
            x = self.stages(x)
        return self.final(x)

    @torch.jit.unused
    def _checkpointed_stages(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            # a plain Sequential chains its children, so each is a block; a stage with its own forward (NASNet's
            # cells read two earlier outputs) is checkpointed whole
            blocks = list(stage.children()) if type(stage) is nn.Sequential else [stage]
            for block in blocks:
                x = checkpoint_block(block, x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return self.head(x, pre_logits=pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.head.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """A new classifier for ``num_classes`` (0: none, the model returns pooled features) and optionally a
        new pooling (``'avg'``, ``'max'``, ``'avgmax'``, ``'catavgmax'``, ``''``: none, needs 0 classes)."""
        self.head.reset(num_classes, global_pool)

    def set_global_pool(self, global_pool: str) -> None:
        self.head.set_pool(global_pool)

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute every block's activations in the backward pass instead of storing them: the same outputs,
        gradients and BatchNorm statistics, less peak memory, about one more forward pass of time."""
        self.grad_checkpointing = enable

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict:
        """Parameter groups in depth order, as timm's optimizer factory reads them (``layer_decay=``): the stem,
        then one group per stage (``coarse``) or per block, with ``final`` joining the last block; the head
        matches nothing and so becomes the last group."""
        if coarse:
            blocks = [(r"^stages\.(\d+)\.", None)]
        else:
            blocks = []
            for i, stage in enumerate(self.stages):
                names = list(stage._modules) or [""]
                for j, name in enumerate(names):
                    prefix = rf"^stages\.{i}\." + (rf"{re.escape(name)}\." if name else "")
                    blocks.append((prefix, (i, j)))
        blocks.append((r"^final\.", _MERGE_WITH_PREVIOUS))
        return dict(stem=r"^stem\.", blocks=blocks)

    def stage_names(self) -> list[str]:
        """Module names in forward order: ``stem``, ``stages.0`` ... , ``final``, ``head``."""
        return ["stem"] + [f"stages.{i}" for i in range(len(self.stages))] + ["final", "head"]
