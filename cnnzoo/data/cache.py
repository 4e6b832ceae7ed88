"""The uint8 tensor cache: a split folder decoded once into ``(N, 3, H, W)`` uint8 + labels.

The cache file is keyed by the folder's file list and file sizes (so adding, removing or replacing an image
invalidates it), stored as safetensors under ``<cache dir>/tensors/`` and written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .folder import FolderIndex
from .images import load_rgb
from .paths import cache_dir

CACHE_VERSION = 1


def cache_key(index: FolderIndex, size: int | None) -> str:
    h = hashlib.sha256(json.dumps([CACHE_VERSION, size, index.classes]).encode())
    for path, label in index.samples:
        rel = os.path.relpath(path, index.root)
        h.update(f"{rel}\0{label}\0{os.path.getsize(path)}\n".encode())
    return h.hexdigest()


def cache_path(index: FolderIndex, size: int | None) -> Path:
    root = Path(index.root).resolve()
    label = "-".join(p for p in (root.parent.name, root.name) if p)
    return cache_dir() / "tensors" / f"{label}-{cache_key(index, size)[:16]}.safetensors"


def _decode(path: Path, size: int | None) -> np.ndarray:
    img = load_rgb(path)
    if size is not None and img.size != (size, size):
        from PIL import Image

        img = img.resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def decode_folder(index: FolderIndex, size: int | None = None, workers: int | None = None) -> torch.Tensor:
    """Decode every image of ``index`` into one ``(N, 3, H, W)`` uint8 tensor (threads: PIL releases the GIL)."""
    workers = workers or min(4, os.cpu_count() or 1)
    paths = [p for p, _ in index.samples]
    with ThreadPoolExecutor(workers) as pool:
        arrays = list(pool.map(lambda p: _decode(p, size), paths, chunksize=256))
    shape = arrays[0].shape
    odd = [str(p) for p, a in zip(paths, arrays) if a.shape != shape]
    if odd:
        raise DataError(f"the tensor cache needs images of one size ({shape[1]}x{shape[0]}); these differ: "
                        f"{', '.join(odd[:5])}{' ...' if len(odd) > 5 else ''} (set image_size to resize them)")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def load_or_build(index: FolderIndex, size: int | None = None, use_cache: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 (N,3,H,W), labels int64 (N,))`` for ``index``, read from the cache when it is current."""
    from safetensors.torch import load_file, save_file

    labels = torch.tensor(index.targets, dtype=torch.int64)
    path = cache_path(index, size) if use_cache else None
    if path is not None and path.is_file():
        try:
            tensors = load_file(str(path))
            if torch.equal(tensors["labels"], labels):
                return tensors["images"], labels
        except Exception:  # a damaged cache file is rebuilt, never trusted
            pass
    images = decode_folder(index, size)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=path.parent)
        os.close(fd)
        try:
            save_file({"images": images, "labels": labels}, tmp,
                      metadata={"root": str(index.root), "classes": json.dumps(index.classes)})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return images, labels
