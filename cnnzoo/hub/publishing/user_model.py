"""Your own model (a fine-tuned one) in the Hub layout: ``save_pretrained`` writes the folder, ``push_to_hub``
uploads it. ``cnnzoo.create_model("hf-hub:USER/NAME", pretrained=True)`` (or ``"local-dir:FOLDER"``) loads it
back, checking the sha256 that its config.json declares.

Functions rather than model methods: the model classes live below the hub in the import order.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from torch import nn

from ...errors import InvalidArgumentError
from ..files.io import save_weights
from ..pretrained import resolve_weights
from ..repo_config import DATA_KEYS
from .publish import check_repo_id, upload_folder, weight_info, write_hub_folder


def _metadata(model: nn.Module, labels: Sequence[str] | None, tag: str) -> dict:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    arch = cfg.get("architecture")
    if not arch or not hasattr(model, "num_classes"):
        raise InvalidArgumentError(f"{type(model).__name__} is not a cnnzoo classifier (no pretrained_cfg "
                                   f"architecture or num_classes); build it with cnnzoo.create_model")
    labels = list(labels) if labels is not None else cfg.get("labels")
    if labels is None or len(labels) != model.num_classes:
        raise InvalidArgumentError(f"pass labels=[...] with the model's {model.num_classes} class names (its "
                                   f"pretrained_cfg has {len(labels) if labels is not None else 'none'})")
    meta = {k: list(cfg[k]) if isinstance(cfg[k], tuple) else cfg[k] for k in DATA_KEYS if cfg.get(k) is not None}
    return dict(meta, arch=arch, tag=tag, num_classes=model.num_classes, labels=[str(x) for x in labels])


def save_pretrained(model: nn.Module, folder: str | os.PathLike, repo_id: str = "USER/NAME",
                    labels: Sequence[str] | None = None, tag: str = "finetuned", license: str | None = None) -> Path:
    """Write ``model`` as ``model.safetensors`` + ``config.json`` + ``README.md`` into ``folder``.

    ``labels`` default to ``model.pretrained_cfg["labels"]``; ``repo_id`` only appears in the card's usage line.
    """
    folder = Path(folder)
    meta = _metadata(model, labels, tag)
    if license:
        meta["license"] = license
    save_weights(model.state_dict(), folder / "model.safetensors", meta)
    weights = resolve_weights(meta["arch"], path=folder / "model.safetensors")
    return write_hub_folder(weights, weight_info(weights), folder, repo_id, indexed=False)


def push_to_hub(model: nn.Module, repo_id: str, labels: Sequence[str] | None = None, tag: str = "finetuned",
                license: str | None = None, private: bool = False, token: str | None = None,
                commit_message: str = "cnnzoo push_to_hub") -> str:
    """Upload ``model`` in the Hub layout to ``repo_id`` (created if needed); returns the commit URL."""
    check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(prefix="cnnzoo-push-") as tmp:
        folder = save_pretrained(model, tmp, repo_id, labels=labels, tag=tag, license=license)
        return upload_folder(folder, repo_id, commit_message, private=private, token=token)
