"""Where a weight file is. An indexed weight is looked for in this order, local copies before any network:

1. ``$CNNZOO_WEIGHTS`` (a folder of files named as in the index);
2. the checkout's ``weights/`` (a source checkout or a torch.hub clone);
3. the local Hugging Face cache (``hf_repo_id`` at ``hf_revision``);
4. the torch hub cache, where an earlier download of ``url`` was kept;
5. a Hugging Face Hub download (``huggingface_hub.hf_hub_download``);
6. a download of ``url`` into the torch hub cache.

``HF_HUB_OFFLINE=1`` (or ``CNNZOO_OFFLINE=1``) skips the two downloads. Each step that misses is remembered, so
when nothing resolves the error lists every place looked and says how to provide the file offline. An explicit
path (a file, a folder, ``hf-hub:ORG/NAME[@REVISION]``) is looked for only where it says. Finding a file
verifies nothing: the caller checks the bytes it loads.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ...errors import WeightsNotFoundError
from ..index import store as index_store
from ..index.remote import HF_FILENAME
from .download import cached_download_path, download_verified
from .hf import download_from_hf_hub, from_hf_cache, hf_cache_dir, hub_offline

WEIGHTS_ENV = "CNNZOO_WEIGHTS"
CACHE_ENV = "CNNZOO_CACHE"
OFFLINE_ENV = "CNNZOO_OFFLINE"
HF_PREFIX = "hf-hub:"
LOCAL_PREFIX = "local-dir:"
CONFIG_FILENAME = "config.json"


@dataclass(frozen=True)
class Located:
    path: Path
    source: str  # "explicit path", "$CNNZOO_WEIGHTS", "checkout weights/", "Hugging Face cache", ...


def cache_dir() -> Path:
    """cnnzoo's own cache (imported ImageNet weights): ``$CNNZOO_CACHE`` or ``~/.cache/cnnzoo``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnzoo"


def offline() -> bool:
    """No downloads at all: ``HF_HUB_OFFLINE=1`` or ``CNNZOO_OFFLINE=1``."""
    return hub_offline() or os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def split_hub_id(text: str) -> tuple[str, str | None]:
    """``ORG/NAME@REVISION`` (timm's form) -> (repo id, revision or None)."""
    repo_id, _, revision = text.strip("/").partition("@")
    return repo_id, revision or None


def locate_in_hub_repo(repo_id: str, filename: str, revision: str | None = None) -> Located:
    """A file of a Hub repo: the local Hugging Face cache, then (unless offline) a download."""
    looked: list[str] = []
    found = from_hf_cache(repo_id, filename, revision, looked)
    if found is not None:
        return Located(found, "Hugging Face cache")
    found = download_from_hf_hub(repo_id, filename, revision, looked) if not offline() else None
    if found is not None:
        return Located(found, "Hugging Face Hub")
    raise WeightsNotFoundError(f"could not get {filename} from the Hugging Face Hub repo {repo_id!r}. Looked in:\n"
                               "  " + "\n  ".join(looked) + f"\nOffline: fill the Hub cache on a connected machine "
                               f"(`hf download {repo_id}`) and copy it here (HF_HOME / HF_HUB_CACHE).")


