"""The layout of a results folder: ``experiment.json`` (the grid's record), ``runs/<cell-id>/`` (one engine run a
cell, with ``resume/``, its committable resume state, while it is unfinished), ``replaced/`` (runs set aside by
``force``), and the status a run directory is in."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import CnnzooError

SPEC_FILE = "experiment.json"
RUNS_DIR = "runs"
REPLACED_DIR = "replaced"
FAILED_FILE = "failed.json"
RESUME_DIR = "resume"  # an unfinished run's resume state (engine/resume_state.py): committed, so a clone carries on
# the results folder may move; threads change speed, not results (a run may resume under another --jobs)
IGNORED_CONFIG_KEYS = ("out", "threads", "resume_state")


class ResultsFolderError(CnnzooError, OSError):
    """A results folder that cannot be written (permissions, disk full) or that is not an experiment folder."""


def run_status(run_dir: Path) -> str:
    if (run_dir / "summary.json").is_file():
        return "finished"
    if (run_dir / FAILED_FILE).is_file():
        return "failed"
    if (run_dir / "checkpoint.pt").is_file() or (run_dir / RESUME_DIR / "manifest.json").is_file():
        return "interrupted"  # on this machine (checkpoint) or in a clone of the committed folder (resume state)
    return "new"


def load_record(out: Path) -> dict | None:
    path = Path(out) / SPEC_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsFolderError(f"cannot read {path}: {exc}") from exc
