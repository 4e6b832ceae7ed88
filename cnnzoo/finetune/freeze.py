"""Fine-tuning helpers built on the shared skeleton (stem -> stages.i -> final -> head), so they work the same
for every family: freeze / unfreeze by stage, BatchNorm handling, parameter groups with a head learning rate,
a backbone multiplier and layer-wise decay, and gradual unfreezing on a schedule.

Stage references accept an index into ``model.stages`` (negative counts from the end), ``"stem"``,
``"stages.N"``, ``"final"``, ``"backbone"`` / ``"all-but-head"`` (everything before the head).
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch import nn

from ..engine.optim import split_decay
from ..errors import InvalidArgumentError

BN_MODES = ("eval", "train", "frozen")


def _parts(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every trainable part in forward order: stem, stages.0.., final, head."""
    for attr in ("stem", "stages", "head"):
        if not hasattr(model, attr):
            raise InvalidArgumentError(
                f"{type(model).__name__} does not follow the cnnzoo skeleton (no .{attr}); build it with "
                f"cnnzoo.create_model"
            )
    parts = [("stem", model.stem)] + [(f"stages.{i}", s) for i, s in enumerate(model.stages)]
    parts.append(("final", getattr(model, "final", nn.Identity())))
    parts.append(("head", model.head))
    return parts


def part_names(model: nn.Module) -> list[str]:
    return [name for name, _ in _parts(model)]


def resolve_part(model: nn.Module, ref: int | str) -> int:
    """Position of a stage reference in ``part_names(model)`` (stem = 0, stages.i = i + 1, ...)."""
    names = part_names(model)
    n_stages = len(model.stages)
    if isinstance(ref, bool):
        ref = str(ref)
    if isinstance(ref, int):
        if not -n_stages <= ref < n_stages:
            raise InvalidArgumentError(
                f"stage {ref} does not exist: this model has {n_stages} stages (0..{n_stages - 1}, or negative "
                f"from the end); other parts: {', '.join(names)}"
            )
        return (ref % n_stages) + 1
    key = str(ref).strip().lower().replace("_", "-")
    if key in ("backbone", "all-but-head"):
        return names.index("final")
    if key.isdigit() or (key.startswith("-") and key[1:].isdigit()):
        return resolve_part(model, int(key))
    if ref in names:
        return names.index(ref)
    raise InvalidArgumentError(
        f"unknown stage {ref!r}; valid: {', '.join(names)}, an integer stage index, 'backbone' or 'all-but-head'"
    )


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm with fixed statistics and affine parameters (buffers, never updated)."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        self.eps = bn.eps
        for name in ("weight", "bias"):
            value = getattr(bn, name)
            self.register_buffer(name, (value.detach().clone() if value is not None
                                        else torch.ones(bn.num_features) if name == "weight"
                                        else torch.zeros(bn.num_features)))
        self.register_buffer("running_mean", bn.running_mean.detach().clone())
        self.register_buffer("running_var", bn.running_var.detach().clone())
        # kept so the state_dict has BatchNorm2d's keys: a fine-tuned weight loads into a plain model
        tracked = getattr(bn, "num_batches_tracked", None)
        self.register_buffer("num_batches_tracked", tracked.detach().clone() if tracked is not None
                             else torch.zeros((), dtype=torch.long))

    def forward(self, x):
        # the op an eval-mode BatchNorm2d runs, so a frozen model and the same weights reloaded into a plain one
        # compute the same logits, also under bf16 autocast (finetune reports one figure, not two)
        return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False,
                                        0.0, self.eps)


def _keep_bn_in_eval(bn: nn.modules.batchnorm._BatchNorm) -> None:
    """A frozen BN must not update its running statistics even when the model is put in train mode."""
    if getattr(bn, "_cnnzoo_eval_hook", None) is None:
        bn._cnnzoo_eval_hook = bn.register_forward_pre_hook(lambda m, args: setattr(m, "training", False))


def _release_bn(bn: nn.modules.batchnorm._BatchNorm) -> None:
    hook = getattr(bn, "_cnnzoo_eval_hook", None)
    if hook is not None:
        hook.remove()
        bn._cnnzoo_eval_hook = None
        bn.training = True