def _in_directory(folder: Path, filename: str | None) -> Path | None:
    for name in (filename, HF_FILENAME):
        if name and (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.safetensors"))
    return found[0] if len(found) == 1 else None


def locate_explicit(path: str | os.PathLike, filename: str | None = None) -> Located:
    """A file, a directory holding one safetensors file (``model.safetensors`` of a Hub folder, or
    ``filename``), ``local-dir:FOLDER`` or ``hf-hub:ORG/NAME[@REVISION]``."""
    text = str(path)
    if text.startswith(HF_PREFIX):
        return locate_in_hub_repo(*_hub_file(text, HF_FILENAME))
    p = _local_path(path)
    if p.is_file():
        return Located(p, "explicit path")
    if p.is_dir():
        found = _in_directory(p, filename)
        if found is not None:
            return Located(found, "explicit path")
        listing = ", ".join(sorted(x.name for x in p.iterdir())[:20]) or "empty"
        raise WeightsNotFoundError(f"directory {p} holds no single weight file (looked for "
                                   f"{filename or HF_FILENAME} or one *.safetensors; it contains: {listing})")
    raise WeightsNotFoundError(f"weight file {p} does not exist")


def _local_path(path: str | os.PathLike) -> Path:
    text = str(path)
    return Path(text[len(LOCAL_PREFIX):] if text.startswith(LOCAL_PREFIX) else path).expanduser()


def _hub_file(text: str, filename: str) -> tuple[str, str, str | None]:
    repo_id, revision = split_hub_id(text[len(HF_PREFIX):])
    return repo_id, filename, revision


def locate_config(source: str | os.PathLike) -> Path | None:
    """The ``config.json`` beside an explicit weight (a Hub repo or a folder), if there is one."""
    text = str(source)
    if text.startswith(HF_PREFIX):
        try:
            return locate_in_hub_repo(*_hub_file(text, CONFIG_FILENAME)).path
        except WeightsNotFoundError:
            return None
    p = _local_path(source)
    candidate = (p if p.is_dir() else p.parent) / CONFIG_FILENAME
    return candidate if candidate.is_file() else None


def _local(filename: str, looked: list[str]) -> Located | None:
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        candidate = Path(env).expanduser() / filename
        if candidate.is_file():
            return Located(candidate, "$CNNZOO_WEIGHTS")
        looked.append(f"$CNNZOO_WEIGHTS: {candidate} (not there)")
    else:
        looked.append("$CNNZOO_WEIGHTS: not set")
    checkout = index_store.checkout_weights_dir()
    if checkout is None:
        looked.append("checkout weights/: not a source checkout")
        return None
    candidate = checkout / filename
    if candidate.is_file():
        return Located(candidate, "checkout weights/")
    looked.append(f"checkout weights/: {candidate} (not there)")
    return None


def _download_url(url: str, sha256: str, looked: list[str]) -> Path | None:
    try:
        return download_verified(url, sha256)
    except OSError as exc:  # URLError, timeouts, HTTP errors: one line of the final error
        looked.append(f"URL {url}: {type(exc).__name__}: {str(exc).strip()[:200]}")
        return None


def locate(entry: Mapping, what: str | None = None) -> Located:
    """Find the file of index ``entry`` by the resolution order; the error lists every place looked.

    A download from ``url`` is checked against the entry's sha256 before it is kept (a wrong one raises
    :class:`WeightIntegrityError`); every file found is checked again by whoever loads it.
    """
    filename, repo_id, url = entry["file"], entry.get("hf_repo_id"), entry.get("url")
    hf_file, revision = entry.get("hf_filename") or HF_FILENAME, entry.get("hf_revision")
    looked: list[str] = []
    found = _local(filename, looked)
    if found is not None:
        return found
    if repo_id:
        path = from_hf_cache(repo_id, hf_file, revision, looked)
        if path is not None:
            return Located(path, "Hugging Face cache")
    else:
        looked.append("Hugging Face Hub: the index names no hf_repo_id for this weight")
    if url:
        if cached_download_path(url).is_file():
            return Located(cached_download_path(url), "torch hub cache")
        looked.append(f"torch hub cache: {cached_download_path(url)} (not there)")
    else:
        looked.append("URL: the index names no url for this weight")
    if offline():
        looked.append("downloads: none tried (HF_HUB_OFFLINE=1 or CNNZOO_OFFLINE=1)")
    else:
        path = download_from_hf_hub(repo_id, hf_file, revision, looked) if repo_id else None
        if path is not None:
            return Located(path, "Hugging Face Hub")
        path = _download_url(url, entry["sha256"], looked) if url else None
        if path is not None:
            return Located(path, "URL")
    raise WeightsNotFoundError(f"weight {what or filename} not found. Looked in:\n  " + "\n  ".join(looked)
                               + "\nTo use it offline: " + "; ".join(_how_offline(filename, repo_id, revision))
                               + ".")


def _how_offline(filename: str, repo_id: str | None, revision: str | None) -> list[str]:
    how = [f"put {filename} in a folder and set CNNZOO_WEIGHTS=that folder"]
    if repo_id:
        how.append(f"or fill the Hub cache on a connected machine (`hf download {repo_id}"
                   f"{' --revision ' + revision if revision else ''}`) and copy it here "
                   f"(HF_HOME / HF_HUB_CACHE, now {hf_cache_dir() or 'the default ~/.cache/huggingface/hub'})")
    how.append("or pass pretrained=PATH to the file or its folder")
    return how
