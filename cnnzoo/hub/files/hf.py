"""The Hugging Face Hub as a place to find a file: its local cache first, then a download.

huggingface_hub is imported only here, inside the functions, so ``import cnnzoo`` never imports it. The
environment is read at call time (huggingface_hub reads it once, at its own import): ``HF_HUB_OFFLINE``,
``HF_HOME`` / ``HF_HUB_CACHE``, ``HF_ENDPOINT`` (a mirror of the Hub), ``HF_HUB_ETAG_TIMEOUT``; the token is
huggingface_hub's own (``HF_TOKEN`` or the saved login).

Each function returns the file, or None after appending one line to ``looked`` that says why not.

A download first checks that the endpoint answers at all (one HEAD request, ``HF_HUB_ETAG_TIMEOUT`` seconds,
default 10): huggingface_hub retries a silent host five times and then again with a 60-second timeout, minutes
in all; then huggingface_hub runs with every timeout it has set from the environment as it is now.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ...version import __version__
from .download import env_timeout, unreachable

DEFAULT_ENDPOINT = "https://huggingface.co"

_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hf_cache_dir() -> str | None:
    """The Hub cache as the environment says now."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return os.environ[var]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _where(repo_id: str, filename: str, revision: str | None) -> str:
    return f"{repo_id}/{filename}{'@' + revision if revision else ''}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {(text.splitlines()[0] if text else '')[:200]}"


def from_hf_cache(repo_id: str, filename: str, revision: str | None, looked: list[str]) -> Path | None:
    """The file as the local Hub cache holds it for ``revision`` (a branch, tag or commit), without network."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        looked.append(f"Hugging Face cache {_where(repo_id, filename, revision)}: huggingface_hub is not installed")
        return None
    found = try_to_load_from_cache(repo_id, filename, cache_dir=hf_cache_dir(), revision=revision)
    if isinstance(found, str):
        return Path(found)
    looked.append(f"Hugging Face cache {_where(repo_id, filename, revision)} "
                  f"[{hf_cache_dir() or 'default cache'}]: not there")
    return None


def download_from_hf_hub(repo_id: str, filename: str, revision: str | None, looked: list[str]) -> Path | None:
    """Download into the Hub cache (huggingface_hub writes it atomically); skipped when HF_HUB_OFFLINE=1."""
    where = f"Hugging Face Hub {_where(repo_id, filename, revision)}"
    if hub_offline():
        looked.append(f"{where}: not downloaded (HF_HUB_OFFLINE=1)")
        return None
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        looked.append(f"{where}: huggingface_hub is not installed")
        return None
    endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    timeout = env_timeout("HF_HUB_ETAG_TIMEOUT", 10.0)
    dead = unreachable(endpoint, timeout)
    if dead is not None:
        looked.append(f"{where} [online]: {dead}; without a network set HF_HUB_OFFLINE=1 (a mirror: HF_ENDPOINT)")
        return None
    try:
        with hub_timeouts(timeout, env_timeout("HF_HUB_DOWNLOAD_TIMEOUT", 10.0)):
            return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=hf_cache_dir(),
                                        endpoint=endpoint, etag_timeout=timeout,
                                        library_name="cnnzoo", library_version=__version__))
    except Exception as exc:  # missing repo or file, network, authentication: one line of the final error
        looked.append(f"{where} [online]: {_first_line(exc)}")
        return None


@contextlib.contextmanager
def hub_timeouts(metadata_s: float, download_s: float):
    """huggingface_hub's timeouts as the environment says now (it reads them once, at import), including the
    60-second retry of a metadata request that it does not expose; restored afterwards."""
    from huggingface_hub import constants, file_download

    saved = [(constants, "HF_HUB_ETAG_TIMEOUT", metadata_s), (constants, "HF_HUB_DOWNLOAD_TIMEOUT", download_s),
             (file_download, "_ETAG_RETRY_TIMEOUT", metadata_s)]
    saved = [(mod, name, getattr(mod, name), value) for mod, name, value in saved if hasattr(mod, name)]
    for mod, name, _, value in saved:
        setattr(mod, name, value)
    try:
        yield
    finally:
        for mod, name, old, _ in saved:
            setattr(mod, name, old)
