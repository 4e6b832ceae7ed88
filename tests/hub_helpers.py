"""A private weight hub in a temporary folder for the tests/test_hub_*.py files.

``make_hub`` points cnnzoo at a temporary index ($CNNZOO_INDEX), cache ($CNNZOO_CACHE) and Hugging Face cache
(offline), saves a randomly initialised resnet20 with ``save_weights`` and indexes it as ``resnet20.testdata``.
Nothing is written to the repository's weights/.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

import cnnzoo
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files.io import save_weights

from helpers import randomize_

ARCH, TAG = "resnet20", "testdata"
LABELS = [f"class_{i}" for i in range(10)]


@dataclass
class Hub:
    root: Path
    index: Path
    store: Path  # where the weight file lives (not on any search path until a test puts it there)
    file: Path
    hf_cache: Path
    cache: Path
    sha256: str
    entry: dict
    state: dict[str, torch.Tensor]


def metadata(arch: str = ARCH, tag: str = TAG, num_classes: int = 10) -> dict:
    return dict(arch=arch, tag=tag, num_classes=num_classes, labels=LABELS[:num_classes],
                input_size=[3, 32, 32], mean=[0.4914, 0.4822, 0.4465], std=[0.247, 0.2435, 0.2616],
                interpolation="bicubic", crop_pct=1.0)


def make_entry(file: Path, sha256: str, **overrides) -> dict:
    entry = dict(
        architecture=ARCH, tag=TAG, file=file.name, sha256=sha256, size=file.stat().st_size, num_classes=10,
        labels=LABELS, input_size=[3, 32, 32], mean=[0.4914, 0.4822, 0.4465], std=[0.247, 0.2435, 0.2616],
        interpolation="bicubic", crop_pct=1.0,
        dataset=dict(name="CIFAR-10", split="train", num_images=50000, note="random weights for tests"),
        metrics=dict(top1=12.5, top5=55.0, split="test", n=10000), params=269722,
        recipe="recipes/none.yaml", command="pytest", hardware=dict(cpu="test", cores=2, precision="fp32"),
        wall_time_s=1.0, epochs=0, date="2025-01-01", license="apache-2.0")
    entry.update(overrides)
    return entry


def make_hub(tmp_path: Path, monkeypatch) -> Hub:
    root = tmp_path / "hub"
    store, cache, hf_cache = root / "store", root / "cache", root / "hf" / "hub"
    for d in (store, cache, hf_cache):
        d.mkdir(parents=True)
    index = root / "index.json"
    monkeypatch.setenv("CNNZOO_INDEX", str(index))
    monkeypatch.setenv("CNNZOO_CACHE", str(cache))
    monkeypatch.delenv("CNNZOO_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(root / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: None)

    model = randomize_(cnnzoo.create_model(ARCH), seed=1)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    file = store / f"{ARCH}.{TAG}.safetensors"
    sha = save_weights(state, file, metadata())
    entry = make_entry(file, sha)
    hub_index.upsert_entry(entry, index)
    return Hub(root, index, store, file, hf_cache, cache, sha, entry, state)


def fill_hf_cache(hf_cache: Path, repo_id: str, files: dict[str, Path], revision: str = "a" * 40) -> Path:
    """Lay out ``files`` as huggingface_hub's cache does: blobs/<hash>, snapshots/<rev>/<name> -> blob,
    refs/main = <rev>."""
    import hashlib

    repo = hf_cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for name, src in files.items():
        data = src.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / name)
    return snapshot


def max_abs_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], keys=None) -> float:
    keys = list(a) if keys is None else list(keys)
    return max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0 for k in keys)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() or p.is_symlink())
