"""The uint8 tensor cache: a split folder decoded once into ``(N, 3, H, W)`` uint8 + labels.

One safetensors file per (folder, sample list, image size) under ``<cache dir>/tensors/``. It is trusted only
while every image is still the one decoded:

- beside the pixels it keeps, per image, the sha256 of the exact bytes decoded and the file's
  (size, mtime_ns, ctime_ns, inode) when they were read;
- a load stats every image (cheap); an image whose stat differs, or that changed too close to the build to be
  told apart by its stat (git's "racy" case), is read and hashed; a different hash means new pixels, and only
  those images are decoded again;
- the file carries the sha256 of its own bytes (with that field zeroed), so a damaged cache is rebuilt with a
  warning instead of being used;
- writes go through the atomic writer (unique temporary, fsync, rename), under a lock file, so processes that
  meet the same missing cache decode it once and never read half a file.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import struct
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..hub.files.io import atomic_path, sha256_file
from .folder import FolderIndex
from .images import load_rgb
from .paths import cache_dir

try:  # POSIX; elsewhere concurrent first users each decode (still safe: every write is atomic)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

CACHE_VERSION = 2
RACY_NS = 2_000_000_000  # a file changed this close to the build may share its stat with its old content
_ZERO = "0" * 64
_DIGEST_FIELD = b'"sha256":"'  # only the metadata key can appear unescaped in the header


def _rel(path: Path, root: Path) -> bytes:
    return os.fsencode(os.path.relpath(path, root))  # any file-name encoding


def cache_key(index: FolderIndex, size: int | None) -> str:
    """Names the sample list (paths, labels, classes, size); the images' contents are checked on load."""
    h = hashlib.sha256(json.dumps([CACHE_VERSION, size, index.classes]).encode())
    for path, label in index.samples:
        h.update(_rel(path, index.root) + f"\0{label}\n".encode())
    return h.hexdigest()


def cache_path(index: FolderIndex, size: int | None) -> Path:
    root = Path(index.root).resolve()
    label = "-".join(p for p in (root.parent.name, root.name) if p)
    return cache_dir() / "tensors" / f"{label}-{cache_key(index, size)[:16]}.safetensors"


# -- reading images --------------------------------------------------------------------------------------------

class _Named(io.BytesIO):
    """Image bytes that name their file in load_rgb's errors."""

    def __init__(self, data: bytes, path: Path):
        super().__init__(data)
        self.path = path

    def __str__(self) -> str:
        return str(self.path)


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino & (2 ** 63 - 1)


def _read(path: Path) -> tuple[bytes, tuple, bytes]:
    """(bytes, stat stamp taken on the open file, sha256 of the bytes): the pixels decoded are the bytes hashed."""
    with open(path, "rb") as f:
        stamp = _stamp(os.fstat(f.fileno()))
        data = f.read()
    return data, stamp, hashlib.sha256(data).digest()


def _decode(data: bytes, path: Path, size: int | None) -> np.ndarray:
    img = load_rgb(_Named(data, path))
    if size is not None and img.size != (size, size):
        from PIL import Image

        img = img.resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


@dataclass
class Sources:
    """Per image: the stat stamp ``(N, 4)`` int64 and the sha256 ``(N, 32)`` uint8 of the bytes decoded."""

    stamps: torch.Tensor
    digests: torch.Tensor


def _check_one_size(paths, arrays) -> None:
    shape = arrays[0].shape
    odd = [str(p) for p, a in zip(paths, arrays) if a.shape != shape]
    if odd:
        raise DataError(f"the tensor cache needs images of one size ({shape[1]}x{shape[0]}); these differ: "
                        f"{', '.join(odd[:5])}{' ...' if len(odd) > 5 else ''} (set image_size to resize them)")


def decode_sources(index: FolderIndex, size: int | None = None,
                   workers: int | None = None) -> tuple[torch.Tensor, Sources]:
    """Every image of ``index`` as one ``(N, 3, H, W)`` uint8 tensor, with what identifies the bytes decoded
    (threads: file reads, hashing and PIL all release the GIL)."""
    workers = workers or min(4, os.cpu_count() or 1)
    paths = [p for p, _ in index.samples]

    def one(path):
        data, stamp, digest = _read(path)
        return _decode(data, path, size), stamp, digest

    with ThreadPoolExecutor(workers) as pool:
        arrays, stamps, digests = zip(*pool.map(one, paths, chunksize=256))
    _check_one_size(paths, arrays)
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return images, Sources(torch.tensor(stamps, dtype=torch.int64),
                           torch.frombuffer(bytearray(b"".join(digests)), dtype=torch.uint8).view(-1, 32))


def decode_folder(index: FolderIndex, size: int | None = None, workers: int | None = None) -> torch.Tensor:
    """Decode every image of ``index`` into one ``(N, 3, H, W)`` uint8 tensor."""
    return decode_sources(index, size, workers)[0]


# -- the cache file --------------------------------------------------------------------------------------------

def _header_span(data) -> tuple[int, dict]:
    """(end of the JSON header, the header) of safetensors bytes; ValueError when they cannot be one."""
    if len(data) < 8:
        raise ValueError("shorter than a safetensors header")
    n = struct.unpack("<Q", bytes(data[:8]))[0]
    if n > len(data) - 8:
        raise ValueError("truncated header")
    header = json.loads(bytes(data[8:8 + n]))
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise ValueError("no metadata")
    return 8 + n, header


