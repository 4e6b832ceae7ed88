"""benchmarks/finetune_intel.py and finetune_intel_choices.py: how an arm, --set and a choice become the
keywords of one finetune() call, and the figures the choices page derives. No training: finetune() is replaced
by a recorder."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import finetune_intel  # noqa: E402
import finetune_intel_choices as choices  # noqa: E402

from cnnzoo.hub.index import get_entry  # noqa: E402


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def fake_finetune(model, data, strategy, **kw):
        calls.append(dict(model=model, strategy=strategy, **kw))
        return dict(finetune=dict(img_size=kw["img_size"]), metrics=dict(val=dict(top1=80.0, n=300)))

    monkeypatch.setattr(finetune_intel, "finetune", fake_finetune)
    return calls


def _args(tmp_path, **kw):
    base = dict(epochs=20, lr={}, settings={}, backbone_lr_mult=0.1, batch_size=64, val_size=0.2, seed=0,
                subset=0, threads=1, arm="full", data=tmp_path, runs=tmp_path, keep=tmp_path / "kept")
    return SimpleNamespace(**{**base, **kw})


def test_llrd_arm_is_full_with_layer_decay_and_one_backbone_rate(recorded, tmp_path):
    start = finetune_intel.parse_start("resnet10.imagenette@160")
    args = _args(tmp_path, settings=finetune_intel.parse_settings(["crop_scale=0.35", "label_smoothing=0.1"]))
    finetune_intel.run_one(start, "llrd", tmp_path, tmp_path / "llrd", args)
    finetune_intel.run_one(start, "full", tmp_path, tmp_path / "full", args)
    llrd, full = recorded
    assert (llrd["strategy"], llrd["layer_decay"], llrd["backbone_lr_mult"]) == ("full", 0.6, 1.0)
    assert full["backbone_lr_mult"] == 0.1 and "layer_decay" not in full
    assert llrd["crop_scale"] == 0.35 and llrd["label_smoothing"] == 0.1 and llrd["img_size"] == 160
    assert llrd["epochs"] == 20 and llrd["lr"] is None  # the strategy's default head lr


def test_a_kept_run_is_reused_from_a_fresh_clone_only_when_it_is_the_run_asked_for(recorded, tmp_path):
    start = finetune_intel.parse_start("resnet20.cifar10@64")
    args = _args(tmp_path)
    finetune_intel.run_one(start, "head", tmp_path, tmp_path / "machine1" / "head", args)
    kept = tmp_path / "kept" / "head.json"
    assert json.loads(kept.read_text())["asked"]["base_sha256"] == get_entry("resnet20.cifar10")["sha256"]
    fresh = tmp_path / "machine2" / "head"  # another machine: no run folder, only the tracked kept summary
    assert finetune_intel.run_one(start, "head", tmp_path, fresh, args)["machine"]["cpu"]
    assert len(recorded) == 1
    finetune_intel.run_one(start, "head", tmp_path, fresh, _args(tmp_path, epochs=30))  # another budget
    assert len(recorded) == 2 and recorded[-1]["epochs"] == 30
    assert json.loads(kept.read_text())["asked"]["epochs"] == 30


def test_a_choice_overrides_epochs_lr_and_size(recorded, tmp_path):
    args = _args(tmp_path)
    start = finetune_intel.parse_start("resnet10.imagenette@128")
    row = choices.run(args, start, "combined", ["size+32", "epochs x2", "head lr 0.05", "backbone lr x0.3"])
    call = recorded[0]
    assert (call["img_size"], call["epochs"], call["lr"], call["backbone_lr_mult"]) == (160, 40, 0.05, 0.3)
    assert row["img_size"] == 160 and row["val_top1"] == 80.0
    assert choices.flags(args, ["epochs x2", "crop_scale 0.35", "head lr 0.05"]) == (
        "--epochs 40 --set crop_scale=0.35 --lr full=0.05")


def test_standard_error_of_an_accuracy():
    assert choices.standard_error(80.0, 300) == pytest.approx(2.309, abs=1e-3)
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        finetune_intel.parse_settings(["crop_scale"])


def test_winners_keep_the_better_of_two_rates_for_one_key():
    rows = [dict(name="base", val_top1=80.0), dict(name="backbone lr x0.3", val_top1=82.0),
            dict(name="backbone lr x1", val_top1=83.0), dict(name="crop_scale 0.35", val_top1=81.0),
            dict(name="randaugment", val_top1=79.0)]
    assert choices.pick_winners(rows) == ["backbone lr x1", "crop_scale 0.35"]


def test_rows_from_two_machines_name_each_machine():
    def run(strategy, cpu, date, test):
        return dict(start="resnet20.cifar10 @64", arch="resnet20", strategy=strategy, img_size=64, lr=0.05,
                    trainable_params=390, val_top1=80.0, test_top1=test, wall_s=36.0,
                    machine=dict(cpu=cpu, date=date, logical_cores=2, torch_threads=2, cuda=None, python="3.11",
                                 torch="2", torchvision="0", timm="1", cnnzoo="0.1", platform="linux"))
    rows = [run("head", "AMD EPYC", "2026-12-08 02:40 UTC", 71.89), run("scratch", "Intel Xeon", "2026-12-06", 70.89)]
    several = len(finetune_intel.cpus(rows)) > 1
    table = finetune_intel.result_rows(rows, several)
    assert [(r[7], r[-1]) for r in table] == [("+1.00", "AMD EPYC"), ("", "Intel Xeon")]
    lines = finetune_intel.run_machine_lines(rows, several)
    assert lines[0] == "- date: 2026-12-08 02:40 UTC" and "several machines" in lines[1]
    assert len(finetune_intel.result_rows(rows[:1])[0]) == 9  # one machine: no machine column
