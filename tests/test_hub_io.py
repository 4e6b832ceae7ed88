"""Weight files and the index: safetensors with header metadata, sha256, atomic writes, entry validation."""
import hashlib
import json

import pytest
import torch

import cnnzoo
from cnnzoo.errors import InvalidArgumentError, UnsafeWeightsError, WeightIntegrityError
from cnnzoo.hub import catalog
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import (atomic_path, read_header, read_metadata, save_weights, sha256_file, tensor_shapes,
                           write_json_atomic)
from cnnzoo.hub.index.schema import entry_problems

from hub_helpers import LABELS, make_entry, make_hub, metadata


def test_save_weights_header_and_hash(tmp_path):
    model = cnnzoo.create_model("resnet20")
    path = tmp_path / "w" / "resnet20.x.safetensors"
    sha = save_weights(model.state_dict(), path, metadata(tag="x"))
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    meta = read_metadata(path)
    assert meta["arch"] == "resnet20" and meta["tag"] == "x" and meta["num_classes"] == 10
    assert meta["labels"] == LABELS and meta["input_size"] == [3, 32, 32] and meta["crop_pct"] == 1.0
    raw = read_header(path)["__metadata__"]
    assert all(isinstance(v, str) for v in raw.values()) and json.loads(raw["labels"]) == LABELS
    shapes = tensor_shapes(path)
    assert shapes["stem.conv.weight"] == (16, 3, 3, 3) and len(shapes) == len(model.state_dict())
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_save_weights_refuses_incomplete_metadata_and_writes_nothing(tmp_path):
    path = tmp_path / "a.safetensors"
    meta = metadata()
    del meta["labels"], meta["std"]
    with pytest.raises(InvalidArgumentError, match="lacks labels, std"):
        save_weights({"w": torch.zeros(2)}, path, meta)
    with pytest.raises(InvalidArgumentError, match="list of num_classes=10 names, got 3"):
        save_weights({"w": torch.zeros(2)}, path, dict(metadata(), labels=["a", "b", "c"]))
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_truncated_and_pickle_files_are_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights({"w": torch.arange(1000.0)}, path, metadata())
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[:-100])
    with pytest.raises(WeightIntegrityError, match=rf"is {len(data) - 100} bytes but its header describes {len(data)}"):
        read_header(cut)
    disguised = tmp_path / "really_a_pickle.safetensors"
    torch.save({"w": torch.zeros(2)}, disguised)
    with pytest.raises(UnsafeWeightsError, match="pickle/torch.save file"):
        read_metadata(disguised)


def test_entry_validation_lists_every_problem(tmp_path):
    path = tmp_path / "resnet20.testdata.safetensors"
    sha = save_weights({"w": torch.zeros(2)}, path, metadata())
    assert entry_problems("resnet20.testdata", make_entry(path, sha)) == []
    bad = make_entry(path, "0" * 10, labels=["a"], crop_pct=1.5, colour="red")
    problems = entry_problems("resnet20.testdata", bad)
    assert len(problems) == 4
    assert any("unknown fields: colour (valid: architecture" in p for p in problems)
    assert any("sha256 must be 64" in p for p in problems)
    assert any("labels must be a list of num_classes=10 names, got 1" in p for p in problems)
    assert any("crop_pct must be in (0, 1], got 1.5" in p for p in problems)


def test_upsert_add_and_default(tmp_path, monkeypatch):
    hub = make_hub(tmp_path, monkeypatch)
    assert hub_index.indexed_names() == ["resnet20.testdata"]
    with pytest.raises(InvalidArgumentError, match="already has 'resnet20.testdata'"):
        hub_index.add_entry(hub.entry)
    second = dict(hub.entry, tag="other")
    hub_index.add_entry(second)
    assert hub_index.indexed_tags("resnet20") == ["testdata", "other"]  # file order: the first is the default
    hub_index.upsert_entry(dict(second, default=True))
    assert hub_index.indexed_tags("resnet20") == ["other", "testdata"]
    assert catalog.default_tag("resnet20") == "other"
    with pytest.raises(InvalidArgumentError, match="architecture 'resnet2000' is not registered"):
        hub_index.upsert_entry(dict(hub.entry, architecture="resnet2000"))
    assert hub_index.validate_index() == []
    assert sorted(p.name for p in hub.index.parent.iterdir()) == ["cache", "hf", "index.json", "store"]


def test_committed_index_is_valid_and_matches_its_files():
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "weights" / "index.json"
    assert hub_index.validate_index(committed) == []
    for name, entry in hub_index.load_index(committed).items():
        file = committed.parent / entry["file"]
        if file.is_file():  # large files may live only on the Hub
            assert (file.stat().st_size, sha256_file(file)) == (entry["size"], entry["sha256"]), name


def test_safetensors_whose_length_bytes_look_like_pickle_magic_is_accepted(tmp_path):
    import struct

    from safetensors.torch import save_file

    path = tmp_path / "w.safetensors"
    for pad in range(800):  # find a header length of 640 = b"\x80\x02..." (pickle protocol 2's magic)
        save_file({"w": torch.zeros(1)}, str(path), metadata={"k": "a" * pad})
        if struct.unpack("<Q", path.read_bytes()[:8])[0] == 0x0280:
            break
    assert path.read_bytes()[:2] == b"\x80\x02"
    assert read_metadata(path) == {"k": "a" * pad}
