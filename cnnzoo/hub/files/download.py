"""A weight from a plain URL into the torch hub cache (``$TORCH_HOME/hub/checkpoints``), like torchvision's.

The file is streamed to a temporary name beside its destination and hashed on the way; only a file with the
expected sha256 is renamed into place, so the cache never holds a partial or substituted download.
``CNNZOO_DOWNLOAD_TIMEOUT`` (seconds, default 30) bounds each network read.
"""
from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import torch

from ...errors import WeightIntegrityError
from .io import atomic_path

TIMEOUT_ENV = "CNNZOO_DOWNLOAD_TIMEOUT"
logger = logging.getLogger("cnnzoo")


def torch_hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_download_path(url: str) -> Path:
    """Where the download of ``url`` is kept: its file name under the torch hub cache."""
    return torch_hub_checkpoints() / Path(urlparse(url).path).name


def download_verified(url: str, sha256: str, dest: Path | None = None, chunk_size: int = 1 << 20) -> Path:
    """Download ``url`` to ``dest`` (default :func:`cached_download_path`) if its bytes have ``sha256``."""
    dest = Path(dest) if dest is not None else cached_download_path(url)
    timeout = float(os.environ.get(TIMEOUT_ENV, 30))
    logger.info("cnnzoo: downloading %s to %s", url, dest)
    digest = hashlib.sha256()
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            for block in iter(lambda: response.read(chunk_size), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha256.lower():
            raise WeightIntegrityError(
                f"download of {url} is not the published file: sha256 mismatch\n  expected {sha256}\n"
                f"  actual   {digest.hexdigest()}\nNothing was kept; the mirror or the URL is wrong.")
    return dest
