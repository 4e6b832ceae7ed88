"""Per-epoch checkpoints for exact resume: model, optimiser, scheduler, grad scaler, EMA, epoch, RNG states.

Written atomically with ``torch.save`` (fsynced, then renamed) beside a ``checkpoint.pt.sha256`` file, and read
back only when the bytes match it, with ``torch.load(weights_only=True)``, so loading never runs code and an
altered or torn checkpoint is refused instead of resumed.
"""
from __future__ import annotations

import random
from pathlib import Path

import torch

from ..errors import TrainingError
from ..hub.files.io import sha256_file
from .io import atomic_path, atomic_write_text

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


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_checkpoint(path: Path, parts: dict) -> None:
    """Save ``parts`` and then its sha256; a crash between the two leaves a pair that no longer matches, which
    load refuses (the previous epoch's log lines are kept, so the run restarts from its last good state)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(parts, tmp)
        digest = sha256_file(tmp)
    atomic_write_text(_digest_path(path), digest + "\n")


def save_checkpoint(path: Path, **parts) -> dict:
    """Save the training state plus the current RNG states; returns everything saved."""
    parts["rng"] = rng_state()
    write_checkpoint(path, parts)
    return parts


def load_checkpoint(path: Path) -> dict:
    path = Path(path)
    digest_path = _digest_path(path)
    expected = digest_path.read_text(encoding="utf-8").strip() if digest_path.exists() else None
    if expected is None or sha256_file(path) != expected:
        why = f"{digest_path.name} is missing" if expected is None else "its bytes do not match its sha256"
        raise TrainingError(f"checkpoint {path} cannot be trusted ({why}): it was altered or only partly "
                            f"written; start the run afresh with --overwrite, or restore the run from its "
                            f"resume state (--resume-state)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(f"cannot read checkpoint {path}: {exc}") from exc
