"""From a dataset spec and a model's data config to train / val / test loaders."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError, DataError, DataNotFoundError
from .batch_aug import BatchAugment, Normalize
from .cache import load_or_build
from .folder import FolderIndex, find_split, list_splits, scan_folder
from .folder_loader import folder_loader
from .images import header_size, is_image_file
from .named import DATASETS, resolve_dataset
from .split import carve_validation
from .tensor_loader import TensorLoader
from .transforms import eval_transform, train_transform

TENSOR_PATH_MAX_SIDE = 64  # "auto" decodes datasets of images up to this size into the tensor cache; larger
# ones are natural images: random-resized crop for training, resize + centre crop for evaluation
LOADERS = ("auto", "tensor", "folder")


@dataclass
class DataBundle:
    name: str
    root: Path
    classes: list[str]
    train: Any = None
    val: Any = None
    test: Any = None
    test_split: str | None = None
    counts: dict = field(default_factory=dict)
    loader: str = "tensor"
    data_cfg: dict = field(default_factory=dict)  # input_size, mean, std, crop_pct, interpolation


def _seeded_subset(index: FolderIndex, n: int, seed: int) -> FolderIndex:
    if not n or n >= len(index):
        return index
    order = torch.randperm(len(index), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    return index.subset(sorted(order[:n]))


def default_test_split(root: Path, name: str) -> str | None:
    named = DATASETS.get(name)
    if named is not None and find_split(root, named.eval_split) is not None:
        return named.eval_split
    for split in ("test", "val"):
        if find_split(root, split) is not None:
            return split
    return None


def _choose_loader(kind: str, index: FolderIndex, image_size: int | None) -> str:
    if kind not in LOADERS:
        raise ConfigError(f"loader must be one of {', '.join(LOADERS)}, got {kind!r}")
    if kind != "auto":
        return kind
    return "folder" if _natural_images(index, image_size) else "tensor"


def _natural_images(index: FolderIndex, image_size: int | None) -> bool:
    side = image_size if image_size is not None else max(header_size(index.samples[0][0]))
    return side > TENSOR_PATH_MAX_SIDE


def _holds_class_folders(root: Path) -> bool:
    return any(f.is_file() and is_image_file(f) for d in root.iterdir() if d.is_dir() for f in d.iterdir())


def scan_splits(cfg, splits=("train", "val", "test")) -> tuple[Path, str, dict[str, FolderIndex], str | None]:
    """Resolve the dataset and index the requested splits (val carved from train when asked)."""
    root, name = resolve_dataset(cfg.data)
    test_split = cfg.test_split or default_test_split(root, name)
    train_dir = find_split(root, "train")
    if train_dir is None and not list_splits(root) and _holds_class_folders(root):
        train_dir = root  # a bare <class>/<image> folder is a training split (validation carved from it)
    if train_dir is None and "train" in splits:
        raise DataNotFoundError(f"{root} has no train folder (found splits: {list_splits(root) or 'none'}); "
                                f"expected {root}/train/<class>/<image>")
    out: dict[str, FolderIndex] = {}
    classes = None
    if train_dir is not None:
        train = scan_folder(train_dir, skip_bad=cfg.skip_bad)
        classes = train.classes
        if cfg.val_size:
            keep, held = carve_validation(len(train), cfg.val_size, cfg.val_seed)
            out["val"] = train.subset(held)
            train = train.subset(keep)
        elif "val" in splits and test_split != "val" and find_split(root, "val") is not None:
            out["val"] = scan_folder(find_split(root, "val"), skip_bad=cfg.skip_bad, classes=classes)
        out["train"] = train
    if "test" in splits and test_split is not None:
        test_dir = find_split(root, test_split)
        if test_dir is None:
            raise DataNotFoundError(f"{root} has no {test_split!r} split (found: {list_splits(root)})")
        out["test"] = scan_folder(test_dir, skip_bad=cfg.skip_bad, classes=classes)
    for split in list(out):
        if split not in splits:
            del out[split]
        else:
            out[split] = _seeded_subset(out[split], cfg.subset, cfg.val_seed)
    if "train" in out and getattr(cfg, "train_subset", 0):  # same images for every run seed: only val_seed picks
        out["train"] = _seeded_subset(out["train"], cfg.train_subset, cfg.val_seed)
    return root, name, out, test_split


def build_data(cfg, data_cfg: dict, *, rank: int = 0, world_size: int = 1, device="cpu",
               splits=("train", "val", "test")) -> DataBundle:
    """Loaders for ``splits``. ``data_cfg`` is the model's input_size / mean / std / crop_pct / interpolation."""
    root, name, indexes, test_split = scan_splits(cfg, splits)
    if "train" in indexes and len(indexes["train"]) < cfg.batch_size:  # the last partial batch is dropped
        raise ConfigError(f"batch_size {cfg.batch_size} is larger than the {len(indexes['train'])} training images, "
                          f"so no step would be taken; use a batch_size of at most {len(indexes['train'])}")
    if not indexes:
        raise DataError(f"{root} has none of the splits {', '.join(splits)}")
    first = next(iter(indexes.values()))
    data_cfg = dict(data_cfg)
    if cfg.image_size:
        data_cfg["input_size"] = (3, cfg.image_size, cfg.image_size)
    kind = _choose_loader(cfg.loader, first, cfg.image_size)
    bundle = DataBundle(name=name, root=root, classes=first.classes, test_split=test_split, loader=kind,
                        counts={k: len(v) for k, v in indexes.items()}, data_cfg=data_cfg)
    common = dict(seed=cfg.seed, rank=rank, world_size=world_size, device=device)
    natural = _natural_images(first, cfg.image_size)
    if kind == "tensor" and natural and cfg.randaugment:
        raise ConfigError("randaugment runs on PIL images: use loader: folder with it")
    for split, index in indexes.items():
        training = split == "train"
        # natural images: the tensor path serves training only; evaluation keeps the folder path's resize +
        # centre crop (crop_pct), so a figure does not depend on the loader that trained the weights
        if kind == "tensor" and (training or not natural):
            images, labels = load_or_build(index, size=cfg.image_size)
            if natural:
                aug = BatchAugment(data_cfg["mean"], data_cfg["std"], hflip=cfg.hflip, cutout_size=cfg.cutout,
                                   resized_crop=(data_cfg["input_size"][-1], cfg.crop_scale),
                                   interpolation=data_cfg.get("interpolation", "bicubic"))
            else:
                if split == "train":
                    data_cfg["input_size"] = (3, *images.shape[-2:])
                aug = BatchAugment(data_cfg["mean"], data_cfg["std"], cfg.crop_padding, cfg.hflip, cfg.cutout)
            loader = TensorLoader(images, labels, cfg.batch_size, shuffle=training, drop_last=training,
                                  augment=aug if training else None,
                                  transform=Normalize(data_cfg["mean"], data_cfg["std"]), **common)
        else:
            tf = (train_transform(data_cfg, cfg.randaugment, scale=(cfg.crop_scale, 1.0), hflip=cfg.hflip)
                  if training else eval_transform(data_cfg))
            loader = folder_loader(index, tf, cfg.batch_size, shuffle=training, drop_last=training,
                                   workers=cfg.workers, **common)
        setattr(bundle, split, loader)
    return bundle
