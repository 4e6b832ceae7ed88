"""A run's resume state in a form that can be committed and carried to another machine.

``checkpoint.pt`` lives in the run folder, which is not tracked. A long CPU run that must outlive its machine also
writes, after every epoch, a *resume state* folder meant to be committed (by default under ``resume/`` at the
repository root, which the wheel does not ship):

- ``state-<sha12>.safetensors``: every tensor of the checkpoint (model, optimiser, EMA, RNG), exact fp32 bytes;
- ``metrics-<sha12>.jsonl``: the run's log so far (curves and elapsed time continue where they stopped);
- ``manifest.json``: the checkpoint's non-tensor parts (epoch, config and its hash, scheduler, python RNG), the
  names and sha256 of the two files above, and its own sha256 over the rest of the manifest.

Both data files are named by their hash and the manifest is replaced last, so a write stopped at any point (even
by ``kill -9``) leaves the previous state whole; files the new manifest does not name are then deleted (the
folder is replaced, not accumulated). Restoring checks every hash before a byte is used and never unpickles
anything. A state written before the log was named by its hash (``metrics.jsonl``) is read as well.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load, save

from ..errors import TrainingError
from ..hub.files.io import write_bytes_atomic
from .checkpoint import CHECKPOINT_NAME, config_sha256, write_checkpoint
from .io import atomic_write_text, fsync_dir
from .run_folder import remove_temporaries

MANIFEST = "manifest.json"
METRICS = "metrics.jsonl"  # the log's name in states written before it was named by its hash
FORMAT = "cnnzoo-resume-state/1"


def _pack(obj, path: str, tensors: dict[str, torch.Tensor]):
    """JSON skeleton of ``obj`` with tensors moved into ``tensors`` (dict keys keep their type: optimiser state
    is keyed by int)."""
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().contiguous().clone()
        return {"$tensor": path}
    if isinstance(obj, dict):
        return {"$dict": [[k, _pack(v, f"{path}/{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_pack(v, f"{path}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_pack(v, f"{path}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {path} in a resume state")


def _unpack(node, tensors: dict[str, torch.Tensor]):
    if isinstance(node, list):
        return [_unpack(v, tensors) for v in node]
    if isinstance(node, dict):
        if "$tensor" in node:
            return tensors[node["$tensor"]]
        if "$tuple" in node:
            return tuple(_unpack(v, tensors) for v in node["$tuple"])
        return {k: _unpack(v, tensors) for k, v in node["$dict"]}
    return node


def _manifest_hash(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _hashed_name(data: bytes, prefix: str, suffix: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}-{digest[:12]}{suffix}", digest


def write_resume_state(folder: str | Path, checkpoint: dict, metrics_path: Path) -> Path:
    """Write ``checkpoint`` (the dict ``save_checkpoint`` stores) and the run's metrics log into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_temporaries(folder)  # one writer per state, one write at a time: any temporary is a killed one's
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _pack(checkpoint, "ckpt", tensors)
    state_bytes = save(tensors)
    state_name, digest = _hashed_name(state_bytes, "state", ".safetensors")
    write_bytes_atomic(folder / state_name, state_bytes)
    metrics = metrics_path.read_bytes() if metrics_path.exists() else b""
    metrics_name, metrics_digest = _hashed_name(metrics, "metrics", ".jsonl")
    write_bytes_atomic(folder / metrics_name, metrics)
    config = checkpoint.get("config")
    manifest = dict(format=FORMAT, epoch=int(checkpoint["epoch"]), state=state_name, state_sha256=digest,
                    state_bytes=len(state_bytes), metrics=metrics_name, metrics_sha256=metrics_digest,
                    config=config, config_sha256=config_sha256(config), skeleton=skeleton)
    manifest["manifest_sha256"] = _manifest_hash(manifest)
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    fsync_dir(folder)
    for old in [*folder.glob("state-*.safetensors"), *folder.glob("metrics*.jsonl"), folder / ".state.safetensors"]:
        if old.name not in (state_name, metrics_name):
            old.unlink(missing_ok=True)
    return folder / MANIFEST


def read_manifest(folder: str | Path) -> dict:
    """The verified manifest of a resume state (its own hash checked)."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise TrainingError(f"no resume state in {folder} ({MANIFEST} is missing)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        ok = manifest.get("format") == FORMAT and manifest.get("manifest_sha256") == _manifest_hash(manifest)
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise TrainingError(f"{path} is damaged or was edited (its sha256 does not match); restore it from git "
                            f"(`git checkout -- {folder}`) or start the run afresh")
    return manifest


def load_resume_state(folder: str | Path) -> tuple[dict, str]:
    """``(checkpoint dict, metrics.jsonl text)`` after checking every file against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    state_path, metrics_path = folder / manifest["state"], folder / manifest.get("metrics", METRICS)
    state = state_path.read_bytes() if state_path.is_file() else None  # read once: checked, then parsed
    metrics = metrics_path.read_bytes() if metrics_path.is_file() else None
    if state is None or hashlib.sha256(state).hexdigest() != manifest["state_sha256"] or metrics is None \
            or hashlib.sha256(metrics).hexdigest() != manifest["metrics_sha256"]:
        raise TrainingError(f"the resume state in {folder} does not match its manifest (a file is missing or "
                            f"altered); restore it from git (`git checkout -- {folder}`) or start the run afresh")
    checkpoint = _unpack(manifest["skeleton"], load(state))
    if checkpoint.get("epoch") != manifest["epoch"]:
        raise TrainingError(f"the resume state in {folder} contradicts itself (epoch {manifest['epoch']} in its "
                            f"manifest, {checkpoint.get('epoch')!r} in its state)")
    return checkpoint, metrics.decode("utf-8", errors="replace")


def restore_run(folder: str | Path, run_dir: str | Path) -> int:
    """Recreate ``run_dir``'s checkpoint and metrics log from a resume state; returns the epoch it resumes at."""
    checkpoint, metrics_text = load_resume_state(folder)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_temporaries(run_dir)
    write_checkpoint(run_dir / CHECKPOINT_NAME, checkpoint)
    atomic_write_text(run_dir / METRICS, metrics_text)
    return int(checkpoint["epoch"])


def remove_resume_state(folder: str | Path) -> bool:
    """Delete a resume state folder once its weight is published; False if there was none."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        return False
    shutil.rmtree(folder)
    return True
