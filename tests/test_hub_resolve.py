"""Resolution order (explicit -> $CNNZOO_WEIGHTS -> checkout weights/ -> Hugging Face cache -> torch hub cache ->
Hub download -> URL download) and every refusal. The URL steps are in test_hub_url.py."""
import shutil

import pytest
import torch

import cnnzoo
from cnnzoo.errors import UnknownTagError, UnsafeWeightsError, WeightIntegrityError, WeightsNotFoundError
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import save_weights
from cnnzoo.hub.pretrained import resolve_weights

from hub_helpers import fill_hf_cache, files_under, make_hub, metadata


@pytest.fixture
def hub(tmp_path, monkeypatch):
    return make_hub(tmp_path, monkeypatch)


def test_explicit_file_and_directory(hub):
    w = resolve_weights("resnet20", path=hub.file)
    assert (w.source, w.path, w.sha256, w.tag, w.num_classes) == ("explicit path", hub.file, hub.sha256, "testdata", 10)
    w = resolve_weights("resnet20", path=hub.store)
    assert w.source == "explicit path" and w.path == hub.file


def test_env_weights_dir(hub, monkeypatch):
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(hub.store))
    w = resolve_weights("resnet20", "testdata")
    assert (w.source, w.path, w.sha256) == ("$CNNZOO_WEIGHTS", hub.file, hub.sha256)
    assert w.data_config()["labels"][3] == "class_3" and w.data_config()["input_size"] == (3, 32, 32)


def test_checkout_weights_dir(hub, monkeypatch):
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: hub.store)
    w = resolve_weights("resnet20", "testdata")
    assert (w.source, w.path) == ("checkout weights/", hub.file)


def test_env_dir_wins_over_checkout(hub, monkeypatch, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(hub.store, other)
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: other)
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(hub.store))
    assert resolve_weights("resnet20", "testdata").path == hub.file


PINNED = dict(hf_repo_id="cnnzoo-test/resnet20-testdata", hf_revision="sha256-0123456789abcdef")


def test_hugging_face_cache_offline_at_the_pinned_revision(hub):
    hub_index.upsert_entry(dict(hub.entry, **PINNED))
    snapshot = fill_hf_cache(hub.hf_cache, PINNED["hf_repo_id"], {"model.safetensors": hub.file},
                             tags=(PINNED["hf_revision"],))
    w = resolve_weights("resnet20", "testdata")
    assert (w.source, w.path, w.sha256) == ("Hugging Face cache", snapshot / "model.safetensors", hub.sha256)


def test_checkout_wins_over_hugging_face_cache(hub, monkeypatch):
    hub_index.upsert_entry(dict(hub.entry, **PINNED))
    fill_hf_cache(hub.hf_cache, PINNED["hf_repo_id"], {"model.safetensors": hub.file}, tags=(PINNED["hf_revision"],))
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: hub.store)
    assert resolve_weights("resnet20", "testdata").source == "checkout weights/"


def test_cache_of_another_revision_is_not_used(hub):
    hub_index.upsert_entry(dict(hub.entry, **PINNED))
    fill_hf_cache(hub.hf_cache, PINNED["hf_repo_id"], {"model.safetensors": hub.file})  # refs/main only
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_weights("resnet20", "testdata")
    assert (f"Hugging Face cache cnnzoo-test/resnet20-testdata/model.safetensors@sha256-0123456789abcdef "
            f"[{hub.hf_cache}]: not there") in str(info.value)


def test_one_changed_byte_in_the_hugging_face_cache_is_refused(hub):
    import hashlib

    hub_index.upsert_entry(dict(hub.entry, **PINNED))
    snapshot = fill_hf_cache(hub.hf_cache, PINNED["hf_repo_id"], {"model.safetensors": hub.file},
                             tags=(PINNED["hf_revision"],))
    blob = (snapshot / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError) as info:
        cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert str(info.value) == (
        f"weight resnet20.testdata {snapshot / 'model.safetensors'} is damaged or not the published file: "
        f"sha256 mismatch\n  expected {hub.sha256}\n  actual   {hashlib.sha256(bytes(data)).hexdigest()}\n"
        f"Delete it and fetch it again (or pass the right file).")


