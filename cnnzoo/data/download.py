"""CIFAR-10 through torchvision's downloader, written out as an ImageFolder (PNG, lossless)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import DataNotFoundError


def download_cifar10(target: Path) -> Path:
    """Download CIFAR-10 and write ``target/{train,test}/<class>/<index>.png``; atomic (built in a temp folder
    beside ``target`` and renamed). Offline, raises :class:`DataNotFoundError` saying what to do."""
    from torchvision.datasets import CIFAR10

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".cifar10-", dir=target.parent))
    try:
        try:
            splits = {"train": CIFAR10(work / "raw", train=True, download=True),
                      "test": CIFAR10(work / "raw", train=False, download=True)}
        except Exception as exc:  # URLError, socket errors, checksum failures
            raise DataNotFoundError(
                f"cifar10 is not under {target.parent} and downloading it failed ({exc}); put an image-folder "
                f"copy at {target} (train/<class>/*.png, test/<class>/*.png) or set $CNNZOO_DATA"
            ) from exc
        out = work / "folder"
        for split, ds in splits.items():
            for name in ds.classes:
                (out / split / name).mkdir(parents=True, exist_ok=True)
            for i, (img, label) in enumerate(ds):
                img.save(out / split / ds.classes[label] / f"{i:05d}.png")
        os.replace(out, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
