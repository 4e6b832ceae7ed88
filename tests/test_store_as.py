"""`cnnzoo dev store-as`: a published weight re-stored as float16 halves its file, is measured again, and its index
entry follows the new bytes; a conversion that costs accuracy, a damaged file or a second conversion is refused
with the published weight left as it was."""
import json
import shutil
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.engine import evaluate
from cnnzoo.errors import InvalidArgumentError, WeightIntegrityError
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import load_tensors, sha256_file
from cnnzoo.hub.index import load_index
from cnnzoo.hub.index.schema import entry_problems
from cnnzoo.hub.publishing.store_as import store_published_as

REPO = Path(__file__).resolve().parents[1]
NAME = "resnet20.cifar10"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A copy of the published resnet20.cifar10 in a private weights folder, its top-1 measured on the sample."""
    weights = tmp_path / "weights"
    weights.mkdir()
    entry = json.loads((REPO / "weights" / "index.json").read_text())["weights"][NAME]
    shutil.copyfile(REPO / "weights" / entry["file"], weights / entry["file"])
    index = weights / "index.json"
    index.write_text(json.dumps({"format": 1, "weights": {NAME: entry}}))
    monkeypatch.setenv("CNNZOO_INDEX", str(index))
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(weights))
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: None)
    fp32 = evaluate(NAME, "sample", "test", precision="fp32", device="cpu")
    entry["metrics"] = dict(entry["metrics"], top1=round(fp32["top1"], 2), top5=round(fp32["top5"], 2), n=fp32["n"])
    index.write_text(json.dumps({"format": 1, "weights": {NAME: entry}}))
    return weights, entry


def test_float16_halves_the_file_and_the_entry_follows_the_bytes(hub, capsys):
    weights, before = hub
    original = load_tensors(weights / before["file"])
    assert main(["dev", "store-as", NAME, "--weights-dir", str(weights), "--data", "sample"]) == 0
    assert '"storage_dtype": "float16"' in capsys.readouterr().out
    entry = load_index()[NAME]
    assert entry_problems(NAME, entry) == []
    assert entry["storage_dtype"] == "float16" and entry["sha256"] != before["sha256"]
    assert entry["sha256"] == sha256_file(weights / entry["file"]) and entry["size"] < 0.55 * before["size"]
    assert entry["hf_revision"] == f"sha256-{entry['sha256'][:16]}"
    stored = load_tensors(weights / entry["file"])
    for key, tensor in original.items():  # every float tensor is the float16 rounding of the published one
        expected = tensor.half() if tensor.is_floating_point() else tensor
        assert stored[key].dtype == expected.dtype and torch.equal(stored[key], expected), key
    # the recorded figures are what the float16 file gives when loaded by name (sha256 checked)
    again = evaluate(NAME, "sample", "test", precision="fp32", device="cpu")
    assert entry["metrics"]["top1"] == round(again["top1"], 2)
    assert abs(entry["metrics"]["top1"] - before["metrics"]["top1"]) <= 0.2
    assert entry["sample_metrics"]["top1"] == round(again["top1"], 2)
    assert entry["notes"].endswith(f"{entry['metrics']['top1']:.2f}% top-1 on test, "
                                   f"{before['metrics']['top1']:.2f}% as float32.")
    assert {k: entry[k] for k in ("recipe", "command", "wall_time_s")} == \
        {k: before[k] for k in ("recipe", "command", "wall_time_s")}
    assert {p.dtype for p in cnnzoo.create_model(NAME, pretrained=True).parameters()} == {torch.float32}

    with pytest.raises(InvalidArgumentError, match="already stored as float16"):
        store_published_as(NAME, "float16", weights_dir=weights, data="sample",
                           evaluate_weight=lambda *a: pytest.fail("must not evaluate"))


def test_a_conversion_that_costs_accuracy_is_refused(hub):
    weights, before = hub
    worse = dict(top1=before["metrics"]["top1"] - 0.5, top5=90.0, split="test", n=200)
    with pytest.raises(InvalidArgumentError, match=r"0\.50 points lower \(at most 0\.2 allowed\)"):
        store_published_as(NAME, "float16", weights_dir=weights, data="sample", evaluate_weight=lambda *a: worse)
    assert sha256_file(weights / before["file"]) == before["sha256"] and load_index()[NAME] == before
    assert sorted(p.name for p in weights.iterdir()) == ["index.json", before["file"]]  # nothing staged is left


def test_a_damaged_file_is_not_converted(hub):
    weights, before = hub
    path = weights / before["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError, match="damaged or not the published file: sha256 mismatch"):
        store_published_as(NAME, "float16", weights_dir=weights, data="sample",
                           evaluate_weight=lambda *a: pytest.fail("must not evaluate"))
    assert load_index()[NAME] == before
