"""A finished run becomes a published weight: file, valid index entry with measured metrics, docs folder; the
result loads by name with its sha256 checked."""
import json
import shutil

import pytest
import torch

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.engine import evaluate
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.hub.files.io import load_tensors, read_metadata, save_weights, sha256_file
from cnnzoo.hub.index import load_index
from cnnzoo.hub.index.schema import entry_problems
from cnnzoo.hub.publishing.register_run import register_run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One finished 1-epoch run on the shipped sample, shared by the tests below (training it is the slow part)."""
    root = tmp_path_factory.mktemp("tiny")
    run = root / "run"
    with pytest.MonkeyPatch.context() as mp:  # the run must not touch the user's cache, as before the fixture
        mp.setenv("CNNZOO_CACHE", str(root / "cache"))
        assert main(["train", "resnet20", "--data", "sample", "--recipe", "cifar10_resnet20", "--epochs", "1",
                     "--batch-size", "50", "--precision", "fp32", "--set", "val_size=40", "--set", "ema=false",
                     "--out", str(run)]) == 0
    return run


@pytest.fixture
def empty_index(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    index = tmp_path / "weights" / "index.json"
    index.parent.mkdir()
    index.write_text(json.dumps({"format": 1, "weights": {}}))
    monkeypatch.setenv("CNNZOO_INDEX", str(index))
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(index.parent))
    return index


def test_register_tiny_run(tiny_run, empty_index, tmp_path, capsys):
    run, index = tiny_run, empty_index
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
    speed = {"images_per_s": 123.4, "batch": 256, "img_size": 32, "precision": "fp32", "threads": 2}
    data["weights"]["resnet20.sampletest"]["speed"] = speed  # measured on the architecture, not on the weights
    index.write_text(json.dumps(data))
    assert main(["register", str(run), "--tag", "sampletest", "--recipe", "cnnzoo/recipes/cifar10_resnet20.yaml",
                 "--weights-dir", str(index.parent), "--docs-dir", str(tmp_path / "docs"), "--replace-worse"]) == 0
    assert load_index()["resnet20.sampletest"]["label_names"] == names
    assert load_index()["resnet20.sampletest"]["speed"] == speed


def test_register_float16_halves_the_file_and_publishes_the_float16_accuracy(tiny_run, empty_index, tmp_path,
                                                                              capsys):
    run, folder = tiny_run, empty_index.parent
    assert main(["register", str(run), "--tag", "half", "--recipe", "cnnzoo/recipes/cifar10_resnet20.yaml",
                 "--weights-dir", str(folder), "--docs-dir", str(tmp_path / "docs"),
                 "--storage-dtype", "float16"]) == 0
    capsys.readouterr()
    entry = load_index()["resnet20.half"]
    assert entry_problems("resnet20.half", entry) == [] and entry["storage_dtype"] == "float16"
    stored = load_tensors(folder / "resnet20.half.safetensors")
    trained = load_tensors(run / "model.safetensors")
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    assert stored["stages.0.0.conv1.bn.num_batches_tracked"].dtype == torch.int64
    # about half the bytes of the float32 run file (the header is the same size in both)
    assert entry["size"] / (run / "model.safetensors").stat().st_size == pytest.approx(0.5, abs=0.02)
    # float16 keeps 11 significant bits: every value within 2**-11 of its float32 magnitude
    model = cnnzoo.create_model("resnet20.half", pretrained=True)
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            assert value.dtype == torch.float32
            assert torch.allclose(value, trained[key], rtol=2 ** -11, atol=6e-8), key
    again = evaluate("resnet20.half", "sample", "test", precision="fp32", device="cpu")
    assert again["top1"] == pytest.approx(entry["metrics"]["top1"], abs=0.005)


def test_register_refuses_float16_for_values_it_cannot_hold(tiny_run, empty_index, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    state = load_tensors(run / "model.safetensors")
    state["stages.0.0.conv1.bn.running_var"][0] = 1e6
    save_weights(state, run / "model.safetensors", read_metadata(run / "model.safetensors"))
    with pytest.raises(InvalidArgumentError, match=r"1 tensor\(s\) hold values beyond float16's range \(\+-65504\)"
                                                   r".*stages.0.0.conv1.bn.running_var"):
        register_run(run, "half", recipe="cnnzoo/recipes/cifar10_resnet20.yaml", weights_dir=empty_index.parent,
                     docs_dir=tmp_path / "docs", evaluate_weight=None, storage_dtype="float16")
    assert not (empty_index.parent / "resnet20.half.safetensors").exists()
