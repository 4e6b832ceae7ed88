"""A run's resume state in a form that can be committed and carried to another machine.

``checkpoint.pt`` lives in the run folder, which is not tracked. A long CPU run that must outlive its machine also
writes, after every epoch, a *resume state* folder meant to be committed (by default under ``resume/`` at the
repository root, which the wheel does not ship):

- ``state-<sha12>.safetensors``: every tensor of the checkpoint (model, optimiser, EMA, RNG), exact fp32 bytes;
- ``metrics.jsonl``: the run's log so far (curves and elapsed time continue where they stopped);
- ``manifest.json``: the checkpoint's non-tensor parts (epoch, config, scheduler, python RNG), the sha256 of the
  two files above, and its own sha256 over the rest of the manifest.

The state file's name carries its hash, and the manifest is replaced last, so a write stopped half-way leaves the
previous state whole; older state files are then deleted (the folder is replaced, not accumulated). Restoring
checks every hash before a byte is used and never unpickles anything.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import TrainingError
from ..hub.files.io import sha256_file
from .checkpoint import CHECKPOINT_NAME, write_checkpoint
from .io import atomic_path, atomic_write_text

MANIFEST = "manifest.json"
METRICS = "metrics.jsonl"
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


def write_resume_state(folder: str | Path, checkpoint: dict, metrics_path: Path) -> Path:
    """Write ``checkpoint`` (the dict ``save_checkpoint`` stores) and the run's metrics log into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _pack(checkpoint, "ckpt", tensors)
    staged = folder / ".state.safetensors"
    with atomic_path(staged) as tmp:
        save_file(tensors, str(tmp))
    digest = sha256_file(staged)
    state_name = f"state-{digest[:12]}.safetensors"
    staged.replace(folder / state_name)
    metrics_text = metrics_path.read_text(encoding="utf-8") if metrics_path.exists() else ""
    atomic_write_text(folder / METRICS, metrics_text)
    manifest = dict(format=FORMAT, epoch=int(checkpoint["epoch"]), state=state_name, state_sha256=digest,
                    state_bytes=(folder / state_name).stat().st_size,
                    metrics_sha256=hashlib.sha256(metrics_text.encode("utf-8")).hexdigest(),
                    config=checkpoint.get("config"), skeleton=skeleton)
    manifest["manifest_sha256"] = _manifest_hash(manifest)
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    for old in folder.glob("state-*.safetensors"):
        if old.name != state_name:
            old.unlink()
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
    state_path = folder / manifest["state"]
    metrics_text = (folder / METRICS).read_text(encoding="utf-8") if (folder / METRICS).exists() else None
    if not state_path.exists() or sha256_file(state_path) != manifest["state_sha256"] or metrics_text is None \
            or hashlib.sha256(metrics_text.encode("utf-8")).hexdigest() != manifest["metrics_sha256"]:
        raise TrainingError(f"the resume state in {folder} does not match its manifest (a file is missing or "
                            f"altered); restore it from git (`git checkout -- {folder}`) or start the run afresh")
    return _unpack(manifest["skeleton"], load_file(str(state_path))), metrics_text


def restore_run(folder: str | Path, run_dir: str | Path) -> int:
    """Recreate ``run_dir``'s checkpoint and metrics log from a resume state; returns the epoch it resumes at."""
    checkpoint, metrics_text = load_resume_state(folder)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
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
