"""Per-epoch checkpoints for exact resume: model, optimiser, scheduler, grad scaler, EMA, epoch, RNG states.

Written atomically with ``torch.save`` and read back with ``torch.load(weights_only=True)``, so loading never
runs code; everything stored is tensors, numbers, strings and containers of them.
"""
from __future__ import annotations

import random
from pathlib import Path

import torch

from ..errors import TrainingError
from .io import atomic_path

CHECKPOINT_NAME = "checkpoint.pt"


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, **parts) -> None:
    parts["rng"] = rng_state()
    with atomic_path(path) as tmp:
        torch.save(parts, tmp)


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(f"cannot read checkpoint {path}: {exc}") from exc
