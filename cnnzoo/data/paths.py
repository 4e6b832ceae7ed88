"""Where data and caches live: ``$CNNZOO_DATA`` (default ``~/.cache/cnnzoo/data``) and ``$CNNZOO_CACHE``
(default ``~/.cache/cnnzoo``)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    return Path(os.environ.get("CNNZOO_CACHE", Path.home() / ".cache" / "cnnzoo")).expanduser()


def data_root() -> Path:
    env = os.environ.get("CNNZOO_DATA")
    return Path(env).expanduser() if env else cache_dir() / "data"
