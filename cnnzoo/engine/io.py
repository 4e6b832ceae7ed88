"""Atomic file writes for run folders: the hub's writer (a temporary name in the same folder, fsync, rename;
the mode open() would give under the umask)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..hub.files.io import atomic_path, write_text_atomic

__all__ = ["atomic_path", "atomic_write_text", "fsync_dir"]


def atomic_write_text(path: str | Path, text: str) -> None:
    write_text_atomic(path, text)


def fsync_dir(folder: str | Path) -> None:
    """Make the renames into ``folder`` durable (a power cut after it keeps them); a no-op where folders
    cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
