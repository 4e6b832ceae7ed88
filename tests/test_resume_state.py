"""Runs that outlive a machine: the committable resume state, checked checkpoints, and what a resume refuses."""
import shutil
from pathlib import Path

import pytest
import tomllib
from safetensors.torch import load_file
from setuptools import find_packages

from cnnzoo.cli import main as cli_main
from cnnzoo.engine import train
from cnnzoo.engine import trainer as trainer_mod
from cnnzoo.engine.checkpoint import load_checkpoint, save_checkpoint
from cnnzoo.engine.resume_state import MANIFEST, load_resume_state, remove_resume_state
from cnnzoo.errors import ConfigError, TrainingError

REPO = Path(__file__).resolve().parents[1]
# 100 of the shipped sample's real CIFAR-10 images, fp32 and one thread so two runs are bit-identical
TINY = dict(model="resnet20", data="sample", epochs=3, batch_size=50, subset=100, precision="fp32", threads=1,
            ema=True, drop_rate=0.2, log_every=1)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))


def _killed_after(epochs: int, monkeypatch):
    """Make training die right after the checkpoint of epoch ``epochs`` (as a machine taken away would)."""
    real_save, calls = trainer_mod.save_checkpoint, []

    def save_then_die(*args, **kwargs):
        saved = real_save(*args, **kwargs)
        calls.append(1)
        if len(calls) == epochs:
            raise KeyboardInterrupt
        return saved

    monkeypatch.setattr(trainer_mod, "save_checkpoint", save_then_die)
    return lambda: monkeypatch.setattr(trainer_mod, "save_checkpoint", real_save)


def _max_diff(a: Path, b: Path) -> float:
    x, y = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    return max((x[k].float() - y[k].float()).abs().max().item() for k in x)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    summary = train(**TINY, out=str(out))
    return out, summary


def test_fresh_clone_resume_equals_in_place_resume_and_straight_run(tmp_path, monkeypatch, straight):
    state = tmp_path / "repo" / "resume" / "resnet20.sample"
    # killed between epoch 3's checkpoint and its resume state: the run folder holds epoch 3, the state epoch 2
    restore = _killed_after(3, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(**TINY, out=str(tmp_path / "run"), resume_state=str(state))
    restore()
    # replaced, not accumulated: one state file after two writes
    assert len(list(state.glob("state-*.safetensors"))) == 1
    assert load_resume_state(state)[0]["epoch"] == 2

    # another machine: a clone holds only the committed folder, no run directory, no cache
    clone = tmp_path / "clone" / "resume" / "resnet20.sample"
    shutil.copytree(state, clone)
    elsewhere = train(**TINY, out=str(tmp_path / "elsewhere"), resume_state=str(clone), resume=True)
    in_place = train(**TINY, out=str(tmp_path / "run"), resume_state=str(state), resume=True)
    out, summary = straight
    assert _max_diff(tmp_path / "elsewhere", tmp_path / "run") == 0.0
    assert _max_diff(tmp_path / "elsewhere", out) == 0.0
    assert elsewhere["test"]["top1"] == in_place["test"]["top1"] == summary["test"]["top1"]
    # the log continues where it stopped: epochs 1..3, each once
    lines = (tmp_path / "elsewhere" / "metrics.jsonl").read_text().count('"kind": "epoch"')
    assert lines == 3
    assert remove_resume_state(clone) is True and not clone.exists()


def test_cli_resume_from_state_alone_uses_the_saved_settings(tmp_path, monkeypatch):
    state = tmp_path / "resume" / "r"
    restore = _killed_after(2, monkeypatch)  # the state holds epoch 1
    with pytest.raises(KeyboardInterrupt):
        train(**dict(TINY, epochs=2, ema=False), out=str(tmp_path / "a"), resume_state=str(state))
    restore()
    # no model, no recipe: the run's own config comes from the resume state
    code = cli_main(["train", "--resume", "--resume-state", str(state), "--out", str(tmp_path / "b")])
    assert code == 0
    assert (tmp_path / "b" / "model.safetensors").exists()
    assert load_resume_state(state)[0]["epoch"] == 2


def test_altered_resume_state_is_refused(tmp_path, monkeypatch):
    state = tmp_path / "state"
    restore = _killed_after(2, monkeypatch)  # the state holds epoch 1
    with pytest.raises(KeyboardInterrupt):
        train(**dict(TINY, epochs=2), out=str(tmp_path / "a"), resume_state=str(state))
    restore()
    tensor_file = next(state.glob("state-*.safetensors"))
    data = bytearray(tensor_file.read_bytes())
    data[-7] ^= 0x01
    tensor_file.write_bytes(bytes(data))
    with pytest.raises(TrainingError, match="does not match its manifest"):
        train(**dict(TINY, epochs=2), out=str(tmp_path / "b"), resume_state=str(state), resume=True)
    manifest = state / MANIFEST
    manifest.write_text(manifest.read_text().replace('"epoch": 1', '"epoch": 2'))
    with pytest.raises(TrainingError, match="damaged or was edited"):
        load_resume_state(state)


def test_altered_checkpoint_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, epoch=1, config={})
    assert load_checkpoint(path)["epoch"] == 1
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(TrainingError, match=r"cannot be trusted \(its bytes do not match its sha256\)"):
        load_checkpoint(path)
    (tmp_path / "checkpoint.pt.sha256").unlink()
    with pytest.raises(TrainingError, match=r"checkpoint.pt.sha256 is missing"):
        load_checkpoint(path)


def test_resume_refuses_changed_settings_and_impossible_epochs(tmp_path, monkeypatch):
    cfg = dict(TINY, epochs=2, ema=False)
    restore = _killed_after(1, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(**cfg, out=str(tmp_path / "a"))
    restore()
    with pytest.raises(ConfigError, match=r"differ from the run's own \(lr: 0.1 -> 0.2\)"):
        train(**dict(cfg, lr=0.2), out=str(tmp_path / "a"), resume=True)
    state = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    save_checkpoint(tmp_path / "a" / "checkpoint.pt", **{**state, "epoch": 7})
    with pytest.raises(TrainingError, match=r"claims epoch 7, outside this run's 1..2"):
        train(**cfg, out=str(tmp_path / "a"), resume=True)


def test_resume_folder_is_not_shipped_in_the_wheel():
    find = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    shipped = find_packages(str(REPO), include=find["include"])
    assert "cnnzoo" in shipped and not [p for p in shipped if not p.startswith("cnnzoo")]
