"""Publishing: the dry-run Hub folder (model.safetensors, config.json, README model card), loading it back as a
directory and through a pre-filled Hugging Face cache offline, and the upload call."""
import json

import pytest
import yaml

import cnnzoo
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import sha256_file

from hub_helpers import fill_hf_cache, make_hub, max_abs_diff

REPO_ID = "cnnzoo-test/resnet20-testdata"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    h = make_hub(tmp_path, monkeypatch)
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(h.store))
    return h


@pytest.fixture
def folder(hub, tmp_path, capsys):
    from cnnzoo.cli import main

    out = tmp_path / "dry"
    assert main(["publish", "resnet20.testdata", "--repo-id", REPO_ID, "--dry-run", str(out)]) == 0
    assert "model.safetensors" in capsys.readouterr().out
    return out


def test_dry_run_folder(hub, folder):
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert sha256_file(folder / "model.safetensors") == hub.sha256
    config = json.loads((folder / "config.json").read_text())
    assert (config["architecture"], config["num_classes"], config["num_features"]) == ("resnet20", 10, 64)
    assert config["label_names"] == hub.entry["labels"]
    pcfg = config["pretrained_cfg"]
    assert pcfg["input_size"] == [3, 32, 32] and pcfg["mean"] == hub.entry["mean"] and pcfg["classifier"] == "head.fc"
    assert pcfg["first_conv"] == "stem.conv.weight" and config["cnnzoo"]["metrics"]["top1"] == 12.5
    card = (folder / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["library_name"] == "cnnzoo" and meta["license"] == "apache-2.0" and meta["datasets"] == ["cifar10"]
    assert meta["model-index"][0]["results"][0]["metrics"][0] == {"type": "accuracy", "name": "top1 accuracy",
                                                                  "value": 12.5}
    assert "resnet" in meta["tags"] and meta["pipeline_tag"] == "image-classification"
    assert f'pretrained="hf-hub:{REPO_ID}"' in body and "| test | 10000 | 12.5 | 55.0 |" in body
    assert "- command: `pytest`" in body and hub.sha256 in body


def test_folder_loads_back_as_directory(hub, folder):
    model = cnnzoo.create_model("resnet20", pretrained=folder)
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0 and model.pretrained_cfg["source"] == "explicit path"


def test_folder_loads_back_through_offline_hf_cache(hub, folder, monkeypatch):
    monkeypatch.delenv("CNNZOO_WEIGHTS")
    hub_index.upsert_entry(dict(hub.entry, hf_repo_id=REPO_ID))
    fill_hf_cache(hub.hf_cache, REPO_ID, {n: folder / n for n in ("model.safetensors", "config.json", "README.md")})
    model = cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert model.pretrained_cfg["source"] == "Hugging Face cache" and max_abs_diff(model.state_dict(), hub.state) == 0
    model = cnnzoo.create_model("resnet20", pretrained=f"hf-hub:{REPO_ID}")
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0


def test_upload_calls_hf_api_and_records_repo(hub, monkeypatch):
    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, exist_ok, private):
            calls.append(("create_repo", repo_id, exist_ok, private))

        def upload_folder(self, repo_id, folder_path, commit_message):
            from pathlib import Path

            calls.append(("upload_folder", repo_id, sorted(p.name for p in Path(folder_path).iterdir()),
                          commit_message))
            return "https://huggingface.co/commit/1"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    from cnnzoo.hub.publishing.publish import publish

    assert publish("resnet20.testdata", REPO_ID, token="t") == "https://huggingface.co/commit/1"
    assert calls == [("init", "t"), ("create_repo", REPO_ID, True, False),
                     ("upload_folder", REPO_ID, ["README.md", "config.json", "model.safetensors"],
                      "cnnzoo publish resnet20.testdata")]
    assert hub_index.get_entry("resnet20.testdata")["hf_repo_id"] == REPO_ID


def test_publish_bad_input(hub, tmp_path):
    from cnnzoo.hub.publishing.publish import publish

    with pytest.raises(InvalidArgumentError, match="--repo-id must be ORG/NAME"):
        publish("resnet20.testdata", "no-slash", dry_run_dir=tmp_path / "x")
    with pytest.raises(InvalidArgumentError, match="publish needs a weight name ARCH.TAG, got 'resnet20'"):
        publish("resnet20", REPO_ID, dry_run_dir=tmp_path / "x")
    assert not (tmp_path / "x").exists()