def test_nothing_resolves_lists_every_place_and_caches_nothing(hub):
    hub_index.upsert_entry(dict(hub.entry, hf_repo_id="cnnzoo-test/absent", url="https://example.invalid/x.bin"))
    with pytest.raises(WeightsNotFoundError) as info:
        cnnzoo.create_model("resnet20.testdata", pretrained=True)
    msg = str(info.value)
    assert msg.startswith("weight resnet20.testdata not found. Looked in:\n")
    for place in ("$CNNZOO_WEIGHTS: not set", "checkout weights/: not a source checkout",
                  f"Hugging Face cache cnnzoo-test/absent/model.safetensors [{hub.hf_cache}]: not there",
                  f"torch hub cache: {hub.torch_home / 'hub' / 'checkpoints' / 'x.bin'} (not there)",
                  "downloads: none tried (HF_HUB_OFFLINE=1 or CNNZOO_OFFLINE=1)"):
        assert f"\n  {place}\n" in msg
    assert "To use it offline: put resnet20.testdata.safetensors in a folder and set CNNZOO_WEIGHTS" in msg
    assert "`hf download cnnzoo-test/absent`" in msg
    assert files_under(hub.hf_cache) == [] and files_under(hub.cache) == [] and not hub.torch_home.exists()


def test_unknown_tag_lists_available(hub):
    with pytest.raises(UnknownTagError, match="unknown weight tag 'cifar100' for 'resnet20'; available tags: testdata"):
        cnnzoo.create_model("resnet20.cifar100", pretrained=True)
    with pytest.raises(UnknownTagError, match="no pretrained weights are published for 'resnet32'"):
        cnnzoo.create_model("resnet32", pretrained=True)


def test_altered_file_wrong_hash(hub, monkeypatch):
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(hub.store))
    data = bytearray(hub.file.read_bytes())
    data[-5] ^= 0xFF  # same length, one tensor byte changed
    hub.file.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError) as info:
        cnnzoo.create_model("resnet20", pretrained="testdata")
    import hashlib

    msg = str(info.value)
    assert str(hub.file) in msg and f"expected {hub.sha256}" in msg
    assert f"actual   {hashlib.sha256(bytes(data)).hexdigest()}" in msg


def test_truncated_file(hub, monkeypatch):
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(hub.store))
    size = hub.file.stat().st_size
    hub.file.write_bytes(hub.file.read_bytes()[: size // 2])
    with pytest.raises(WeightIntegrityError, match=rf"is {size // 2} bytes but its header describes {size}"):
        cnnzoo.create_model("resnet20.testdata", pretrained=True)


def test_header_for_another_architecture(hub, tmp_path):
    other = tmp_path / "resnet32.x.safetensors"
    save_weights(cnnzoo.create_model("resnet32").state_dict(), other, metadata(arch="resnet32", tag="x"))
    with pytest.raises(WeightIntegrityError, match=r"holds weights for 'resnet32.x', not for 'resnet20'"):
        cnnzoo.create_model("resnet20", pretrained=other)


def test_pickle_offered_as_weights(hub, tmp_path):
    path = tmp_path / "resnet20.pth"
    torch.save(cnnzoo.create_model("resnet20").state_dict(), path)
    with pytest.raises(UnsafeWeightsError, match=r"resnet20.pth is a pickle/torch.save file.*cnnzoo import"):
        cnnzoo.create_model("resnet20", pretrained=path)


def test_missing_explicit_path(hub, tmp_path):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        cnnzoo.create_model("resnet20", pretrained=tmp_path / "nope.safetensors")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsNotFoundError, match="holds no single weight file"):
        cnnzoo.create_model("resnet20", pretrained=tmp_path / "empty")
