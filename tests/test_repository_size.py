"""What the repository may hold: no tracked file over 2 MB outside weights/, resume states included (a dataset,
a run folder or a large state is refused by the repository's check, and would stay in git's history once
committed). The weights' own budget is checked in test_published_weights.py."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_FILE_BYTES = 2 * 10**6


def _tracked_files() -> list[Path]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout (an sdist or wheel): nothing is tracked")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [p for p in (REPO / name for name in listing.decode().split("\0") if name) if p.is_file()]


def _top_folder(path: Path) -> str:
    return path.relative_to(REPO).parts[0]


def test_no_tracked_file_over_2mb_outside_weights():
    tracked = _tracked_files()
    too_big = [f"{p.relative_to(REPO)} ({p.stat().st_size / 1e6:.1f} MB)" for p in tracked
               if _top_folder(p) != "weights" and p.stat().st_size > MAX_FILE_BYTES]
    assert too_big == []
    assert len(tracked) > 100  # the listing is the repository's, not an empty one
