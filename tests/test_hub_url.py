"""The URL fallback against a real HTTP server on 127.0.0.1: the Hub first (here a local endpoint that has no such
repo), then the entry's url, downloaded into the torch hub cache only when its sha256 is right, and found there
the next time without any request."""
import hashlib
import shutil

import pytest

import cnnzoo
from cnnzoo.errors import WeightIntegrityError, WeightsNotFoundError
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.pretrained import resolve_weights

from hub_helpers import files_under, make_hub, max_abs_diff, serve_folder

ASSET = "resnet20.testdata-12345678.safetensors"
REPO_ID = "cnnzoo-test/resnet20-testdata"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    import huggingface_hub

    h = make_hub(tmp_path, monkeypatch)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    # huggingface_hub reads HF_HUB_OFFLINE once, at its import, which an earlier test may have done offline
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    (h.root / "site").mkdir()
    return h


@pytest.fixture
def site(hub, monkeypatch):
    """The HTTP server; it is the Hub endpoint too, so the Hub step gets a real (404) answer, not a timeout."""
    with serve_folder(hub.root / "site") as (base, requests):
        monkeypatch.setenv("HF_ENDPOINT", base)
        hub_index.upsert_entry(dict(hub.entry, hf_repo_id=REPO_ID, hf_revision="sha256-0123456789abcdef",
                                    url=f"{base}/{ASSET}"))
        yield base, requests


def checkpoints(hub):
    return hub.torch_home / "hub" / "checkpoints"


def test_url_after_the_hub_then_the_torch_hub_cache(hub, site):
    base, requests = site
    shutil.copyfile(hub.file, hub.root / "site" / ASSET)
    model = cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert model.pretrained_cfg["source"] == "URL" and model.pretrained_cfg["sha256"] == hub.sha256
    assert max_abs_diff(model.state_dict(), hub.state) == 0.0
    hub_request = f"/{REPO_ID}/resolve/sha256-0123456789abcdef/model.safetensors"
    assert requests.index(hub_request) < requests.index(f"/{ASSET}") == len(requests) - 1
    assert files_under(hub.torch_home) == [f"hub/checkpoints/{ASSET}"]
    seen = len(requests)
    w = resolve_weights("resnet20", "testdata")
    assert (w.source, w.path, w.sha256) == ("torch hub cache", checkpoints(hub) / ASSET, hub.sha256)
    assert len(requests) == seen  # no network the second time


def test_substituted_download_is_refused_and_not_kept(hub, site):
    data = bytearray(hub.file.read_bytes())
    data[-3] ^= 0xFF
    (hub.root / "site" / ASSET).write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError) as info:
        cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert str(info.value) == (f"download of {site[0]}/{ASSET} is not the published file: sha256 mismatch\n"
                               f"  expected {hub.sha256}\n  actual   {hashlib.sha256(bytes(data)).hexdigest()}\n"
                               f"Nothing was kept; the mirror or the URL is wrong.")
    assert files_under(hub.torch_home) == []  # no partial or wrong file left behind


def test_missing_everywhere_lists_the_hub_and_the_url_answers(hub, site):
    base, _ = site
    with pytest.raises(WeightsNotFoundError) as info:
        cnnzoo.create_model("resnet20.testdata", pretrained=True)
    msg = str(info.value)
    assert f"\n  URL {base}/{ASSET}: HTTPError: HTTP Error 404: File not found\n" in msg
    assert f"\n  Hugging Face Hub {REPO_ID}/model.safetensors@sha256-0123456789abcdef [online]: " in msg
    assert files_under(hub.torch_home) == []


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "CNNZOO_OFFLINE"])
def test_offline_sends_no_request(hub, site, monkeypatch, variable):
    shutil.copyfile(hub.file, hub.root / "site" / ASSET)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(WeightsNotFoundError, match=r"downloads: none tried \(HF_HUB_OFFLINE=1 or CNNZOO_OFFLINE=1\)"):
        cnnzoo.create_model("resnet20.testdata", pretrained=True)
    assert site[1] == []
