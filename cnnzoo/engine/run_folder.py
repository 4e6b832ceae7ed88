"""A run folder's housekeeping: what a run started afresh (``--overwrite``) removes, and the temporaries a
killed writer left behind. Nothing else in the folder is touched."""
from __future__ import annotations

import re
from pathlib import Path

from .checkpoint import CHECKPOINT_NAME, PREVIOUS_NAME

LEFT_BY_A_RUN = (CHECKPOINT_NAME, f"{CHECKPOINT_NAME}.sha256", PREVIOUS_NAME, f"{PREVIOUS_NAME}.sha256",
                 "metrics.jsonl", "summary.json")
# the atomic writer's temporaries: "." + the file's name + "." + mkstemp's random part + ".tmp"
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def clear_run(out: Path) -> list[str]:
    """Remove the previous run's checkpoints, log and summary from ``out``; returns the names removed."""
    removed = []
    for name in LEFT_BY_A_RUN:
        path = Path(out) / name
        if path.exists():
            path.unlink()
            removed.append(name)
    return removed


def remove_temporaries(folder: Path) -> list[str]:
    """Delete the atomic writer's temporaries in ``folder`` (only its writer may be running: call at start)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = [p.name for p in folder.iterdir() if p.is_file() and _TEMPORARY.match(p.name)]
    for name in removed:
        (folder / name).unlink(missing_ok=True)
    return removed
