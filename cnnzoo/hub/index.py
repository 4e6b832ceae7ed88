"""Reads weights/index.json, the single source of truth about published weights.

The index lives in the repository's ``weights/`` folder; ``cnnzoo/hub/index.json`` is a symlink to it so that
an installed wheel carries a copy.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

INDEX_NAME = "index.json"
PACKAGED_INDEX = Path(__file__).with_name(INDEX_NAME)


def checkout_weights_dir() -> Path | None:
    """``weights/`` of a source checkout or torch.hub clone (the folder above the package), if present."""
    candidate = Path(__file__).resolve().parents[2] / "weights"
    return candidate if (candidate / INDEX_NAME).is_file() else None


def index_path() -> Path:
    checkout = checkout_weights_dir()
    return checkout / INDEX_NAME if checkout is not None else PACKAGED_INDEX


@functools.lru_cache(maxsize=None)
def _read(path: str, mtime: float) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data.get("weights", {})


def load_index() -> dict[str, dict]:
    """``{"arch.tag": entry}`` for every published weight (re-read when the file changes)."""
    path = index_path()
    if not path.is_file():
        return {}
    return _read(str(path), path.stat().st_mtime)


def list_weight_names() -> list[str]:
    return sorted(load_index())


def weights_for_arch(arch: str) -> list[str]:
    return [name for name in list_weight_names() if name.split(".", 1)[0] == arch]
