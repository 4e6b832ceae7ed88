"""Per-epoch checkpoints for exact resume: model, optimiser, scheduler, grad scaler, EMA, epoch, RNG states.

A run folder keeps two: ``checkpoint.pt`` (the latest) and ``checkpoint.prev.pt`` (the one before), each beside
a ``.sha256`` file. A checkpoint is read only when its bytes hash to a digest this run recorded, with
``torch.load(weights_only=True)`` on those same bytes, so loading never runs code and an altered or torn file is
never resumed. A new checkpoint is written to a unique temporary (fsynced) first, and the latest good one becomes
the previous one only then; at every instant of the sequence in :func:`write_checkpoint` one checkpoint verifies,
so a crash or a damaged latest file costs at most one epoch, and :func:`load_checkpoint` says when it falls back.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import warnings
from pathlib import Path

import torch

from ..errors import TrainingError
from ..hub.files.io import sha256_file
from .io import atomic_path, atomic_write_text, fsync_dir

CHECKPOINT_NAME = "checkpoint.pt"
PREVIOUS_NAME = "checkpoint.prev.pt"


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


def config_sha256(config: dict | None) -> str:
    """The identity of a run's settings: sha256 of their canonical JSON."""
    return hashlib.sha256(json.dumps(config or {}, sort_keys=True, default=str).encode()).hexdigest()


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _previous(path: Path) -> Path:
    return path.with_name(PREVIOUS_NAME) if path.name == CHECKPOINT_NAME else path.with_name(f"{path.stem}.prev.pt")


def _recorded(path: Path) -> str | None:
    try:
        return _digest_path(path).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def run_files(path: Path) -> list[Path]:
    """Every file the checkpoints of ``path`` occupy (for starting a run folder afresh)."""
    prev = _previous(Path(path))
    return [Path(path), _digest_path(Path(path)), prev, _digest_path(prev)]


def has_checkpoint(path: Path) -> bool:
    """Whether the run folder of ``path`` holds a checkpoint (the latest, or only the previous after a crash)."""
    return Path(path).exists() or _previous(Path(path)).exists()


def _hash_if_trusted(path: Path, digests: set[str]) -> str | None:
    if not path.exists():
        return None
    digest = sha256_file(path)
    return digest if digest in digests else None


def write_checkpoint(path: Path, parts: dict) -> None:
    """Save ``parts`` as the latest checkpoint; the latest one that verifies becomes the previous one.

    Order (each step atomic): the new file complete and fsynced under a temporary name -> the good latest to
    previous -> the previous digest -> the new digest -> the new file to latest. A reader accepts a file whose
    hash is in either digest file, so a crash between any two steps leaves a checkpoint that verifies.
    """
    path = Path(path)
    prev = _previous(path)
    with atomic_path(path) as tmp:
        torch.save(parts, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        digests = {d for d in (_recorded(path), _recorded(prev)) if d}
        kept = _hash_if_trusted(path, digests)
        if kept is not None:
            os.replace(path, prev)
        else:  # the latest is damaged or missing (a crash): the previous stays, if it is good
            kept = _hash_if_trusted(prev, digests)
        if kept is not None and kept != _recorded(prev):
            atomic_write_text(_digest_path(prev), kept + "\n")
        atomic_write_text(_digest_path(path), digest + "\n")
    fsync_dir(path.parent)


def save_checkpoint(path: Path, **parts) -> dict:
    """Save the training state plus the current RNG states and the config's hash; returns everything saved."""
    parts["rng"] = rng_state()
    if "config" in parts:
        parts["config_sha256"] = config_sha256(parts["config"])
    write_checkpoint(path, parts)
    return parts


def _verified_bytes(path: Path, digests: set[str]) -> tuple[bytes | None, str]:
    """The bytes of ``path`` when they hash to one of ``digests``, else (None, why)."""
    if not path.exists():
        return None, "it is missing"
    if not digests:
        return None, f"{_digest_path(path).name} is missing"
    data = path.read_bytes()  # read once: what is hashed is what is loaded
    if hashlib.sha256(data).hexdigest() not in digests:
        return None, "its bytes do not match its sha256"
    return data, ""


def _parse(data: bytes, path: Path) -> dict:
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise TrainingError(f"checkpoint {path} holds a {type(state).__name__}, not a training state")
    if "config_sha256" in state and state["config_sha256"] != config_sha256(state.get("config")):
        raise TrainingError(f"checkpoint {path}: its config does not match its config_sha256")
    return state


def load_latest(path: Path) -> tuple[dict, Path]:
    """``(state, file read)``: the latest checkpoint of ``path``'s run that verifies, falling back (with a
    warning) to the previous one when the latest is damaged or was never completed."""
    path = Path(path)
    prev = _previous(path)
    digests = {d for d in (_recorded(path), _recorded(prev)) if d}
    data, why = _verified_bytes(path, digests)
    if data is not None:
        return _parse(data, path), path
    back, _ = _verified_bytes(prev, digests)
    if back is not None:
        state = _parse(back, prev)
        warnings.warn(f"checkpoint {path} cannot be trusted ({why}); resuming from the previous one, {prev.name} "
                      f"(epoch {state.get('epoch')!r}): one epoch is trained again", stacklevel=2)
        return state, prev
    raise TrainingError(f"checkpoint {path} cannot be trusted ({why}): it was altered or only partly "
                        f"written, and no previous checkpoint verifies either; start the run afresh with "
                        f"--overwrite, or restore the run from its resume state (--resume-state)")


def load_checkpoint(path: Path) -> dict:
    """The training state of ``path``'s run (see :func:`load_latest`)."""
    return load_latest(path)[0]
