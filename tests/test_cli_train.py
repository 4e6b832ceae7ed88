"""The train / eval / predict commands end to end on the shipped CIFAR-10 sample."""
import json

import pytest

from cnnzoo.cli import main
from cnnzoo.hub.files.io import read_metadata
from cnnzoo.data import sample_dir


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))


def test_train_eval_predict(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "resnet20", "--data", "sample", "--recipe", "cifar10_resnet20", "--epochs", "1",
                 "--batch-size", "50", "--precision", "fp32", "--set", "val_size=0", "--set", "ema=false",
                 "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    config = (out / "config.yaml").read_text()
    assert "epochs: 1" in config and "batch_size: 50" in config and "ema: false" in config and "lr: 0.1" in config
    assert summary["epochs"] == 1 and summary["test"]["n"] == 200
    # the recipe's tag names a published weight (resnet20.cifar10): the run's own file must not claim it
    assert read_metadata(out / "model.safetensors")["tag"] == "cifar10-run"
    capsys.readouterr()

    assert main(["eval", "resnet20", "--weights", str(out / "model.safetensors"), "--data", "sample",
                 "--precision", "fp32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["top1"] == pytest.approx(summary["test"]["top1"]) and result["n"] == 200

    image = sorted((sample_dir() / "test" / "cat").iterdir())[0]
    assert main(["predict", "resnet20", str(image), "--weights", str(out / "model.safetensors"), "--topk", "3",
                 "--json"]) == 0
    (pred,) = json.loads(capsys.readouterr().out)
    labels = [label for label, _ in pred["topk"]]
    probs = [p for _, p in pred["topk"]]
    assert len(labels) == 3 and set(labels) <= set(summary["classes"])
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6


def test_cli_errors_name_the_bad_value(tmp_path, capsys):
    assert main(["train", "resnet20", "--data", "sample", "--set", "lerning_rate=1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'lerning_rate'" in err and "valid keys:" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
    assert main(["train", "resnet20", "--data", "cifar100", "--out", str(tmp_path / "y")]) == 2
    assert "unknown dataset 'cifar100'" in capsys.readouterr().err
    assert main(["train", "resnet20", "--data", "sample", "--resume", "--out", str(tmp_path / "z")]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_overwrite_starts_afresh(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "resnet20", "--data", "sample", "--recipe", "cifar10_resnet20", "--epochs", "1",
            "--batch-size", "100", "--precision", "fp32", "--set", "val_size=0", "--set", "ema=false",
            "--set", "subset=200", "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len([line for line in lines if '"kind": "epoch"' in line]) == 1
