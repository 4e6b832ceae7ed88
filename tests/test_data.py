"""Datasets: folder layouts, bad input, validation split, tensor cache, batch augmentation, tensor loader."""
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnzoo.data import (carve_validation, find_split, load_rgb, resolve_dataset, sample_dir, scan_folder)
from cnnzoo.data import batch_aug, cache
from cnnzoo.data.tensor_loader import TensorLoader
from cnnzoo.errors import DataError, DataNotFoundError
from conftest import require_data

SAMPLE = sample_dir()


def test_sample_is_a_cifar10_image_folder():
    index = scan_folder(SAMPLE / "train")
    assert len(index.classes) == 10 and len(index) == 200
    assert index.targets.count(3) == 20 and index.classes[3] == "cat"
    assert sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file()) < 1_000_000


def test_kaggle_nested_layout_is_read(tmp_path):
    intel = require_data("intel_image", "train")
    for cls in sorted(os.listdir(intel)):
        target = tmp_path / "seg_train" / "seg_train" / cls
        target.mkdir(parents=True)
        for name in sorted(os.listdir(intel / cls))[:3]:
            (target / name).symlink_to(intel / cls / name)
    split = find_split(tmp_path, "train")
    assert split == tmp_path / "seg_train" / "seg_train"
    index = scan_folder(split)
    assert index.classes == ["buildings", "forest", "glacier", "mountain", "sea", "street"]
    assert len(index) == 18
    assert load_rgb(index.samples[0][0]).size == (150, 150)


def _copy_two_classes(tmp_path: Path) -> Path:
    root = tmp_path / "train"
    for cls in ("cat", "dog"):
        shutil.copytree(SAMPLE / "train" / cls, root / cls)
    return root


def test_empty_class_folder_and_non_image_files_are_named(tmp_path):
    root = _copy_two_classes(tmp_path)
    (root / "empty").mkdir()
    (root / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError) as err:
        scan_folder(root)
    assert str(root / "empty") in str(err.value) and str(root / "cat" / "notes.txt") in str(err.value)
    with pytest.warns(UserWarning, match="notes.txt"):
        index = scan_folder(root, skip_bad=True)
    assert len(index) == 40 and index.classes == ["cat", "dog", "empty"]


def test_corrupt_image_is_named_or_skipped(tmp_path):
    root = _copy_two_classes(tmp_path)
    bad = root / "dog" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(DataError, match="broken.jpg"):
        load_rgb(bad)
    with pytest.raises(DataError, match="broken.jpg"):
        scan_folder(root, verify=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = scan_folder(root, verify=True, skip_bad=True)
    assert len(index) == 40 and any("broken.jpg" in str(w.message) for w in caught)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16"])
def test_image_modes_are_converted_to_rgb(tmp_path, mode):
    src = Image.new("RGB", (8, 6), (200, 100, 50))
    img = {"L": src.convert("L"), "RGBA": src.convert("RGBA"), "CMYK": src.convert("CMYK"),
           "P": src.convert("P", palette=Image.Palette.ADAPTIVE), "I;16": Image.fromarray(np.full((6, 8), 128 * 256, dtype=np.uint16))}[mode]
    path = tmp_path / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png")
    img.save(path)
    out = load_rgb(path)
    assert out.mode == "RGB" and out.size == (8, 6)
    px = out.getpixel((3, 3))
    expected = {"L": (src.convert("L").getpixel((0, 0)),) * 3, "I;16": (128, 128, 128)}.get(mode, (200, 100, 50))
    assert max(abs(a - b) for a, b in zip(px, expected)) <= 2


def test_unknown_dataset_and_missing_root():
    with pytest.raises(DataNotFoundError, match="unknown dataset 'cifar100'.*cifar10, imagenette, intel_image"):
        resolve_dataset("cifar100")
    with pytest.raises(DataNotFoundError, match="/no/such/folder"):
        resolve_dataset("/no/such/folder")


def test_named_dataset_resolves_under_cnnzoo_data(monkeypatch):
    root = require_data()
    monkeypatch.setenv("CNNZOO_DATA", str(root))
    assert resolve_dataset("imagenette") == (root / "imagenette160", "imagenette")
    monkeypatch.setenv("CNNZOO_DATA", "/nonexistent-data-root")
    with pytest.raises(DataNotFoundError, match="intel_image.*nonexistent-data-root"):
        resolve_dataset("intel_image")


def test_validation_split_is_seeded_and_disjoint():
    train, val = carve_validation(50_000, 5000, seed=0)
    assert len(train) == 45_000 and len(val) == 5000 and not set(train) & set(val)
    assert carve_validation(50_000, 5000, seed=0)[1] == val
    assert carve_validation(50_000, 5000, seed=1)[1] != val
    assert len(carve_validation(1000, 0.1, seed=0)[1]) == 100


def test_tensor_cache_matches_pil_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    index = scan_folder(SAMPLE / "test")
    images, labels = cache.load_or_build(index)
    assert images.shape == (200, 3, 32, 32) and images.dtype == torch.uint8
    first = np.array(load_rgb(index.samples[0][0]))
    assert torch.equal(images[0].permute(1, 2, 0), torch.from_numpy(first))
    assert labels.tolist() == index.targets
    files = list((tmp_path / "cache" / "tensors").glob("*.safetensors"))
    assert len(files) == 1

    def no_decode(*a, **k):
        raise AssertionError("decoded again although the cache is current")

    # the full decode and the per-image decode of a changed file: neither runs while every image is unchanged
    monkeypatch.setattr(cache, "decode_sources", no_decode)
    monkeypatch.setattr(cache, "_decode", no_decode)
    again, _ = cache.load_or_build(index)
    assert torch.equal(again, images)
    # one file fewer -> another key
    assert cache.cache_key(index.subset(range(199)), None) != cache.cache_key(index, None)


def test_batch_augmentation_ops():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    crop = batch_aug.random_crop(x, 4, g)
    padded = torch.nn.functional.pad(x, (4,) * 4)
    # every crop is some 32x32 window of the padded image
    for i in range(16):
        windows = padded[i].unfold(1, 32, 1).unfold(2, 32, 1)  # (3, 9, 9, 32, 32)
        assert any(torch.equal(windows[:, r, c], crop[i]) for r in range(9) for c in range(9))
    assert torch.equal(batch_aug.random_flip(x, g, p=1.0), x.flip(3))
    norm = batch_aug.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616))(x)
    ref = (x.float() / 255 - torch.tensor([0.4914, 0.4822, 0.4465])[:, None, None]) / \
        torch.tensor([0.247, 0.2435, 0.2616])[:, None, None]
    assert (norm - ref).abs().max().item() < 1e-5
    ones = torch.ones(64, 3, 32, 32)
    cut = batch_aug.cutout(ones, 8, g)
    zeroed = (cut[:, 0] == 0).sum((1, 2))
    assert zeroed.max().item() == 64 and zeroed.min().item() >= 16  # 8x8, at least a quarter inside


