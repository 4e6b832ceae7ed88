"""Fine-tuning strategies (the usual transfer-learning recipes, in order of how much of the network they
train) as plans: what each freezes, how its BatchNorm behaves, its learning-rate layout and callbacks.

- ``head``: a new classifier on the frozen backbone; its BatchNorm layers become :class:`FrozenBatchNorm2d`.
- ``last-stage``: the last stage, the closing norm and the head train; everything before stays frozen with its
  BatchNorm in eval mode (``freeze_up_to`` picks another point, e.g. ``"stages.1"``).
- ``full``: everything trains; the backbone at ``lr * backbone_lr_mult`` (and ``layer_decay`` per part if set).
- ``gradual``: head only first, then one more part from the head backwards every ``unfreeze_every`` epochs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..errors import InvalidArgumentError
from .freeze import BN_MODES, GradualUnfreezer, count_trainable, freeze, param_groups

STRATEGIES = {
    "head": "train a new head on the frozen backbone (frozen BatchNorm)",
    "last-stage": "train the last stage and the head; earlier stages frozen (BatchNorm in eval mode)",
    "full": "train everything, the backbone at a smaller learning rate",
    "gradual": "head first, then unfreeze one more part from the head backwards every few epochs",
}
DEFAULT_BN = {"head": "frozen", "last-stage": "eval", "gradual": "eval"}
DEFAULT_LR = {"head": 0.05, "last-stage": 0.02, "full": 0.02, "gradual": 0.02}
SCRATCH_LR = 0.1


@dataclass
class Plan:
    """What a strategy does to a model: the frozen prefix, the BN mode, the learning-rate layout."""

    strategy: str
    bn: str | None = None
    freeze_up_to: int | str | None = None
    backbone_lr_mult: float = 0.1
    layer_decay: float | None = None
    unfreeze_every: int = 1
    unfreeze_start: int = 1
    weight_decay: float = 1e-4
    callbacks: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(strategy=self.strategy, bn=self.bn, freeze_up_to=self.freeze_up_to,
                    backbone_lr_mult=self.backbone_lr_mult, layer_decay=self.layer_decay,
                    unfreeze_every=self.unfreeze_every if self.strategy == "gradual" else None,
                    unfreeze_start=self.unfreeze_start if self.strategy == "gradual" else None)


def check_strategy(strategy: str) -> str:
    key = str(strategy).strip().lower().replace("_", "-")
    if key not in STRATEGIES:
        raise InvalidArgumentError(f"unknown strategy {strategy!r}; valid: {', '.join(STRATEGIES)} "
                                   f"({'; '.join(f'{k}: {v}' for k, v in STRATEGIES.items())})")
    return key


def make_plan(strategy: str, bn: str | None = None, freeze_up_to: int | str | None = None, **kwargs) -> Plan:
    """Validate the options of a strategy (before anything is built or written)."""
    strategy = check_strategy(strategy)
    if freeze_up_to is not None and strategy != "last-stage":
        raise InvalidArgumentError(f"freeze_up_to={freeze_up_to!r} applies to the last-stage strategy only "
                                   f"(head freezes the whole backbone, full nothing, gradual follows its schedule)")
    if bn is not None and bn not in BN_MODES:
        raise InvalidArgumentError(f"unknown bn mode {bn!r}; valid: {', '.join(BN_MODES)}")
    if strategy == "full" and bn is not None:
        raise InvalidArgumentError("bn applies to frozen parts; the full strategy freezes nothing")
    if strategy == "gradual" and bn == "frozen":
        raise InvalidArgumentError("bn='frozen' is permanent and cannot be released by gradual unfreezing; "
                                   "use bn='eval' or 'train'")
    plan = Plan(strategy=strategy, bn=bn or DEFAULT_BN.get(strategy), **kwargs)
    if strategy == "last-stage":
        plan.freeze_up_to = -2 if freeze_up_to is None else freeze_up_to
    if plan.backbone_lr_mult < 0 or (plan.layer_decay is not None and not 0 < plan.layer_decay <= 1):
        raise InvalidArgumentError(f"backbone_lr_mult must be >= 0 and layer_decay in (0, 1], got "
                                   f"{plan.backbone_lr_mult!r} and {plan.layer_decay!r}")
    return plan


def apply_plan(model: nn.Module, plan: Plan) -> nn.Module:
    """Freeze what the strategy freezes and register its callbacks (an unknown stage raises here)."""
    if plan.strategy == "head":
        freeze(model, "backbone", bn=plan.bn)
    elif plan.strategy == "last-stage":
        ref = plan.freeze_up_to
        if isinstance(ref, str) and ref.lstrip("-").isdigit():
            ref = int(ref)
        freeze(model, ref, bn=plan.bn)
    elif plan.strategy == "gradual":
        unfreezer = GradualUnfreezer(model, every=plan.unfreeze_every, start=plan.unfreeze_start)
        plan.callbacks.append(_UnfreezeCallback(unfreezer))
    return model


class _UnfreezeCallback:
    """Engine callback: release the parts the schedule says at the start of each epoch; log the frontier."""

    def __init__(self, unfreezer: GradualUnfreezer):
        self.unfreezer = unfreezer
        self.frontier = None

    def on_epoch_start(self, epoch: int, model: nn.Module) -> None:
        self.frontier = self.unfreezer.step(epoch)

    def on_epoch_end(self, epoch: int, model: nn.Module, record: dict) -> None:
        record.update(trainable_from=self.frontier, trainable_params=count_trainable(model))


def param_groups_fn(plan: Plan):
    # lr_scale multiplies the engine's scheduled lr; frozen parameters stay in the groups (gradual releases them)
    def groups(model: nn.Module) -> list[dict]:
        return param_groups(model, lr=1.0, backbone_lr_mult=plan.backbone_lr_mult, layer_decay=plan.layer_decay,
                            weight_decay=plan.weight_decay, trainable_only=plan.strategy != "gradual")
    return groups
