"""Publishing a weight as a Hugging Face Hub repo: ``model.safetensors``, ``config.json``, ``README.md``.

``publish`` writes the folder; with ``push=True`` it also uploads it with ``huggingface_hub.HfApi.upload_folder``,
tags the upload commit with the weight's pinned revision (:func:`cnnzoo.hub.index.remote.revision_tag`) and
records repo, revision and URL in the weight's index entry, so the resolver finds it there.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidArgumentError
from ...models._measure import build_on_meta
from ...registry import get_model_spec, split_model_name_tag
from ..adapt import first_conv_key
from ..files.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from ..index.remote import HF_FILENAME, remote_home, revision_tag
from ..index.store import get_entry, upsert_entry
from ..pretrained import Weights, resolve_weights
from .model_card import hub_config, model_card

FILES = (HF_FILENAME, "config.json", "README.md")


@dataclass(frozen=True)
class Published:
    folder: Path | None  # None when the folder was a temporary one (push without an output folder)
    repo_id: str
    revision: str
    commit_url: str | None  # None without push


def weight_info(weights: Weights) -> dict:
    """Everything known about the weight: its index entry over its header metadata."""
    info = {k: v for k, v in weights.metadata.items() if v is not None}
    info.update({k: v for k, v in (weights.entry or {}).items() if v is not None})
    info.update(architecture=weights.arch, tag=weights.tag, sha256=weights.sha256, size=len(weights.data),
                num_classes=weights.num_classes)
    for key in ("input_size", "mean", "std"):
        if key not in info:
            raise InvalidArgumentError(f"{weights.path} does not say its {key}; publish needs a self-describing "
                                       f"weight (saved with cnnzoo.hub.files.io.save_weights) or an index entry")
    return info


def check_repo_id(repo_id: str) -> None:
    if not isinstance(repo_id, str) or not re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo_id):
        raise InvalidArgumentError(f"--repo-id must be ORG/NAME (e.g. cnnzoo/resnet20.cifar10), got {repo_id!r}")


def write_hub_folder(weights: Weights, info: dict, out_dir: str | os.PathLike, repo_id: str,
                     indexed: bool = True) -> Path:
    """The three files of the Hub layout: the verified bytes of ``weights``, its config and model card."""
    spec = get_model_spec(weights.arch)
    model = build_on_meta(spec.name, num_classes=weights.num_classes, in_chans=int(info["input_size"][0]))
    out = Path(out_dir)
    write_bytes_atomic(out / HF_FILENAME, weights.data)
    write_json_atomic(out / "config.json", hub_config(spec.name, info, model.num_features, first_conv_key(model)))
    write_text_atomic(out / "README.md", model_card(f"{spec.name}.{info['tag']}", repo_id, spec.family, info,
                                                    indexed=indexed))
    return out


def upload_folder(folder: Path, repo_id: str, commit_message: str, revision: str | None = None,
                  private: bool = False, token: str | None = None) -> str:
    """Create the repo if needed, upload ``folder`` in one commit and (with ``revision``) tag that commit.
    Returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True, private=private)
    commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=commit_message)
    if revision:
        api.create_tag(repo_id, tag=revision, revision=commit.oid, exist_ok=True)
    return str(commit.commit_url)


def publish(name: str, out: str | os.PathLike | None = None, push: bool = False, repo_id: str | None = None,
            weights_path: str | os.PathLike | None = None, private: bool = False, token: str | None = None,
            update_index: bool = True) -> Published:
    """Write the Hub folder of weight ``name`` (``arch.tag``) into ``out``; with ``push``, upload it (``out``
    may then be None: a temporary folder) and record the remote home in the index entry."""
    arch, tag = split_model_name_tag(name)
    if tag is None:
        raise InvalidArgumentError(f"publish needs a weight name ARCH.TAG, got {name!r}")
    if out is None and not push:
        raise InvalidArgumentError("publish writes a folder (out=DIR, --out DIR) or uploads it (push=True, --push)")
    if repo_id is not None:
        check_repo_id(repo_id)
    weights = resolve_weights(get_model_spec(arch).name, tag=tag, path=weights_path)
    name = weights.name
    repo_id = repo_id or (weights.entry or {}).get("hf_repo_id") or remote_home(name, weights.sha256)["hf_repo_id"]
    revision = revision_tag(weights.sha256)
    info = weight_info(weights)
    if not push:
        return Published(write_hub_folder(weights, info, out, repo_id, weights.entry is not None), repo_id, revision,
                         None)
    with tempfile.TemporaryDirectory(prefix="cnnzoo-publish-") as tmp:
        folder = write_hub_folder(weights, info, out if out is not None else tmp, repo_id, weights.entry is not None)
        url = upload_folder(folder, repo_id, f"cnnzoo publish {name}", revision, private, token)
    if update_index and weights.entry is not None:
        _record_remote_home(name, repo_id, revision)
    return Published(Path(out) if out is not None else None, repo_id, revision, url)


def _record_remote_home(name: str, repo_id: str, revision: str) -> None:
    """Name the repo and its pinned revision in the weight's index entry; a repo outside the project's
    organisation gets the Hub's own download URL as its plain-URL fallback."""
    entry = get_entry(name)
    home = remote_home(name, entry["sha256"])
    url = home["url"] if repo_id == home["hf_repo_id"] else \
        f"https://huggingface.co/{repo_id}/resolve/{revision}/{HF_FILENAME}"
    updated = dict(entry, hf_repo_id=repo_id, hf_revision=revision, url=url)
    if updated != entry:
        upsert_entry(updated)
