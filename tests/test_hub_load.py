"""create_model(..., pretrained=...) in every spelling, adaptation of head and first conv, strict key checks,
torch.hub, model_info / list_models / `cnnzoo info` showing the weights."""
import logging
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.errors import WeightIntegrityError
from cnnzoo.hub.adapt import adapt_input_conv, first_conv_key
from cnnzoo.hub.files.io import save_weights
from cnnzoo.hub.pretrained import load_weights, resolve_weights

from hub_helpers import make_hub, max_abs_diff, metadata

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    h = make_hub(tmp_path, monkeypatch)
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(h.store))
    return h


@pytest.mark.parametrize("name,pretrained", [("resnet20.testdata", True), ("resnet20", "testdata"),
                                             ("resnet20", True), ("resnet20", "PATH"), ("resnet20", "DIR")])
def test_every_spelling_loads_the_same_tensors(hub, name, pretrained):
    pretrained = {"PATH": hub.file, "DIR": str(hub.store)}.get(pretrained, pretrained)
    model = cnnzoo.create_model(name, pretrained=pretrained)
    state = model.state_dict()
    assert set(state) == set(hub.state) and max_abs_diff(state, hub.state) == 0.0
    cfg = model.pretrained_cfg
    assert cfg["tag"] == "testdata" and cfg["sha256"] == hub.sha256 and cfg["labels"][9] == "class_9"
    assert cfg["num_classes"] == 10 and cfg["input_size"] == (3, 32, 32) and cfg["crop_pct"] == 1.0


def test_other_num_classes_drops_only_the_classifier(hub, caplog):
    with caplog.at_level(logging.INFO, logger="cnnzoo"):
        model = cnnzoo.create_model("resnet20.testdata", pretrained=True, num_classes=5)
    state = model.state_dict()
    kept = [k for k in hub.state if not k.startswith("head.fc.")]
    assert max_abs_diff(state, hub.state, kept) == 0.0 and state["head.fc.weight"].shape == (5, 64)
    lines = [r.getMessage() for r in caplog.records if "classifier" in r.getMessage()]
    assert lines == ["cnnzoo: resnet20.testdata: classifier head.fc not loaded (weight has 10 classes, model 5); "
                     "it is newly initialised"]
    assert "labels" not in model.pretrained_cfg and model.pretrained_cfg["num_classes"] == 5
    report = load_weights(cnnzoo.create_model("resnet20", num_classes=0), resolve_weights("resnet20", "testdata"))
    assert report.dropped == ["head.fc.bias", "head.fc.weight"] and report.adapted == []
    assert len(report.loaded) == len(hub.state) - 2


@pytest.mark.parametrize("in_chans", [1, 2, 6])
def test_other_in_chans_adapts_the_first_conv(hub, in_chans):
    model = cnnzoo.create_model("resnet20", pretrained="testdata", in_chans=in_chans)
    key = first_conv_key(model)
    assert key == "stem.conv.weight"
    w, got = hub.state[key], model.state_dict()[key]
    if in_chans == 1:
        expected = w.sum(1, keepdim=True)
    else:
        expected = torch.cat([w, w], 1)[:, :in_chans] * (3 / in_chans)
    assert got.shape == (16, in_chans, 3, 3) and float((got - expected).abs().max()) < 1e-6
    others = [k for k in hub.state if k != key]
    assert max_abs_diff(model.state_dict(), hub.state, others) == 0.0
    # a grey image replicated over the channels gives the 3-channel model's response (exactly so when the new
    # channel count is 1 or a multiple of 3)
    if in_chans in (1, 6):
        ref = cnnzoo.create_model("resnet20", pretrained="testdata").eval()
        grey = torch.rand(2, 1, 32, 32)
        with torch.no_grad():
            diff = (model.eval()(grey.expand(-1, in_chans, -1, -1)) - ref(grey.expand(-1, 3, -1, -1))).abs().max()
        assert float(diff) < 1e-4


def test_adapt_input_conv_keeps_dtype_and_sum():
    w = torch.randn(4, 3, 3, 3, dtype=torch.float16)
    out = adapt_input_conv(w, 6)
    assert out.dtype == torch.float16 and out.shape == (4, 6, 3, 3)
    assert float((out.float().sum(1) - w.float().sum(1)).abs().max()) < 1e-2  # scale keeps the total


def test_strict_load_lists_missing_and_unexpected(hub, tmp_path):
    state = dict(hub.state)
    del state["stages.1.0.conv1.bn.weight"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.safetensors"
    save_weights(state, path, metadata())
    with pytest.raises(WeightIntegrityError) as info:
        cnnzoo.create_model("resnet20", pretrained=path)
    msg = str(info.value)
    assert "missing (1): stages.1.0.conv1.bn.weight" in msg and "unexpected (1): extra.weight" in msg


def test_torch_hub_entry_accepts_tag_and_true(hub):
    model = torch.hub.load(str(REPO), "resnet20", source="local", pretrained="testdata")
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0
    model = torch.hub.load(str(REPO), "resnet20", source="local", pretrained=True, num_classes=3)
    assert model.num_classes == 3 and max_abs_diff(model.state_dict(), hub.state, ["stem.conv.weight"]) == 0.0


def test_listing_and_info_show_the_weight(hub, capsys):
    assert "resnet20.testdata" in cnnzoo.list_models(pretrained=True)
    assert cnnzoo.list_models("resnet20*", pretrained=True) == ["resnet20.testdata"]
    info = cnnzoo.model_info("resnet20", macs=False)
    assert info["weights"] == ["resnet20.testdata"]
    detail = info["weight_details"][0]
    assert (detail["top1"], detail["top5"], detail["split"], detail["n"], detail["dataset"]) == \
        (12.5, 55.0, "test", 10000, "CIFAR-10")
    from cnnzoo.cli import main

    assert main(["info", "resnet20"]) == 0
    out = capsys.readouterr().out
    assert "resnet20.testdata" in out and "top-1 12.5 / top-5 55.0 on CIFAR-10 test (n=10,000)" in out