def test_tensor_loader_is_seeded_and_shards_the_global_batch():
    images = torch.arange(100, dtype=torch.uint8).view(100, 1, 1, 1).expand(100, 3, 4, 4).contiguous()
    labels = torch.arange(100)
    aug = batch_aug.BatchAugment((0, 0, 0), (1 / 255,) * 3, crop_padding=0, hflip=True)
    single = TensorLoader(images, labels, 20, shuffle=True, augment=aug, seed=3, drop_last=True)
    single.set_epoch(2)
    batches = list(single)
    again = list(single)
    assert len(batches) == 5 and all(torch.equal(a[1], b[1]) for a, b in zip(batches, again))
    shards = []
    for rank in range(2):
        loader = TensorLoader(images, labels, 20, shuffle=True, augment=aug, seed=3, drop_last=True, rank=rank,
                              world_size=2)
        loader.set_epoch(2)
        shards.append(list(loader))
    for b, (x, y) in enumerate(batches):
        merged = torch.stack([shards[0][b][1], shards[1][b][1]], 1).flatten()
        assert torch.equal(merged, y) and shards[0][b][0].shape[0] == 10
    single.set_epoch(3)
    assert not torch.equal(next(iter(single))[1], batches[0][1])


def test_folder_loader_for_larger_images_uses_the_model_config(monkeypatch):
    from cnnzoo.data import build_data
    from cnnzoo.engine import build_config

    monkeypatch.setenv("CNNZOO_DATA", str(require_data("intel_image").parent))
    cfg = build_config(None, data="intel_image", subset=12, batch_size=6, workers=0, val_size=6)
    data_cfg = dict(input_size=(3, 96, 96), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), crop_pct=0.875,
                    interpolation="bicubic")
    bundle = build_data(cfg, data_cfg)
    assert bundle.loader == "folder" and bundle.test_split == "test"
    assert bundle.counts == {"val": 6, "train": 12, "test": 12}
    x, y = next(iter(bundle.train))
    assert x.shape == (6, 3, 96, 96) and y.max().item() < 6
    xt, _ = next(iter(bundle.test))
    # eval: resize the short side to 96 / 0.875 = 109, centre crop 96; values normalised around 0
    assert xt.shape == (6, 3, 96, 96) and -2.1 <= xt.min().item() and xt.max().item() <= 2.1


