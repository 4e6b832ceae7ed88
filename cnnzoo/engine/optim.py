"""Optimiser with weight-decay groups, and the per-step learning-rate schedule."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ConfigError
from ..layers.trainable_act import TAct

_NO_DECAY_MODULES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, TAct)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights, and parameters that should not shrink towards zero (norm scales and
    shifts, biases, trainable-activation coefficients)."""
    decay, no_decay = split_decay(model)
    return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]


def split_decay(model: nn.Module, trainable_only: bool = True) -> tuple[list, list]:
    """(parameters to decay, parameters not to decay: norms, biases, trainable-activation coefficients)."""
    decay, no_decay = [], []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if trainable_only and not p.requires_grad:
                continue
            (no_decay if isinstance(module, _NO_DECAY_MODULES) or p.ndim <= 1 else decay).append(p)
    return decay, no_decay


def create_optimizer(model: nn.Module, cfg, groups: list[dict] | None = None) -> torch.optim.Optimizer:
    """SGD or AdamW over ``groups`` (default: decay / no-decay). A group's ``lr_scale`` multiplies the base
    learning rate, so layer-wise rates follow the schedule."""
    groups = groups if groups is not None else param_groups(model, cfg.weight_decay)
    for g in groups:
        g["lr"] = cfg.lr * g.get("lr_scale", 1.0)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    raise ConfigError(f"optimizer must be sgd or adamw, got {cfg.optimizer!r}")


SCHEDULES = ("cosine", "onecycle", "constant")


def lr_factor(step: int, total: int, warmup: int, schedule: str, min_ratio: float) -> float:
    """Multiplier of the base learning rate at optimiser ``step`` (0-based) of ``total``.

    cosine: linear warm-up over ``warmup`` steps from 0, then half a cosine down to ``min_ratio``.
    onecycle: warm-up from 1/25 (over ``warmup`` steps, or 30% of the run), then cosine down to ``min_ratio``.
    constant: warm-up, then flat.
    """
    if schedule == "onecycle":
        warmup = warmup or int(0.3 * total)
        if step < warmup:
            return 1 / 25 + (1 - 1 / 25) * (1 - math.cos(math.pi * step / warmup)) / 2
    elif step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * (1 + math.cos(math.pi * progress)) / 2


def create_scheduler(optimizer: torch.optim.Optimizer, cfg, steps_per_epoch: int):
    """A LambdaLR stepped once per optimiser step (its state is just the step count)."""
    if cfg.schedule not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}, got {cfg.schedule!r}")
    total = cfg.epochs * steps_per_epoch
    warmup = int(round(cfg.warmup_epochs * steps_per_epoch))
    min_ratio = cfg.min_lr / cfg.lr if cfg.lr else 0.0
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total, warmup, cfg.schedule, min_ratio))
