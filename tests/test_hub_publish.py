"""Publishing: the Hub folder (model.safetensors, config.json, a README model card that huggingface_hub's
ModelCard accepts), loading it back as a folder, through an offline Hugging Face cache and as "hf-hub:ORG/NAME",
the upload (a fake HfApi that records every file's bytes) and a user's own model through push_to_hub."""
import hashlib
import json
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.errors import InvalidArgumentError, WeightIntegrityError
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import sha256_file

from hub_helpers import LABELS, fill_hf_cache, make_hub, max_abs_diff

REPO_ID = "cnnzoo-test/resnet20-testdata"
FILES = ["README.md", "config.json", "model.safetensors"]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    h = make_hub(tmp_path, monkeypatch)
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(h.store))
    return h


@pytest.fixture
def folder(hub, tmp_path, capsys):
    from cnnzoo.cli import main

    out = tmp_path / "dry"
    assert main(["dev", "publish", "resnet20.testdata", "--repo-id", REPO_ID, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"(repo {REPO_ID}, revision sha256-{hub.sha256[:16]})" in printed and "model.safetensors" in printed
    return out


class FakeApi:
    """huggingface_hub.HfApi as publish uses it; records the calls and the bytes of every uploaded file."""

    calls: list = []
    uploaded: dict[str, bytes] = {}

    def __init__(self, token=None):
        FakeApi.calls.append(("init", token))

    def create_repo(self, repo_id, exist_ok, private):
        FakeApi.calls.append(("create_repo", repo_id, exist_ok, private))

    def upload_folder(self, repo_id, folder_path, commit_message):
        FakeApi.uploaded = {p.name: p.read_bytes() for p in sorted(Path(folder_path).iterdir())}
        FakeApi.calls.append(("upload_folder", repo_id, sorted(FakeApi.uploaded), commit_message))
        from huggingface_hub import CommitInfo

        return CommitInfo(commit_url=f"https://huggingface.co/{repo_id}/commit/{'c' * 40}", commit_message="",
                          commit_description="", oid="c" * 40)

    def create_tag(self, repo_id, tag, revision, exist_ok):
        FakeApi.calls.append(("create_tag", repo_id, tag, revision, exist_ok))


@pytest.fixture
def fake_api(monkeypatch):
    import huggingface_hub

    FakeApi.calls, FakeApi.uploaded = [], {}
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return FakeApi


def check_card(text: str) -> "huggingface_hub.ModelCard":  # noqa: F821
    from huggingface_hub import ModelCard, ModelCardData

    card = ModelCard(text, ignore_metadata_errors=False)  # raises on a malformed model-index
    again = ModelCardData(**card.data.to_dict())
    assert again.to_dict() == card.data.to_dict() and card.data.library_name == "cnnzoo"
    return card


def test_folder_config_and_card(hub, folder):
    assert sorted(p.name for p in folder.iterdir()) == FILES
    assert sha256_file(folder / "model.safetensors") == hub.sha256
    config = json.loads((folder / "config.json").read_text())
    assert (config["architecture"], config["num_classes"], config["num_features"]) == ("resnet20", 10, 64)
    assert config["label_names"] == hub.entry["labels"] and config["cnnzoo"]["sha256"] == hub.sha256
    pcfg = config["pretrained_cfg"]
    assert (pcfg["input_size"], pcfg["mean"], pcfg["std"]) == ([3, 32, 32], hub.entry["mean"], hub.entry["std"])
    assert (pcfg["interpolation"], pcfg["crop_pct"], pcfg["num_classes"]) == ("bicubic", 1.0, 10)
    assert pcfg["first_conv"] == "stem.conv.weight" and pcfg["classifier"] == "head.fc"
    card = check_card((folder / "README.md").read_text())
    assert (card.data.license, card.data.datasets, card.data.pipeline_tag) == ("apache-2.0", ["uoft-cs/cifar10"],
                                                                              "image-classification")
    assert card.data.tags == ["image-classification", "cnnzoo", "resnet", "resnet20"]
    results = [(r.metric_name, r.metric_value, r.dataset_type, r.dataset_split, r.task_type)
               for r in card.data.eval_results]
    assert results == [("top1 accuracy", 12.5, "uoft-cs/cifar10", "test", "image-classification"),
                       ("top5 accuracy", 55.0, "uoft-cs/cifar10", "test", "image-classification")]
    assert f'create_model("hf-hub:{REPO_ID}", pretrained=True)' in card.text
    assert "| test | 10000 | 12.5 | 55.0 |" in card.text and "- command: `pytest`" in card.text
    assert hub.sha256 in card.text


def test_card_of_every_published_weight_validates(tmp_path, monkeypatch):
    from cnnzoo.hub.publishing.publish import publish

    monkeypatch.delenv("CNNZOO_INDEX", raising=False)
    for name, entry in hub_index.load_index().items():
        done = publish(name, out=tmp_path / name)
        card = check_card((done.folder / "README.md").read_text())
        assert (done.repo_id, done.revision) == (entry["hf_repo_id"], entry["hf_revision"]), name
        assert card.data.license == "apache-2.0" and card.data.eval_results[0].metric_value == \
            entry["metrics"]["top1"], name
        assert card.data.datasets == (["frgfm/imagenette"] if "imagenette" in name else ["uoft-cs/cifar10"]), name


def test_folder_loads_back_as_directory_and_local_dir(hub, folder):
    model = cnnzoo.create_model("resnet20", pretrained=folder)
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0 and model.pretrained_cfg["source"] == "explicit path"
    model = cnnzoo.create_model(f"local-dir:{folder}", pretrained=True)
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0 and model.pretrained_cfg["labels"] == LABELS


def test_folder_loads_back_through_offline_hf_cache(hub, folder, monkeypatch):
    monkeypatch.delenv("CNNZOO_WEIGHTS")
    revision = f"sha256-{hub.sha256[:16]}"
    hub_index.upsert_entry(dict(hub.entry, hf_repo_id=REPO_ID, hf_revision=revision))
    fill_hf_cache(hub.hf_cache, REPO_ID, {n: folder / n for n in FILES}, tags=(revision,))
    model = cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert model.pretrained_cfg["source"] == "Hugging Face cache" and max_abs_diff(model.state_dict(), hub.state) == 0
    for name in (f"hf-hub:{REPO_ID}", f"hf-hub:{REPO_ID}@{revision}"):  # timm's form; no architecture given
        model = cnnzoo.create_model(name, pretrained=True)
        assert max_abs_diff(model.state_dict(), hub.state) == 0.0
        assert (model.pretrained_cfg["architecture"], model.pretrained_cfg["sha256"]) == ("resnet20", hub.sha256)


def test_hub_repo_whose_file_differs_from_its_config_is_refused(hub, folder, monkeypatch):
    monkeypatch.delenv("CNNZOO_WEIGHTS")
    snapshot = fill_hf_cache(hub.hf_cache, REPO_ID, {n: folder / n for n in FILES})
    blob = (snapshot / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[-7] ^= 0x10
    blob.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError) as info:
        cnnzoo.create_model(f"hf-hub:{REPO_ID}", pretrained=True)
    assert f"expected {hub.sha256}\n  actual   {hashlib.sha256(bytes(data)).hexdigest()}" in str(info.value)


def test_push_uploads_the_verified_bytes_tags_and_records_the_remote_home(hub, fake_api, capsys):
    from cnnzoo.cli import main

    assert main(["dev", "publish", "resnet20.testdata", "--repo-id", REPO_ID, "--push", "--token", "t"]) == 0
    revision = f"sha256-{hub.sha256[:16]}"
    assert fake_api.calls == [("init", "t"), ("create_repo", REPO_ID, True, False),
                              ("upload_folder", REPO_ID, FILES, "cnnzoo publish resnet20.testdata"),
                              ("create_tag", REPO_ID, revision, "c" * 40, True)]
    assert hashlib.sha256(fake_api.uploaded["model.safetensors"]).hexdigest() == hub.sha256
    assert json.loads(fake_api.uploaded["config.json"])["cnnzoo"]["sha256"] == hub.sha256
    check_card(fake_api.uploaded["README.md"].decode())
    entry = hub_index.get_entry("resnet20.testdata")
    assert (entry["hf_repo_id"], entry["hf_revision"], entry["url"]) == (
        REPO_ID, revision, f"https://huggingface.co/{REPO_ID}/resolve/{revision}/model.safetensors")
    assert f"uploaded resnet20.testdata to https://huggingface.co/{REPO_ID}" in capsys.readouterr().out


def test_push_to_hub_of_a_users_model_loads_back_by_repo_name(hub, fake_api, monkeypatch, tmp_path):
    torch.manual_seed(0)
    model = cnnzoo.create_model("resnet20", num_classes=3)
    with torch.no_grad():
        model.head.fc.bias.copy_(torch.tensor([0.5, -1.0, 2.0]))
    url = cnnzoo.push_to_hub(model, "someone/my-resnet20", labels=["cat", "dog", "owl"], token="t")
    assert url == f"https://huggingface.co/someone/my-resnet20/commit/{'c' * 40}"
    assert [c[0] for c in fake_api.calls] == ["init", "create_repo", "upload_folder"]  # no tag for a user's repo
    site = tmp_path / "uploaded"
    site.mkdir()
    for name, data in fake_api.uploaded.items():
        (site / name).write_bytes(data)
    fill_hf_cache(hub.hf_cache, "someone/my-resnet20", {n: site / n for n in FILES})
    loaded = cnnzoo.create_model("hf-hub:someone/my-resnet20", pretrained=True)
    assert max_abs_diff(loaded.state_dict(), model.state_dict()) == 0.0
    assert (loaded.num_classes, loaded.pretrained_cfg["labels"]) == (3, ["cat", "dog", "owl"])
    card = check_card(fake_api.uploaded["README.md"].decode())
    assert card.data.eval_results is None and 'create_model("hf-hub:someone/my-resnet20"' in card.text


def test_save_pretrained_needs_labels(hub, tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"pass labels=\[...\] with the model's 3 class names"):
        cnnzoo.save_pretrained(cnnzoo.create_model("resnet20", num_classes=3), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_publish_bad_input(hub, tmp_path):
    from cnnzoo.hub.publishing.publish import publish

    with pytest.raises(InvalidArgumentError, match="--repo-id must be ORG/NAME"):
        publish("resnet20.testdata", tmp_path / "x", repo_id="no-slash")
    with pytest.raises(InvalidArgumentError, match="publish needs a weight name ARCH.TAG, got 'resnet20'"):
        publish("resnet20", tmp_path / "x")
    assert not (tmp_path / "x").exists()