def test_crop_scale_sets_the_random_resized_crop_area(monkeypatch):
    from torchvision import transforms as T

    from cnnzoo.data import build_data
    from cnnzoo.engine import build_config
    from cnnzoo.errors import ConfigError

    monkeypatch.setenv("CNNZOO_DATA", str(require_data("intel_image").parent))
    cfg = build_config(None, data="intel_image", subset=12, batch_size=6, workers=0, val_size=6, crop_scale=0.25)
    data_cfg = dict(input_size=(3, 64, 64), mean=(0.5,) * 3, std=(0.25,) * 3, crop_pct=0.875, interpolation="bicubic")
    steps = build_data(cfg, data_cfg).train.dataset.transform.transforms
    crops = [s for s in steps if isinstance(s, T.RandomResizedCrop)]
    assert len(crops) == 1 and crops[0].scale == (0.25, 1.0)
    with pytest.raises(ConfigError, match=r"crop_scale must be .*\(0, 1\]"):
        build_config(None, crop_scale=0)


def test_resized_crop_boxes_follow_torchvision():
    from torchvision import transforms as T

    g = torch.Generator().manual_seed(0)
    boxes = batch_aug.resized_crop_boxes(20000, 120, 160, (0.25, 1.0), (3 / 4, 4 / 3), g)
    left, top, w, h = boxes.T.double()
    assert left.min() >= 0 and top.min() >= 0 and (left + w).max() <= 160 and (top + h).max() <= 120
    area = w * h / (120 * 160)
    assert area.min() >= 0.24 and area.max() <= 1.0
    torch.manual_seed(0)
    ref = torch.tensor([T.RandomResizedCrop.get_params(torch.empty(3, 120, 160), [0.25, 1.0], [3 / 4, 4 / 3])
                        for _ in range(20000)], dtype=torch.float64)  # (top, left, h, w)
    ref_area = ref[:, 2] * ref[:, 3] / (120 * 160)
    assert abs(area.mean() - ref_area.mean()) < 0.01 and abs((w / h).mean() - (ref[:, 3] / ref[:, 2]).mean()) < 0.01
    # no draw fits (a 2:1 box of the whole area): torchvision's fallback, the widest 2:1 box, centred
    wide = batch_aug.resized_crop_boxes(3, 100, 100, (1.0, 1.0), (2.0, 2.0), g)
    assert wide.tolist() == [[0, 25, 100, 50]] * 3


def test_random_resized_crop_matches_pil_to_one_level_and_its_rounding():
    from PIL import Image

    x = torch.randint(0, 256, (6, 3, 150, 150), dtype=torch.uint8)
    x = torch.nn.functional.avg_pool2d(x.float(), 3, 1, 1).to(torch.uint8)  # photo-like, not white noise
    boxes = batch_aug.resized_crop_boxes(6, 150, 150, (0.25, 1.0), (3 / 4, 4 / 3), torch.Generator().manual_seed(4))
    out = batch_aug.random_resized_crop(x, 96, (0.25, 1.0), torch.Generator().manual_seed(4))
    assert out.shape == (6, 3, 96, 96) and out.dtype == torch.float32
    for i, (left, top, w, h) in enumerate(boxes.tolist()):
        pil = Image.fromarray(x[i].permute(1, 2, 0).numpy()).crop((left, top, left + w, top + h))
        ref = torch.from_numpy(np.array(pil.resize((96, 96), Image.BICUBIC))).permute(2, 0, 1).float()
        diff = (out[i] - ref).abs()  # PIL's fixed-point filter: one level; its rounding to uint8: half a level
        assert diff.max().item() <= 1.5 and diff.mean().item() < 0.4


def test_tensor_loader_for_natural_images_crops_in_batches_and_evaluates_like_the_folder_path(monkeypatch, tmp_path):
    from cnnzoo.data import build_data
    from cnnzoo.engine import build_config
    from cnnzoo.errors import ConfigError

    monkeypatch.setenv("CNNZOO_DATA", str(require_data("intel_image").parent))
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path))
    data_cfg = dict(input_size=(3, 96, 96), mean=(0.5,) * 3, std=(0.25,) * 3, crop_pct=0.875, interpolation="bicubic")
    common = dict(data="intel_image", subset=12, batch_size=6, workers=0, val_size=6, crop_scale=0.25, image_size=96)
    tensor = build_data(build_config(None, loader="tensor", **common), data_cfg)
    folder = build_data(build_config(None, loader="folder", **common), data_cfg)
    assert tensor.loader == "tensor" and tensor.train.augment.resized_crop == (96, 0.25)
    x, y = next(iter(tensor.train))
    assert x.shape == (6, 3, 96, 96) and -2.01 <= x.min().item() and x.max().item() <= 2.01
    for split in ("val", "test"):  # evaluation: the same resize + centre crop, image for image
        a, b = next(iter(getattr(tensor, split))), next(iter(getattr(folder, split)))
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ConfigError, match="randaugment runs on PIL images"):
        build_data(build_config(None, loader="tensor", randaugment="rand-m9-mstd0.5", **common), data_cfg)
