"""A run folder started afresh (``--overwrite``): what a previous run left that a new one would not simply
overwrite is removed; nothing else in the folder is touched."""
from __future__ import annotations

from pathlib import Path

from .checkpoint import CHECKPOINT_NAME

LEFT_BY_A_RUN = (CHECKPOINT_NAME, f"{CHECKPOINT_NAME}.sha256", "metrics.jsonl", "summary.json")


def clear_run(out: Path) -> list[str]:
    """Remove the previous run's checkpoint, log and summary from ``out``; returns the names removed."""
    removed = []
    for name in LEFT_BY_A_RUN:
        path = Path(out) / name
        if path.exists():
            path.unlink()
            removed.append(name)
    return removed
