"""A private weight hub in a temporary folder for the tests/test_hub_*.py files.

``make_hub`` points cnnzoo at a temporary index ($CNNZOO_INDEX), cache ($CNNZOO_CACHE), Hugging Face cache
(offline) and torch hub cache ($TORCH_HOME), saves a randomly initialised resnet20 with ``save_weights`` and
indexes it as ``resnet20.testdata``. ``serve_folder`` is a local HTTP server for the URL fallback.
Nothing is written to the repository's weights/.
"""
from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

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
    torch_home: Path
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
    monkeypatch.setenv("TORCH_HOME", str(root / "torch"))
    monkeypatch.delenv("CNNZOO_OFFLINE", raising=False)
    monkeypatch.setattr(hub_index.store, "checkout_weights_dir", lambda: None)

    model = randomize_(cnnzoo.create_model(ARCH), seed=1)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    file = store / f"{ARCH}.{TAG}.safetensors"
    sha = save_weights(state, file, metadata())
    entry = make_entry(file, sha)
    hub_index.upsert_entry(entry, index)
    return Hub(root, index, store, file, hf_cache, cache, root / "torch", sha, entry, state)


def hub_blob_name(name: str, data: bytes) -> str:
    """The Hub cache names a blob by its etag: sha256 for an LFS file (*.safetensors), git's blob sha1 else."""
    if name.endswith(".safetensors"):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fill_hf_cache(hf_cache: Path, repo_id: str, files: dict[str, Path], tags: tuple[str, ...] = (),
                  commit: str = "a" * 40) -> Path:
    """Lay out ``files`` as huggingface_hub's cache does after a download: blobs/<etag>, snapshots/<commit>/<name>
    -> ../../blobs/<etag>, refs/main (and refs/<tag> for each tag) holding the commit."""
    repo = hf_cache / f"models--{repo_id.replace('/', '--')}"
    for ref in ("main", *tags):
        (repo / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, src in files.items():
        data = src.read_bytes()
        blob = repo / "blobs" / hub_blob_name(name, data)
        blob.write_bytes(data)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / name)
    return snapshot


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) from a thread; yields the base URL and the list of
    request paths it received. Missing files answer 404."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def do_HEAD(self):
            requests.append(self.path)
            super().do_HEAD()

        def log_message(self, *args):  # keep pytest's output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def max_abs_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], keys=None) -> float:
    keys = list(a) if keys is None else list(keys)
    return max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0 for k in keys)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() or p.is_symlink())
