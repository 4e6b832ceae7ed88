"""Shipped fine-tuning recipes: ``cnnzoo/recipes/finetune/NAME.yaml``, one published setup each.

A recipe's keys are :func:`~cnnzoo.finetune.finetune`'s arguments (``model``, ``strategy``, ``epochs``, ``img_size``,
``lr``, ...) plus engine keys it passes through; the data folder and the run directory stay the caller's. Values
given to the call win over the recipe's, so ``cnnzoo finetune --recipe intel_resnet50_head --epochs 1`` is the
same setup for one epoch.
"""
from __future__ import annotations

import dataclasses
import inspect
import os

from ..engine.config import TrainConfig, find_recipe, load_yaml
from ..errors import ConfigError

CALLER_KEYS = ("data", "out", "resume", "overwrite")  # where and how to run: never a recipe's to say


def recipe_keys() -> set[str]:
    """Keys a fine-tuning recipe may set."""
    from .recipe import finetune

    own = set(inspect.signature(finetune).parameters) - {"model_or_name", "overrides", *CALLER_KEYS}
    return own | {"model"} | {f.name for f in dataclasses.fields(TrainConfig)} - {"data", "out"}


def load_finetune_recipe(name: str | os.PathLike) -> dict:
    """The keys of a shipped recipe (by name) or a recipe file, checked against :func:`recipe_keys`."""
    path = find_recipe(name, subdir="finetune", what="fine-tuning recipe")
    values = load_yaml(path)
    unknown = sorted(set(values) - recipe_keys())
    if unknown:
        raise ConfigError(f"fine-tuning recipe {path}: unknown keys {', '.join(unknown)}; valid: "
                          f"{', '.join(sorted(recipe_keys()))}")
    if not isinstance(values.get("model"), str):
        raise ConfigError(f"fine-tuning recipe {path} must name the starting weight as model: ARCH.TAG")
    return values
