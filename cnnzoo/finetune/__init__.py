"""Fine-tuning: freezing and parameter groups on the shared skeleton (``freeze``), the strategies as plans
(``strategies``), the one-call recipe behind ``cnnzoo finetune`` (``recipe``) and the report it leaves (``report``)."""
from .freeze import (BN_MODES, FrozenBatchNorm2d, GradualUnfreezer, count_trainable, freeze, iter_frozen_bn,
                     param_groups, part_names, resolve_part, trainable_parameter_names, unfreeze)
from .recipe import build_model, dataset_label, finetune, read_classes
from .strategies import DEFAULT_BN, DEFAULT_LR, SCRATCH_LR, STRATEGIES, Plan, apply_plan, check_strategy, make_plan

__all__ = ["BN_MODES", "FrozenBatchNorm2d", "GradualUnfreezer", "count_trainable", "freeze", "iter_frozen_bn",
           "param_groups", "part_names", "resolve_part", "trainable_parameter_names", "unfreeze", "build_model",
           "dataset_label", "finetune", "read_classes", "DEFAULT_BN", "DEFAULT_LR", "SCRATCH_LR", "STRATEGIES", "Plan",
           "apply_plan", "check_strategy", "make_plan"]
