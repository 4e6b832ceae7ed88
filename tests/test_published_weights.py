"""CI re-verifies every published claim: each weight in weights/index.json is loaded (sha256 checked) and
evaluated on its full evaluation split from the real data; top-1 must equal the index within 0.05 points."""
import json
from pathlib import Path

import pytest
import yaml

from cnnzoo.engine import evaluate
from cnnzoo.engine.config import build_config, resume_changes
from cnnzoo.hub.index import load_index
from cnnzoo.hub.index.remote import HF_ORGANIZATION, RELEASE_URL, remote_home
from cnnzoo.hub.index.schema import entry_problems

from conftest import require_data

REPO = Path(__file__).resolve().parents[1]
INDEX = json.loads((REPO / "weights" / "index.json").read_text())["weights"]
# dataset title in the index -> folder under the data root
FOLDERS = {"CIFAR-10 (JPEG q75 copy)": "cifar10", "Imagenette (160 px squashed copy)": "imagenette160",
           "Intel Image Classification (seeded subset)": "intel_image"}
# weights whose recipe has moved on since they were trained (each recipe's header says how); the difference is pinned
RECIPE_MOVED_ON = {"se_resnet20.cifar10": ["epochs: 100 -> 85"]}


def test_index_entries_are_valid_and_files_small():
    for name, entry in INDEX.items():
        assert entry_problems(name, entry) == [], name
    total = sum((REPO / "weights" / e["file"]).stat().st_size for e in INDEX.values())
    assert total < 60 * 2**20


def test_every_entry_names_its_remote_home_under_the_one_organisation():
    for name, entry in INDEX.items():
        home = {k: entry.get(k) for k in ("hf_repo_id", "hf_revision", "url")}
        assert home == remote_home(name, entry["sha256"]), name
        assert entry["hf_repo_id"].startswith(f"{HF_ORGANIZATION}/") and entry["url"].startswith(f"{RELEASE_URL}/")
    assert RELEASE_URL.startswith("https://")


@pytest.mark.parametrize("name", sorted(INDEX))
def test_published_accuracy_reproduces(name, monkeypatch):
    monkeypatch.delenv("CNNZOO_INDEX", raising=False)
    entry = load_index()[name]
    root = require_data(FOLDERS[entry["dataset"]["name"]])
    result = evaluate(name, str(root), entry["metrics"]["split"], precision="fp32", device="cpu")
    assert result["n"] == entry["metrics"]["n"]
    assert abs(result["top1"] - entry["metrics"]["top1"]) <= 0.05, (result["top1"], entry["metrics"]["top1"])


@pytest.mark.parametrize("name", sorted(INDEX))
def test_recipe_reproduces_the_published_run(name):
    """The recipe an entry names resolves to the config its card saved (keys of where and how fast it ran aside)."""
    card = yaml.safe_load((REPO / "docs" / "weights" / name / "config.yaml").read_text())
    assert resume_changes(card, build_config(INDEX[name]["recipe"])) == RECIPE_MOVED_ON.get(name, [])
