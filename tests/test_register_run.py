"""A finished run becomes a published weight: file, valid index entry with measured metrics, docs folder; the
result loads by name with its sha256 checked."""
import json

import pytest

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.engine import evaluate
from cnnzoo.hub.index import load_index
from cnnzoo.hub.files.io import sha256_file
from cnnzoo.hub.index.schema import entry_problems


def test_register_tiny_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    index = tmp_path / "weights" / "index.json"
    index.parent.mkdir()
    index.write_text(json.dumps({"format": 1, "weights": {}}))
    monkeypatch.setenv("CNNZOO_INDEX", str(index))
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(index.parent))
    run = tmp_path / "run"
    assert main(["train", "resnet20", "--data", "sample", "--recipe", "cifar10_resnet20", "--epochs", "1",
                 "--batch-size", "50", "--precision", "fp32", "--set", "val_size=40", "--set", "ema=false",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["register", str(run), "--tag", "sampletest", "--recipe", "cnnzoo/recipes/cifar10_resnet20.yaml",
                 "--weights-dir", str(index.parent), "--docs-dir", str(tmp_path / "docs")]) == 0
    entry = load_index()["resnet20.sampletest"]
    assert entry_problems("resnet20.sampletest", entry) == []
    assert entry["sha256"] == sha256_file(index.parent / "resnet20.sampletest.safetensors")
    assert entry["params"] == 269_722 and entry["metrics"]["n"] == 200 and entry["epochs"] == 1
    assert entry["dataset"]["num_images"] == 160
    assert (tmp_path / "docs" / "resnet20.sampletest" / "metrics.jsonl").stat().st_size > 0
    # the recorded figure is what a fresh fp32 evaluation of the published name gives
    again = evaluate("resnet20.sampletest", "sample", "test", precision="fp32", device="cpu")
    assert again["top1"] == pytest.approx(entry["metrics"]["top1"], abs=0.005)
    assert cnnzoo.create_model("resnet20.sampletest", pretrained=True).pretrained_cfg["tag"] == "sampletest"

    # a retrained weight with the same classes keeps the readable names the published one carried
    data = json.loads(index.read_text())
    names = [f"name {i}" for i in range(10)]
    data["weights"]["resnet20.sampletest"]["label_names"] = names
    index.write_text(json.dumps(data))
    assert main(["register", str(run), "--tag", "sampletest", "--recipe", "cnnzoo/recipes/cifar10_resnet20.yaml",
                 "--weights-dir", str(index.parent), "--docs-dir", str(tmp_path / "docs"), "--replace-worse"]) == 0
    assert load_index()["resnet20.sampletest"]["label_names"] == names
