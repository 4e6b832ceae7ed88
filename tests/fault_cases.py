"""The fault suite's common vocabulary (issue 24): a case, how it ended, and whether that ending is allowed.

Each ``tests/test_fault_<area>.py`` module lists ``CASES``: ``FaultCase(area, name, run, expect)``. ``run(tmp)``
performs one fault (a byte flip, a truncation, a bad value, a swap, a killed process) in the empty folder
``tmp`` and returns normally only when the library coped with it (``"recovered"``: the right result, at
most a warning). A refusal is one of cnnzoo's own errors (``CnnzooError``) or a CLI exit status 1 (the
environment) or 2 (bad input) with a one-line ``cnnzoo ...: error:`` message and no traceback. Anything else is a defect:

* ``"silent"``: ``run`` raised :class:`SilentLoad`, i.e. wrong data was accepted without a word;
* ``"traceback"``: any other exception escaped, or a CLI printed a Python traceback.

``docs/scripts/reliability_report.py`` runs every ``CASES`` list and writes ``docs/reliability.md``.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cnnzoo.errors import CnnzooError

ALLOWED = ("refused", "recovered")


class SilentLoad(AssertionError):
    """Raised by a case when the library accepted something it should have refused."""


class CliRefusal(Exception):
    """A CLI command that exited with a one-line error (status 1 or 2, no traceback)."""


@dataclass(frozen=True)
class FaultCase:
    area: str     # "weights", "caches", "checkpoints", "inputs", ...
    name: str     # short, unique within the area: "flip byte in header", "--epochs 0"
    run: Callable[[Path], object]
    expect: str = "refused"  # "refused" or "recovered": the outcome a correct library gives

    @property
    def id(self) -> str:
        return f"{self.area}: {self.name}"


def outcome(case: FaultCase, tmp: Path) -> tuple[str, str]:
    """Run ``case`` in ``tmp``; return (outcome, detail) where outcome is refused/recovered/silent/traceback."""
    try:
        case.run(tmp)
    except SilentLoad as exc:
        return "silent", str(exc)
    except CliRefusal as exc:
        return "refused", str(exc)
    except CnnzooError as exc:
        return "refused", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - classifying is the point
        return "traceback", f"{type(exc).__name__}: {exc}"
    return "recovered", ""


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300) -> str:
    """Run ``python -m cnnzoo.cli ARGS``; return stdout on success, raise CliRefusal on a clean error exit.

    A traceback on stderr, or any other exit, raises RuntimeError (classified "traceback").
    """
    proc = subprocess.run([sys.executable, "-m", "cnnzoo.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if "Traceback (most recent call last)" in proc.stderr:
        raise RuntimeError(f"traceback from cnnzoo {' '.join(args)}:\n{proc.stderr[-2000:]}")
    if proc.returncode == 0:
        return proc.stdout
    if proc.returncode in (1, 2) and ": error:" in proc.stderr:
        raise CliRefusal(proc.stderr.strip().splitlines()[-1])
    raise RuntimeError(f"cnnzoo {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
