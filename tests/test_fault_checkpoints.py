"""Fault suite, areas "checkpoints" and "logs" (issue 24): a run whose checkpoints, resume state or metrics log
are damaged, whose settings change, or whose process is killed with SIGKILL at any point, either resumes to the
bit-identical weights of an uninterrupted run (at most with a warning) or is refused with cnnzoo's error."""
from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cnnzoo.engine import train
from cnnzoo.engine import trainer as trainer_mod
from cnnzoo.engine.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from cnnzoo.engine.resume_state import FORMAT, MANIFEST, METRICS, _manifest_hash, load_resume_state

from fault_cases import FaultCase, SilentLoad, outcome, run_cli

REPO = Path(__file__).resolve().parents[1]
# 50 of the shipped sample's CIFAR-10 images, fp32 and one thread: two runs are bit-identical
TINY = dict(model="resnet20", data="sample", epochs=3, batch_size=25, subset=50, precision="fp32", threads=1,
            ema=True, drop_rate=0.2, log_every=1)
_SCRATCH = Path(tempfile.mkdtemp(prefix="cnnzoo-fault-ckpt-"))
atexit.register(shutil.rmtree, _SCRATCH, True)


@contextlib.contextmanager
def _quiet_env():
    """The sample's tensor cache shared by every case (built once), warnings recorded."""
    old = os.environ.get("CNNZOO_CACHE")
    os.environ["CNNZOO_CACHE"] = str(_SCRATCH / "cache")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        if old is None:
            os.environ.pop("CNNZOO_CACHE", None)
        else:
            os.environ["CNNZOO_CACHE"] = old


@functools.lru_cache(maxsize=None)
def _straight() -> dict:
    """Final weights of the uninterrupted run."""
    with _quiet_env():
        train(**TINY, out=str(_SCRATCH / "straight"))
    return load_file(str(_SCRATCH / "straight" / "model.safetensors"))


@functools.lru_cache(maxsize=None)
def _template() -> Path:
    """A run stopped right after epoch 2's checkpoint: checkpoint.pt (epoch 2), checkpoint.prev.pt (epoch 1),
    metrics.jsonl (2 records), and its resume state one write behind (epoch 1)."""
    real, calls = trainer_mod.save_checkpoint, []

    def save_then_stop(*args, **kwargs):
        saved = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return saved

    trainer_mod.save_checkpoint = save_then_stop
    try:
        with _quiet_env(), contextlib.suppress(KeyboardInterrupt):
            train(**TINY, out=str(_SCRATCH / "template" / "run"), resume_state=str(_SCRATCH / "template" / "state"))
    finally:
        trainer_mod.save_checkpoint = real
    return _SCRATCH / "template"


def _copy(tmp: Path) -> tuple[Path, Path]:
    shutil.copytree(_template(), tmp, dirs_exist_ok=True)
    return tmp / "run", tmp / "state"


def _same_as_straight(run: Path) -> None:
    got, want = load_file(str(run / "model.safetensors")), _straight()
    if got.keys() != want.keys() or not all(torch.equal(got[k], want[k]) for k in want):
        raise SilentLoad("the resumed run ended with other weights than the uninterrupted run")
    epochs = [r["epoch"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())]
    if epochs != [1, 2, 3]:
        raise SilentLoad(f"metrics.jsonl holds epochs {epochs}")


def _resume(tmp: Path, *, warn: str | None = None, state: bool = True, allow: bool = False, check: bool = True,
            **changes) -> tuple[Path, list[str]]:
    """Resume the run in ``tmp``; ``warn``: a phrase the run must say (else the fault went unnoticed)."""
    run = tmp / "run"
    with _quiet_env() as caught:
        train(**{**TINY, **changes}, out=str(run), resume_state=str(tmp / "state") if state else None,
              resume=True, allow_config_change=allow)
    said = [str(w.message) for w in caught]
    if warn is not None and not any(warn in s for s in said):
        raise SilentLoad(f"resumed without saying {warn!r} (warnings: {said})")
    if check:
        _same_as_straight(run)
    return run, said


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[min(len(data) - 1, int(len(data) * at))] ^= 0x10
    path.write_bytes(bytes(data))


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


