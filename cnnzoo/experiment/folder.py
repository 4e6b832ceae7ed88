"""The layout of a results folder: ``experiment.json`` (the grid's record), ``runs/<cell-id>/`` (one engine run a
cell), ``replaced/`` (runs set aside by ``force``), and the status a run directory is in."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import CnnzooError

SPEC_FILE = "experiment.json"
RUNS_DIR = "runs"
REPLACED_DIR = "replaced"
FAILED_FILE = "failed.json"
# the results folder may move; threads change speed, not results (a run may resume under another --jobs)
IGNORED_CONFIG_KEYS = ("out", "threads")


class ResultsFolderError(CnnzooError, OSError):
    """A results folder that cannot be written (permissions, disk full) or that is not an experiment folder."""


def run_status(run_dir: Path) -> str:
    if (run_dir / "summary.json").is_file():
        return "finished"
    if (run_dir / FAILED_FILE).is_file():
        return "failed"
    if (run_dir / "checkpoint.pt").is_file():
        return "interrupted"
    return "new"


def load_record(out: Path) -> dict | None:
    path = Path(out) / SPEC_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsFolderError(f"cannot read {path}: {exc}") from exc
