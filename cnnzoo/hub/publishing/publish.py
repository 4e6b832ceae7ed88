"""Publishing a weight as a Hugging Face Hub repo: ``model.safetensors``, ``config.json``, ``README.md``.

``build_hub_folder`` writes the folder (what ``--dry-run DIR`` leaves for inspection); ``publish`` uploads it
with ``huggingface_hub.HfApi.upload_folder`` and records the repo in the weights index so that the resolver
finds it there.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ...errors import InvalidArgumentError
from ...models._measure import build_on_meta
from ...registry import get_model_spec, split_model_name_tag
from ..adapt import first_conv_key
from ..files.io import copy_atomic, write_json_atomic, write_text_atomic
from ..index.store import get_entry, upsert_entry
from ..pretrained import resolve_weights
from .model_card import hub_config, model_card

FILES = ("model.safetensors", "config.json", "README.md")


def _info(weights) -> dict:
    """Everything known about the weight: its index entry over its header metadata."""
    info = {k: v for k, v in weights.metadata.items() if v is not None}
    info.update({k: v for k, v in (weights.entry or {}).items() if v is not None})
    info.update(architecture=weights.arch, tag=weights.tag, sha256=weights.sha256,
                size=weights.path.stat().st_size, num_classes=weights.num_classes)
    for key in ("input_size", "mean", "std"):
        if key not in info:
            raise InvalidArgumentError(f"{weights.path} does not say its {key}; publish needs a self-describing "
                                       f"weight (saved with cnnzoo.hub.files.io.save_weights) or an index entry")
    return info


def build_hub_folder(name: str, out_dir: str | os.PathLike, repo_id: str,
                     weights_path: str | os.PathLike | None = None) -> Path:
    """Write the Hub layout of weight ``name`` (``arch.tag``) into ``out_dir``; returns the folder."""
    arch, tag = split_model_name_tag(name)
    if tag is None:
        raise InvalidArgumentError(f"publish needs a weight name ARCH.TAG, got {name!r}")
    _check_repo_id(repo_id)
    spec = get_model_spec(arch)
    weights = resolve_weights(spec.name, tag=tag, path=weights_path)
    info = _info(weights)
    model = build_on_meta(spec.name, num_classes=weights.num_classes, in_chans=int(info["input_size"][0]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    copy_atomic(weights.path, out / "model.safetensors")
    write_json_atomic(out / "config.json", hub_config(spec.name, info, model.num_features, first_conv_key(model)))
    write_text_atomic(out / "README.md", model_card(f"{spec.name}.{tag}", repo_id, spec.family, info))
    return out


def _check_repo_id(repo_id: str) -> None:
    import re

    if not isinstance(repo_id, str) or not re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo_id):
        raise InvalidArgumentError(f"--repo-id must be ORG/NAME (e.g. cnnzoo/resnet20.cifar10), got {repo_id!r}")


def publish(name: str, repo_id: str, dry_run_dir: str | os.PathLike | None = None,
            weights_path: str | os.PathLike | None = None, private: bool = False, token: str | None = None,
            update_index: bool = True) -> str:
    """Build the folder and upload it (or, with ``dry_run_dir``, only build it there). Returns the folder
    path (dry run) or the commit URL."""
    if dry_run_dir is not None:
        return str(build_hub_folder(name, dry_run_dir, repo_id, weights_path))
    from huggingface_hub import HfApi

    with tempfile.TemporaryDirectory(prefix="cnnzoo-publish-") as tmp:
        folder = build_hub_folder(name, tmp, repo_id, weights_path)
        api = HfApi(token=token)
        api.create_repo(repo_id, exist_ok=True, private=private)
        commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder),
                                   commit_message=f"cnnzoo publish {name}")
    if update_index:
        _record_repo(name, repo_id)
    return str(getattr(commit, "commit_url", commit))


def _record_repo(name: str, repo_id: str) -> None:
    """Name the Hub repo in the weight's index entry, so the resolver's last step finds it."""
    entry = get_entry(name)
    if entry is not None and entry.get("hf_repo_id") != repo_id:
        entry.update(hf_repo_id=repo_id, hf_filename="model.safetensors")
        upsert_entry(entry)