FALLBACK = "resuming from the previous one"


# -- checkpoints -----------------------------------------------------------------------------------------------

def _latest_damaged(damage):
    def run(tmp: Path):
        run_dir, _ = _copy(tmp)
        damage(run_dir / "checkpoint.pt")
        _resume(tmp, warn=FALLBACK)
    return run


def latest_missing_after_rotation(tmp: Path):
    """The crash window of write_checkpoint: the latest already moved to previous, its digest not yet."""
    run, _ = _copy(tmp)
    os.replace(run / "checkpoint.pt", run / "checkpoint.prev.pt")
    _resume(tmp, warn=FALLBACK)
    if load_checkpoint(run / "checkpoint.pt")["epoch"] != 3:
        raise SilentLoad("the finished run's checkpoint is not epoch 3")


def previous_damaged_only(tmp: Path):
    run, _ = _copy(tmp)
    _flip(run / "checkpoint.prev.pt")
    _resume(tmp)


def both_damaged_state_newer(tmp: Path):
    run, _ = _copy(tmp)
    _flip(run / "checkpoint.pt")
    _truncate(run / "checkpoint.prev.pt", 0.5)
    _resume(tmp, warn="resuming from the resume state")


def both_damaged_no_state(tmp: Path):
    run, _ = _copy(tmp)
    _flip(run / "checkpoint.pt")
    _flip(run / "checkpoint.prev.pt", 0.9)
    _resume(tmp, state=False)


def _epoch_claimed(epoch):
    def run(tmp: Path):
        ckpt = _copy(tmp)[0] / "checkpoint.pt"
        save_checkpoint(ckpt, **{**load_checkpoint(ckpt), "epoch": epoch})
        _resume(tmp)
    return run


class _Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def pickle_with_code(tmp: Path):
    """A checkpoint whose bytes match its digest but would run code when unpickled."""
    run, _ = _copy(tmp)
    marker = tmp / "code-ran"
    ckpt = run / "checkpoint.pt"
    torch.save({**load_checkpoint(ckpt), "extra": _Payload(str(marker))}, ckpt)
    (run / "checkpoint.pt.sha256").write_text(hashlib.sha256(ckpt.read_bytes()).hexdigest() + "\n")
    for p in (run / "checkpoint.prev.pt", run / "checkpoint.prev.pt.sha256"):
        p.unlink()
    try:
        _resume(tmp, state=False)
    finally:
        if marker.exists():
            raise SilentLoad("unpickling the checkpoint ran code")


def changed_lr(tmp: Path):
    _copy(tmp)
    _resume(tmp, lr=0.2)


