"""The one-command GPU set (docs/scripts/train_gpu_set.py) checked on CPU at a tiny budget, the time-budget
epoch fit, and the GPU-side batch crop."""
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from cnnzoo.data.batch_aug import crop_windows, random_crop
from cnnzoo.engine.budget import epochs_for_budget

REPO = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("train_gpu_set", REPO / "docs" / "scripts" / "train_gpu_set.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_gpu_set"] = module
    spec.loader.exec_module(module)
    return module


def test_gpu_set_trains_side_by_side_and_packs_one_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    script = _load_script()
    archive = tmp_path / "back" / "set.tar.gz"
    # resnet20's weight (1.1 MB) fits under the 2 MB cap, resnet56's (3.4 MB) does not; 1 MB parts
    code = script.main(["--device", "cpu", "--tiny", "--budget-s", "60", "--models", "resnet20", "resnet56",
                        "--out", str(tmp_path / "runs"), "--archive", str(archive), "--max-weight-mb", "2",
                        "--part-mb", "1"])
    assert code == 0
    parts = sorted(archive.parent.glob("set.tar.gz.part*"))
    assert len(parts) >= 2 and max(p.stat().st_size for p in parts) <= 2**20
    with tarfile.open(fileobj=io.BytesIO(b"".join(p.read_bytes() for p in parts)), mode="r:gz") as tar:
        names = set(tar.getnames())
        rows = json.load(tar.extractfile("results.json"))
    assert {"resnet20/model.safetensors", "resnet20/metrics.jsonl", "resnet20/accuracy.png",
            "resnet56/summary.json", "resnet56/loss.png", "resnet20.log", "results.md"} <= names
    assert "resnet56/model.safetensors" not in names
    assert [r["model"] for r in rows] == ["resnet20", "resnet56"]
    assert all(r["exit_code"] == 0 and r["epochs"] == 1 and 0 <= r["test_top1"] <= 100 for r in rows)
    # each run waited for the other, timed its steps and printed the epochs it chose
    assert "time budget 60 s:" in (tmp_path / "runs" / "resnet56.log").read_text()


def test_epochs_for_budget_fits_training_evaluation_and_overheads():
    # 100 steps of 0.1 s + 20 eval batches (0.1/3 s each) + 1 s logging = 11.67 s an epoch;
    # 0.9 * 600 s - (30 * 0.1 / 3 + 5) s = 534 s -> 45 epochs
    assert epochs_for_budget(600, 0.1, 100, 20, 30, max_epochs=300) == 45
    assert epochs_for_budget(600, 0.1, 100, 20, 30, max_epochs=40) == 40
    assert epochs_for_budget(1, 0.1, 100, 20, 30, max_epochs=40) == 1


def test_batch_crop_as_one_gather_equals_the_per_image_slices():
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    g = torch.Generator().manual_seed(3)
    looped = random_crop(x, 4, g)
    g = torch.Generator().manual_seed(3)
    offsets = torch.randint(0, 9, (64, 2), generator=g)
    gathered = crop_windows(torch.nn.functional.pad(x, (4,) * 4), offsets, 32, 32)
    assert torch.equal(looped, gathered)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tensor_loader_keeps_data_on_the_gpu_and_crops_there():
    from cnnzoo.data.batch_aug import BatchAugment
    from cnnzoo.data.tensor_loader import TensorLoader

    images = torch.randint(0, 256, (256, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(256) % 10
    loader = TensorLoader(images, labels, 64, shuffle=True, augment=BatchAugment((0.5,) * 3, (0.25,) * 3),
                          device="cuda")
    assert loader.images.is_cuda
    x, y = next(iter(loader))
    assert x.is_cuda and y.is_cuda and x.shape == (64, 3, 32, 32)
