"""Atomic file writes for run folders: the hub's writer (a temporary name in the same folder, fsync, rename;
the mode open() would give under the umask)."""
from __future__ import annotations

from pathlib import Path

from ..hub.files.io import atomic_path, write_text_atomic

__all__ = ["atomic_path", "atomic_write_text"]


def atomic_write_text(path: str | Path, text: str) -> None:
    write_text_atomic(path, text)