def _own_digest(data: bytes, end: int, recorded: str) -> str:
    """sha256 of the file as written: its own digest field still zero."""
    head = bytes(data[:end])
    field = _DIGEST_FIELD + recorded.encode() + b'"'
    if head.count(field) != 1:
        raise ValueError("no single sha256 field")
    h = hashlib.sha256(head.replace(field, _DIGEST_FIELD + _ZERO.encode() + b'"'))
    h.update(memoryview(data)[end:])
    return h.hexdigest()


def _write(path: Path, images: torch.Tensor, labels: torch.Tensor, index: FolderIndex, sources: Sources,
           built_ns: int) -> None:
    from safetensors.torch import save_file

    names = b"\0".join(_rel(p, index.root) for p, _ in index.samples)
    tensors = {"images": images, "labels": labels, "stamps": sources.stamps, "digests": sources.digests,
               "names": torch.frombuffer(bytearray(names), dtype=torch.uint8) if names else
               torch.zeros(0, dtype=torch.uint8)}
    metadata = {"version": str(CACHE_VERSION), "built_ns": str(built_ns), "root": str(index.root),
                "classes": json.dumps(index.classes), "sha256": _ZERO}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
        digest = sha256_file(tmp)  # over the bytes with the field still zero
        with open(tmp, "rb+") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            head = f.read(n)
            f.seek(8 + head.index(_DIGEST_FIELD + _ZERO.encode()) + len(_DIGEST_FIELD))
            f.write(digest.encode())


def _read_cache(path: Path, index: FolderIndex, labels: torch.Tensor) -> tuple[dict, int]:
    """The cache's tensors and build time, after its own checksum; ValueError says why it is unusable."""
    from safetensors.torch import load

    data = path.read_bytes()  # read once: what is checked is what is used
    end, header = _header_span(data)
    meta = header["__metadata__"]
    recorded = str(meta.get("sha256", ""))
    if _own_digest(data, end, recorded) != recorded:
        raise ValueError("its sha256 does not match its bytes")
    if meta.get("version") != str(CACHE_VERSION):
        raise ValueError(f"cache version {meta.get('version')!r}")
    tensors = load(data)
    names = b"\0".join(_rel(p, index.root) for p, _ in index.samples)
    n = len(index)
    if bytes(tensors["names"].numpy()) != names or not torch.equal(tensors["labels"], labels) \
            or tensors["images"].shape[0] != n or tensors["stamps"].shape != (n, 4) \
            or tensors["digests"].shape != (n, 32) or tensors["images"].dtype != torch.uint8:
        raise ValueError("it describes another sample list")
    return tensors, int(meta["built_ns"])


@contextlib.contextmanager
def _locked(path: Path):
    """Hold ``<cache>.lock``; inside it, temporaries left by a killed writer of this entry are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            stale = re.compile(rf"^\.{re.escape(path.name)}\.[A-Za-z0-9_]+\.tmp$")
            for leftover in path.parent.iterdir():
                if stale.match(leftover.name):
                    leftover.unlink(missing_ok=True)
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


class _Resized(Exception):
    """A changed image no longer has the cached size: the whole folder is decoded again (and checked)."""


def _refresh(tensors: dict, index: FolderIndex, size: int | None, old_ns: int, now_ns: int) -> bool:
    """Check every image against the cache; those whose bytes changed are decoded again, in place.

    Returns whether the file should be written again (new pixels, or stamps that would be checked again).
    """
    stamps, digests, images = tensors["stamps"], tensors["digests"], tensors["images"]
    current = torch.tensor([_stamp(os.stat(p)) for p, _ in index.samples], dtype=torch.int64).view(-1, 4)
    racy = torch.maximum(stamps[:, 1], stamps[:, 2]) >= old_ns - RACY_NS
    rewrite = False
    for i in ((current != stamps).any(1) | racy).nonzero().flatten().tolist():
        path = index.samples[i][0]
        data, stamp, digest = _read(path)
        if digest != bytes(digests[i].numpy()):
            array = _decode(data, path, size)
            if array.shape != (*images.shape[2:], 3):
                raise _Resized
            images[i] = torch.tensor(array).permute(2, 0, 1)
            digests[i] = torch.frombuffer(bytearray(digest), dtype=torch.uint8)
            rewrite = True
        # a new stamp, or one old enough to be trusted from now on, is worth writing down
        if stamp != tuple(stamps[i].tolist()) or max(stamp[1], stamp[2]) < now_ns - RACY_NS:
            stamps[i] = torch.tensor(stamp)
            rewrite = True
    return rewrite


def load_or_build(index: FolderIndex, size: int | None = None,
                  use_cache: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 (N,3,H,W), labels int64 (N,))`` for ``index``, from the cache when its images are current."""
    labels = torch.tensor(index.targets, dtype=torch.int64)
    if not use_cache:
        return decode_folder(index, size), labels
    path = cache_path(index, size)
    with _locked(path):
        built_ns = time.time_ns()  # before any image is read: later changes count as racy
        if path.is_file():
            try:
                tensors, old_ns = _read_cache(path, index, labels)
            except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
                warnings.warn(f"tensor cache {path} is damaged ({exc}); decoding the images again", stacklevel=2)
            else:
                try:
                    if _refresh(tensors, index, size, old_ns, built_ns):
                        _write(path, tensors["images"], labels, index,
                               Sources(tensors["stamps"], tensors["digests"]), built_ns)
                    return tensors["images"], labels
                except _Resized:
                    pass
        images, sources = decode_sources(index, size)
        _write(path, images, labels, index, sources, built_ns)
    return images, labels