def changed_lr_on_the_command_line(tmp: Path):
    """``cnnzoo train --resume --lr 0.2``: a one-line refusal that names the change and the way to allow it."""
    run, _ = _copy(tmp)
    env = dict(os.environ, CNNZOO_CACHE=str(_SCRATCH / "cache"), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    try:
        run_cli("train", "--resume", "--out", str(run), "--lr", "0.2", env=env)
    except Exception as exc:
        if "lr: 0.1 -> 0.2" in str(exc) and "--allow-config-change" in str(exc):
            raise
        raise RuntimeError(f"refused without naming the change and the flag: {exc}") from None
    raise SilentLoad("a changed --lr was resumed without a word")


def changed_lr_allowed(tmp: Path):
    run, _ = _copy(tmp)
    _resume(tmp, warn="with changed settings: lr: 0.1 -> 0.2", allow=True, check=False, lr=0.2)
    state = load_checkpoint(run / "checkpoint.pt")
    if state["scheduler"]["base_lrs"] != [0.2, 0.2] or state["config"]["lr"] != 0.2:
        raise SilentLoad(f"the new lr was not applied: base_lrs {state['scheduler']['base_lrs']}")
    try:
        _same_as_straight(run)
    except SilentLoad:
        return  # other weights: the new lr took effect
    raise SilentLoad("the new lr changed nothing")


def changed_model_allowed(tmp: Path):
    _copy(tmp)
    _resume(tmp, allow=True, check=False, model="resnet32")


def changed_optimizer_allowed(tmp: Path):
    run, _ = _copy(tmp)
    _resume(tmp, warn="optimizer: 'sgd' -> 'adamw'", allow=True, check=False, optimizer="adamw")
    state = load_checkpoint(run / "checkpoint.pt")
    if "exp_avg" not in next(iter(state["optimizer"]["state"].values())):
        raise SilentLoad("the resumed run did not switch to AdamW")


def _strip_new_keys(state: dict) -> dict:
    return {k: v for k, v in state.items() if k not in ("config_sha256", "record", "metrics_sha256")}


def old_format_run_folder(tmp: Path):
    """A run folder written before checkpoint.prev.pt and the stored config hash / log record existed."""
    run, _ = _copy(tmp)
    state = _strip_new_keys(load_checkpoint(run / "checkpoint.pt"))
    for p in (run / "checkpoint.prev.pt", run / "checkpoint.prev.pt.sha256", run / "checkpoint.pt"):
        p.unlink()
    torch.save(state, run / "checkpoint.pt")
    (run / "checkpoint.pt.sha256").write_text(hashlib.sha256((run / "checkpoint.pt").read_bytes()).hexdigest() + "\n")
    _resume(tmp, state=False)


def old_format_state_in_clone(tmp: Path):
    """A committed resume state of the first format (metrics.jsonl by that name; no config hash; the staged file
    a killed writer left) carried to a clone without the run folder."""
    _, folder = _copy(tmp)
    shutil.rmtree(tmp / "run")
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / manifest.pop("metrics")).rename(folder / METRICS)
    manifest.pop("config_sha256")
    manifest["skeleton"]["$dict"] = [kv for kv in manifest["skeleton"]["$dict"]
                                     if kv[0] not in ("config_sha256", "record", "metrics_sha256")]
    assert manifest["format"] == FORMAT
    manifest["manifest_sha256"] = _manifest_hash(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    (folder / ".state.safetensors").write_bytes(b"staged by the old writer")
    assert load_resume_state(folder)[0]["epoch"] == 1
    _resume(tmp)
    left = sorted(p.name for p in folder.iterdir())
    if len(left) != 3 or METRICS in left:
        raise SilentLoad(f"the resume state folder holds {left}")


def _clone_with_damaged_state(damage):
    def run(tmp: Path):
        _, folder = _copy(tmp)
        shutil.rmtree(tmp / "run")
        damage(folder)
        _resume(tmp)
    return run


def temporaries_left(tmp: Path):
    run, folder = _copy(tmp)
    stale = [run / ".checkpoint.pt.a1b2c3d4.tmp", run / ".metrics.jsonl.zz99yy88.tmp",
             folder / ".manifest.json.q1w2e3r4.tmp", folder / ".state-0123456789ab.safetensors.abcdefgh.tmp"]
    for p in stale:
        p.write_bytes(b"half written")
    _resume(tmp)
    if any(p.exists() for p in stale):
        raise SilentLoad(f"temporaries left: {[p.name for p in stale if p.exists()]}")


# -- kill -9 at chosen and at seeded-random points -------------------------------------------------------------

_DRIVER = r"""
import json, os, sys
from pathlib import Path
import torch
from cnnzoo.engine import train
out, state, point, cfg = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
kind, _, arg = point.partition(":")
name, _, n = arg.rpartition(":")
count = [0]
def hit():
    count[0] += 1
    if count[0] == int(n):
        os.kill(os.getpid(), 9)
if kind == "step":  # in the middle of training: at optimiser step n
    real_step = torch.optim.SGD.step
    def step(self, *a, **k):
        hit()
        return real_step(self, *a, **k)
    torch.optim.SGD.step = step
else:  # just before the n-th rename onto NAME ("*": any file): between two steps of a write
    real_replace = os.replace
    def replace(src, dst, *a, **k):
        if name == "*" or Path(dst).name == name:
            hit()
        return real_replace(src, dst, *a, **k)
    os.replace = replace
train(**cfg, out=out, resume_state=state)
"""


def _killed_at(point: str):
    def run(tmp: Path):
        out, folder = tmp / "run", tmp / "state"
        _straight()  # the sample cache exists before the child starts
        env = dict(os.environ, CNNZOO_CACHE=str(_SCRATCH / "cache"), OMP_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, "-c", _DRIVER, str(out), str(folder), point, json.dumps(TINY)],
                              env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode != -9:
            raise RuntimeError(f"the run was not killed at {point}: exit {proc.returncode} {proc.stderr[-800:]}")
        resumable = has_checkpoint(out / "checkpoint.pt") or (folder / MANIFEST).exists()
        with _quiet_env():
            train(**TINY, out=str(out), resume_state=str(folder), resume=resumable)
        _same_as_straight(out)
        left = [p.name for d in (out, folder) for p in d.iterdir() if p.name.endswith(".tmp")]
        if left:
            raise SilentLoad(f"temporaries left after the resumed run: {left}")
        if load_resume_state(folder)[0]["epoch"] != 3:
            raise SilentLoad("the resume state does not hold the last epoch")
    return run


_RANDOM_POINT = random.Random(24).randint(1, 30)  # seeded: the same "random" rename in every run of the suite


# -- logs ------------------------------------------------------------------------------------------------------

def _log_damaged(damage, warn: str):
    def run(tmp: Path):
        run_dir, _ = _copy(tmp)
        damage(run_dir / "metrics.jsonl")
        _resume(tmp, warn=warn, check=False)
        got, want = load_file(str(run_dir / "model.safetensors")), _straight()
        if not all(torch.equal(got[k], want[k]) for k in want):
            raise SilentLoad("other weights than the uninterrupted run")
    return run


def _tear_last_line(path: Path):
    text = path.read_text()
    path.write_text(text[:len(text) - len(text.splitlines()[-1]) // 2 - 1])


def _break_first_line(path: Path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0][:-5] + "\n" + "".join(lines[1:]))


def _change_a_digit(path: Path):
    text = path.read_text()
    at = text.index('"train_loss": ') + len('"train_loss": ') + 2
    path.write_text(text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1:])


def _append_garbage(path: Path):
    with open(path, "ab") as f:
        f.write(b"\xff\xfe\x00garbage\n")


def torn_line_restored_exactly(tmp: Path):
    """The torn record is the checkpoint's epoch: restored from the checkpoint, the log is whole again."""
    run_dir, _ = _copy(tmp)
    _tear_last_line(run_dir / "metrics.jsonl")
    _, said = _resume(tmp, warn="restored from the checkpoint")
    if any("differs from the log" in s for s in said):
        raise SilentLoad(f"the restored log is not the one written: {said}")


CASES = [
    FaultCase("checkpoints", "flip byte in latest checkpoint", _latest_damaged(_flip), "recovered"),
    FaultCase("checkpoints", "latest checkpoint truncated to half", _latest_damaged(lambda p: _truncate(p, 0.5)),
              "recovered"),
    FaultCase("checkpoints", "latest checkpoint empty", _latest_damaged(lambda p: _truncate(p, 0)), "recovered"),
    FaultCase("checkpoints", "flip byte in latest sha256 file",
              _latest_damaged(lambda p: _flip(p.with_name("checkpoint.pt.sha256"), 0.2)), "recovered"),
    FaultCase("checkpoints", "latest sha256 file missing",
              _latest_damaged(lambda p: p.with_name("checkpoint.pt.sha256").unlink()), "recovered"),
    FaultCase("checkpoints", "crash between rotation steps (latest missing)", latest_missing_after_rotation,
              "recovered"),
    FaultCase("checkpoints", "flip byte in previous checkpoint only", previous_damaged_only, "recovered"),
    FaultCase("checkpoints", "both checkpoints damaged, resume state kept", both_damaged_state_newer, "recovered"),
    FaultCase("checkpoints", "both checkpoints damaged, no resume state", both_damaged_no_state, "refused"),
    FaultCase("checkpoints", "checkpoint claims epoch 7 of 3", _epoch_claimed(7), "refused"),
    FaultCase("checkpoints", "checkpoint claims epoch 0", _epoch_claimed(0), "refused"),
    FaultCase("checkpoints", "checkpoint claims epoch '2' (a string)", _epoch_claimed("2"), "refused"),
    FaultCase("checkpoints", "pickle with code, digest rewritten to match", pickle_with_code, "refused"),
    FaultCase("checkpoints", "resume with another --lr", changed_lr, "refused"),
    FaultCase("checkpoints", "cnnzoo train --resume --lr 0.2", changed_lr_on_the_command_line, "refused"),
    FaultCase("checkpoints", "resume with another --lr, change allowed", changed_lr_allowed, "recovered"),
    FaultCase("checkpoints", "resume with another model, change allowed", changed_model_allowed, "refused"),
    FaultCase("checkpoints", "resume with another optimizer, change allowed", changed_optimizer_allowed,
              "recovered"),
    FaultCase("checkpoints", "old-format run folder", old_format_run_folder, "recovered"),
    FaultCase("checkpoints", "old-format resume state in a clone", old_format_state_in_clone, "recovered"),
    FaultCase("checkpoints", "flip byte in resume state manifest (clone)",
              _clone_with_damaged_state(lambda f: _flip(f / MANIFEST, 0.3)), "refused"),
    FaultCase("checkpoints", "resume state tensors truncated (clone)",
              _clone_with_damaged_state(lambda f: _truncate(next(f.glob("state-*")), 0.7)), "refused"),
    FaultCase("checkpoints", "temporaries of killed writers left", temporaries_left, "recovered"),
    FaultCase("checkpoints", "kill -9 at training step 3 of 6", _killed_at("step:3"), "recovered"),
    FaultCase("checkpoints", "kill -9 in checkpoint write, after rotation",
              _killed_at("replace:checkpoint.pt.sha256:3"), "recovered"),
    FaultCase("checkpoints", "kill -9 in resume-state write, before its manifest",
              _killed_at("replace:manifest.json:2"), "recovered"),
    FaultCase("checkpoints", f"kill -9 before rename #{_RANDOM_POINT} (seeded random)",
              _killed_at(f"replace:*:{_RANDOM_POINT}"), "recovered"),
    FaultCase("logs", "torn last line of metrics.jsonl", torn_line_restored_exactly, "recovered"),
    FaultCase("logs", "broken first line of metrics.jsonl", _log_damaged(_break_first_line, "left out"),
              "recovered"),
    FaultCase("logs", "a digit changed in metrics.jsonl", _log_damaged(_change_a_digit, "differs from the log"),
              "recovered"),
    FaultCase("logs", "metrics.jsonl deleted", _log_damaged(lambda p: p.unlink(), "restored from the checkpoint"),
              "recovered"),
    FaultCase("logs", "non-UTF-8 garbage appended to metrics.jsonl", _log_damaged(_append_garbage, "left out"),
              "recovered"),
    FaultCase("logs", "flip byte in the resume state's log (clone)",
              _clone_with_damaged_state(lambda f: _flip(next(f.glob("metrics-*")), 0.5)), "refused"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_checkpoint_fault(case, tmp_path):
    got, detail = outcome(case, tmp_path)
    assert got == case.expect, detail