def _replace_bn_with_frozen(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d(child))
        else:
            _replace_bn_with_frozen(child)


def freeze(model: nn.Module, up_to: int | str = "backbone", bn: str = "eval") -> nn.Module:
    """Freeze every part from the stem up to and including ``up_to``.

    ``bn``: "eval" keeps the BatchNorm layers of frozen parts in eval mode (statistics fixed, also under
    ``model.train()``); "train" lets them keep updating statistics; "frozen" replaces them by
    :class:`FrozenBatchNorm2d` (permanent; use for head-only training).
    """
    if bn not in BN_MODES:
        raise InvalidArgumentError(f"unknown bn mode {bn!r}; valid: {', '.join(BN_MODES)}")
    last = resolve_part(model, up_to)
    for _, part in _parts(model)[: last + 1]:
        for p in part.parameters():
            p.requires_grad_(False)
        if bn == "frozen":
            _replace_bn_with_frozen(part)
        elif bn == "eval":
            for m in part.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    _keep_bn_in_eval(m)
    return model


def unfreeze(model: nn.Module, from_: int | str = "stem") -> nn.Module:
    """Make every part from ``from_`` to the head trainable again (BN statistics update again too)."""
    first = resolve_part(model, from_)
    for _, part in _parts(model)[first:]:
        for p in part.parameters():
            p.requires_grad_(True)
        for m in part.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                _release_bn(m)
    return model


def trainable_parameter_names(model: nn.Module) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


def param_groups(
    model: nn.Module,
    lr: float,
    backbone_lr_mult: float = 1.0,
    layer_decay: float | None = None,
    weight_decay: float = 0.0,
    trainable_only: bool = False,
) -> list[dict]:
    """Optimizer parameter groups: the head at ``lr``; every other part at ``lr * backbone_lr_mult``, further
    multiplied by ``layer_decay ** distance`` (distance in parts from the head) when ``layer_decay`` is set.
    Norm/bias parameters get no weight decay. With ``trainable_only=False`` frozen parameters are included
    (their ``requires_grad`` is False, so the optimizer skips them until gradual unfreezing releases them).
    """
    parts = _parts(model)

    groups = []
    for position, (name, part) in enumerate(parts):
        distance = len(parts) - 1 - position
        scale = 1.0 if name == "head" else backbone_lr_mult * (layer_decay ** distance if layer_decay else 1.0)
        decay, no_decay = split_decay(part, trainable_only)
        for params, wd in ((decay, weight_decay), (no_decay, 0.0)):
            if params:
                groups.append(dict(params=params, lr=lr * scale, lr_scale=scale, weight_decay=wd, part=name))
    return groups


class GradualUnfreezer:
    """Unfreeze one more part (from the head backwards) every ``every`` epochs, after ``start`` epochs
    of head-only training (ULMFiT-style). Call :meth:`step(epoch)` at the start of each epoch."""

    def __init__(self, model: nn.Module, every: int = 1, start: int = 1, stop_at: int | str = "stem"):
        if every < 1:
            raise InvalidArgumentError(f"every must be >= 1, got {every!r}")
        self.model, self.every, self.start = model, every, start
        self.names = part_names(model)
        self.floor = resolve_part(model, stop_at)
        freeze(model, "backbone", bn="eval")

    def frontier(self, epoch: int) -> int:
        """Index of the first trainable part at ``epoch``."""
        head_only = self.names.index("final") + 1  # head (final is usually parameter-free)
        if epoch < self.start:
            return head_only
        released = 1 + (epoch - self.start) // self.every
        return max(self.floor, head_only - released)

    def step(self, epoch: int) -> str:
        first = self.frontier(epoch)
        unfreeze(self.model, self.names[first])
        return self.names[first]


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def iter_frozen_bn(model: nn.Module) -> Iterator[nn.Module]:
    for m in model.modules():
        if isinstance(m, FrozenBatchNorm2d) or getattr(m, "_cnnzoo_eval_hook", None) is not None:
            yield m
