"""Where a weight file is: explicit path -> ``$CNNZOO_WEIGHTS`` -> checkout ``weights/`` -> Hugging Face Hub.

Each step that misses is remembered, so when nothing resolves the error lists every place looked and says how
to provide the file offline. The Hub step goes through ``huggingface_hub.hf_hub_download`` (its cache, its
atomic downloads) and honours ``HF_HUB_OFFLINE=1`` read at call time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...errors import WeightsNotFoundError
from ...version import __version__
from ..index import store as index_store

WEIGHTS_ENV = "CNNZOO_WEIGHTS"
CACHE_ENV = "CNNZOO_CACHE"
HF_PREFIX = "hf-hub:"
HF_FILENAME = "model.safetensors"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Located:
    path: Path
    source: str  # "explicit path", "$CNNZOO_WEIGHTS", "checkout weights/", "Hugging Face Hub", "cnnzoo cache"


def cache_dir() -> Path:
    """cnnzoo's own cache (imported ImageNet weights): ``$CNNZOO_CACHE`` or ``~/.cache/cnnzoo``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnzoo"


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hf_cache_dir() -> str | None:
    """The Hub cache as the environment says now (huggingface_hub reads it once, at its import)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return os.environ[var]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _in_directory(folder: Path, filename: str | None) -> Path | None:
    for name in (filename, HF_FILENAME):
        if name and (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.safetensors"))
    return found[0] if len(found) == 1 else None


def locate_explicit(path: str | os.PathLike, filename: str | None = None) -> Located:
    """A file, a directory holding one safetensors file (``model.safetensors`` of a Hub folder, or
    ``filename``), or ``hf-hub:ORG/NAME``."""
    text = str(path)
    if text.startswith(HF_PREFIX):
        repo_id = text[len(HF_PREFIX):].strip("/")
        looked: list[str] = []
        found = _from_hub(repo_id, HF_FILENAME, None, looked)
        if found is None:
            raise WeightsNotFoundError(f"could not get {HF_FILENAME} from the Hugging Face Hub repo {repo_id!r}:\n  "
                                       + "\n  ".join(looked))
        return Located(found, "Hugging Face Hub")
    p = Path(path).expanduser()
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


def _from_hub(repo_id: str, filename: str, revision: str | None, looked: list[str]) -> Path | None:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        looked.append(f"Hugging Face Hub {repo_id}/{filename}: huggingface_hub is not installed")
        return None
    offline = hub_offline()
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=hf_cache_dir(),
                                    local_files_only=offline, library_name="cnnzoo",
                                    library_version=__version__))
    except Exception as exc:  # offline, missing repo/file, network: each is one line of the final error
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mode = "offline (HF_HUB_OFFLINE=1), cache only" if offline else "online"
        looked.append(f"Hugging Face Hub {repo_id}/{filename} [{mode}; cache {hf_cache_dir() or 'default'}]: "
                      f"{type(exc).__name__}: {reason[:200]}")
        return None


def locate(filename: str, hf_repo_id: str | None = None, hf_filename: str | None = None,
           hf_revision: str | None = None, what: str | None = None) -> Located:
    """Find an indexed weight's file by the resolution order; the error lists every place looked."""
    looked: list[str] = []
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        candidate = Path(env).expanduser() / filename
        if candidate.is_file():
            return Located(candidate, "$CNNZOO_WEIGHTS")
        looked.append(f"$CNNZOO_WEIGHTS: {candidate} (not there)")
    else:
        looked.append("$CNNZOO_WEIGHTS: not set")
    checkout = index_store.checkout_weights_dir()
    if checkout is not None:
        candidate = checkout / filename
        if candidate.is_file():
            return Located(candidate, "checkout weights/")
        looked.append(f"checkout weights/: {candidate} (not there)")
    else:
        looked.append("checkout weights/: not a source checkout")
    if hf_repo_id:
        found = _from_hub(hf_repo_id, hf_filename or HF_FILENAME, hf_revision, looked)
        if found is not None:
            return Located(found, "Hugging Face Hub")
    else:
        looked.append("Hugging Face Hub: the index names no hf_repo_id for this weight")
    how = [f"put {filename} in a folder and set CNNZOO_WEIGHTS=that folder"]
    if hf_repo_id:
        how.append(f"or fill the Hub cache on a connected machine (`huggingface-cli download {hf_repo_id}`) and "
                   f"copy it here (HF_HOME / HF_HUB_CACHE)")
    how.append("or pass pretrained=PATH to the file or its folder")
    raise WeightsNotFoundError(f"weight {what or filename} not found. Looked in:\n  " + "\n  ".join(looked)
                               + "\nTo use it offline: " + "; ".join(how) + ".")
