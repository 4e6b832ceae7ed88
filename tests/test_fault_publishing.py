"""Fault suite, publishing (issue 24): `cnnzoo dev register` killed at any point, or handed a worse run, never leaves
a published name that loads the wrong bytes, and a rerun publishes cleanly.

A tiny finished run (ResNet-20, one epoch on the shipped sample) is trained once per session. Each case publishes
it into a fresh weights folder that already holds a weight under the same name, disturbs the registration, then
checks the name: it either loads bytes whose sha256 is the indexed one, or is refused; never silently wrong.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fault_cases import FaultCase, SilentLoad, outcome

ROOT = Path(__file__).resolve().parents[1]
RECIPE = "cnnzoo/recipes/cifar10_resnet20.yaml"
NAME = "resnet20.faulttest"


@functools.lru_cache(maxsize=None)
def tiny_run() -> Path:
    """A finished one-epoch run on the sample data (shared by every case; built on first use)."""
    out = Path(tempfile.mkdtemp(prefix="cnnzoo-tiny-run-")) / "run"
    env = {**os.environ, "CNNZOO_CACHE": str(out.parent / "cache"), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "cnnzoo.cli", "train", "resnet20", "--data", "sample", "--recipe",
                    "cifar10_resnet20", "--epochs", "1", "--batch-size", "50", "--precision", "fp32", "--set",
                    "val_size=40", "--set", "ema=false", "--set", "threads=1", "--out", str(out)],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    return out


def _env(tmp: Path) -> dict:
    weights = tmp / "weights"
    return {**os.environ, "CNNZOO_INDEX": str(weights / "index.json"), "CNNZOO_WEIGHTS": str(weights),
            "CNNZOO_CACHE": str(tiny_run().parent / "cache"), "OMP_NUM_THREADS": "1"}


def _register_cmd(tmp: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cnnzoo.cli", "dev", "register", str(tiny_run()), "--tag", "faulttest",
            "--recipe", RECIPE, "--weights-dir", str(tmp / "weights"), "--docs-dir", str(tmp / "docs"), *extra]


def _published_state(tmp: Path) -> tuple[dict, bytes] | None:
    index = tmp / "weights" / "index.json"
    if not index.is_file():
        return None
    entry = json.loads(index.read_text())["weights"].get(NAME)
    file = tmp / "weights" / f"{NAME}.safetensors"
    return entry, (file.read_bytes() if file.is_file() else b"")


def _check_name(tmp: Path) -> str:
    """Load NAME in a fresh process; 'ok' (loaded, sha256 = index), 'refused' (one-line error) — else SilentLoad."""
    code = ("import cnnzoo, sys\n"
            "from cnnzoo.errors import CnnzooError\n"
            "try:\n"
            f"    m = cnnzoo.create_model({NAME!r}, pretrained=True)\n"
            "except CnnzooError as exc:\n"
            "    print('refused', type(exc).__name__); sys.exit(0)\n"
            "from cnnzoo.hub.index import load_index\n"
            f"print('ok' if m.pretrained_cfg['sha256'] == load_index()[{NAME!r}]['sha256'] else 'WRONG')\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp), cwd=ROOT, capture_output=True, text=True)
    verdict = proc.stdout.strip().split(" ")[0] if proc.returncode == 0 else f"traceback: {proc.stderr[-500:]}"
    if verdict not in ("ok", "refused"):
        raise SilentLoad(f"{NAME} after the fault: {verdict}")
    return verdict


def _publish_once(tmp: Path, *extra: str) -> None:
    subprocess.run(_register_cmd(tmp, *extra), env=_env(tmp), cwd=ROOT, check=True, capture_output=True)


def _seed_published(tmp: Path) -> None:
    """Publish the tiny run under NAME: every case starts from a published, loadable name."""
    (tmp / "weights").mkdir(parents=True)
    (tmp / "weights" / "index.json").write_text(json.dumps({"format": 1, "weights": {}}))
    _publish_once(tmp)
    assert _check_name(tmp) == "ok"


def kill_after(fraction: float):
    """Kill the registration at ``fraction`` of a full registration's duration, then rerun it."""
    def run(tmp: Path) -> None:
        _seed_published(tmp)
        start = time.perf_counter()
        _publish_once(tmp, "--replace-worse")
        full = time.perf_counter() - start
        before = _published_state(tmp)
        proc = subprocess.Popen(_register_cmd(tmp, "--replace-worse"), env=_env(tmp), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check_name(tmp)  # loads the indexed bytes or refuses; never wrong bytes
        _publish_once(tmp, "--replace-worse")  # and a rerun always publishes
        if _check_name(tmp) != "ok":
            raise SilentLoad(f"{NAME} does not load after the rerun")
        if list((tmp / "weights").glob(".staged-*")):
            raise AssertionError("a staged file survived a completed registration")
        assert before is not None
    return run


def not_better(tmp: Path) -> None:
    """The same run again scores the same: not better, so it must be refused and the published file kept."""
    _seed_published(tmp)
    before = _published_state(tmp)
    proc = subprocess.run(_register_cmd(tmp), env=_env(tmp), cwd=ROOT, capture_output=True, text=True)
    if proc.returncode == 0:
        raise SilentLoad("a run that is not better replaced the published weight")
    if "not better" not in proc.stderr or "Traceback" in proc.stderr:
        raise RuntimeError(proc.stderr[-1000:])
    if _published_state(tmp) != before:
        raise SilentLoad("the refused registration changed the published weight")
    from fault_cases import CliRefusal
    raise CliRefusal(proc.stderr.strip().splitlines()[-1])


CASES = [
    FaultCase("publishing", "register a run that is not better than the published weight", not_better),
    *(FaultCase("publishing", f"kill -9 at {int(f * 100)}% of a registration, then rerun", kill_after(f),
                expect="recovered") for f in (0.1, 0.4, 0.7, 0.9)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_publishing_fault(case, tmp_path):
    result, detail = outcome(case, tmp_path)
    assert result == case.expect, detail


def test_refusal_names_both_scores(tmp_path):
    _seed_published(tmp_path)
    proc = subprocess.run(_register_cmd(tmp_path), env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True)
    entry = json.loads((tmp_path / "weights" / "index.json").read_text())["weights"][NAME]
    assert proc.returncode == 2
    assert f"published at {entry['metrics']['top1']:.2f}% top-1 on test" in proc.stderr
    assert "--replace-worse" in proc.stderr
