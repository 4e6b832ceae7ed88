"""A weight from a plain URL into the torch hub cache (``$TORCH_HOME/hub/checkpoints``), like torchvision's.

The file is streamed to a temporary name beside its destination and hashed on the way; only a file with the
expected sha256 is renamed into place, so the cache never holds a partial or substituted download.
``CNNZOO_DOWNLOAD_TIMEOUT`` (seconds, default 30) bounds each network read, here and in the downloads that
torchvision and torch.hub make for the importers (which pass no timeout of their own: :func:`socket_timeout`).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import torch

from ...errors import InvalidArgumentError, WeightIntegrityError
from .io import atomic_path

TIMEOUT_ENV = "CNNZOO_DOWNLOAD_TIMEOUT"
logger = logging.getLogger("cnnzoo")


def env_timeout(name: str = TIMEOUT_ENV, default: float = 30.0) -> float:
    """Seconds from the environment variable ``name``; a value that is not a positive number is refused."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise InvalidArgumentError(f"{name}={raw!r} must be a number of seconds > 0 (default {default:g})")
    return value


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Every socket opened inside gets ``seconds`` as its timeout (for libraries that set none)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def unreachable(url: str, timeout: float) -> str | None:
    """None when the host of ``url`` answers a HEAD request within ``timeout`` seconds (any HTTP status counts);
    else one line saying why (timed out, refused, no such host), so a dead host costs one timeout, not retries."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None  # it answered
    except (OSError, ValueError) as exc:  # URLError, TimeoutError, ConnectionError; ValueError: a malformed URL
        reason = getattr(exc, "reason", exc)
        text = "timed out" if isinstance(reason, (TimeoutError, socket.timeout)) else str(reason).strip()
        return f"{url} did not answer ({text[:160]}; waited at most {timeout:g} s)"


def torch_hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_download_path(url: str) -> Path:
    """Where the download of ``url`` is kept: its file name under the torch hub cache."""
    return torch_hub_checkpoints() / Path(urlparse(url).path).name


def download_verified(url: str, sha256: str, dest: Path | None = None, chunk_size: int = 1 << 20) -> Path:
    """Download ``url`` to ``dest`` (default :func:`cached_download_path`) if its bytes have ``sha256``."""
    dest = Path(dest) if dest is not None else cached_download_path(url)
    timeout = env_timeout()
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
