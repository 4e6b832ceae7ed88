"""Fault suite, area "caches" (issue 24): the image tensor cache returns the pixels of the images as they are
now, or rebuilds itself; never stale or damaged pixels, whatever happens to the images or to the cache file,
and whatever several processes do at once."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnzoo.data import cache
from cnnzoo.data.folder import scan_folder
from cnnzoo.data.images import load_rgb
from cnnzoo.errors import DataError

from fault_cases import FaultCase, SilentLoad, outcome

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _cache_home(tmp: Path):
    old = os.environ.get("CNNZOO_CACHE")
    os.environ["CNNZOO_CACHE"] = str(tmp / "cache")
    try:
        yield tmp / "cache" / "tensors"
    finally:
        if old is None:
            os.environ.pop("CNNZOO_CACHE", None)
        else:
            os.environ["CNNZOO_CACHE"] = old


def _folder(tmp: Path, seed: int = 0, per_class: int = 4) -> Path:
    """A tiny split folder of 8x8 BMP images (two classes): lossless, and every file the same size."""
    rng = np.random.default_rng(seed)
    root = tmp / "data" / "train"
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / c / f"{i}.bmp")
    return root


def _check(images: torch.Tensor, labels: torch.Tensor, root: Path) -> None:
    """Every returned image equals a fresh decode of the file as it is now."""
    index = scan_folder(root)
    if labels.tolist() != index.targets:
        raise SilentLoad("labels differ from the folder's")
    for i, (path, _) in enumerate(index.samples):
        if not np.array_equal(images[i].permute(1, 2, 0).numpy(), np.asarray(load_rgb(path))):
            raise SilentLoad(f"stale or wrong pixels returned for {path.name}")


def _load(root: Path, expect_warning: str | None = None):
    """load_or_build; with ``expect_warning``, a load that says nothing about the damage is a silent one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, labels = cache.load_or_build(scan_folder(root))
    said = " ".join(str(w.message) for w in caught)
    if expect_warning and expect_warning not in said:
        raise SilentLoad(f"a damaged cache was used or rebuilt without a word (warnings: {said!r})")
    _check(images, labels, root)
    return images


def _built(tmp: Path) -> tuple[Path, Path]:
    root = _folder(tmp)
    _load(root)
    return root, cache.cache_path(scan_folder(root), None)


def _new_pixels(path: Path, seed: int) -> None:
    """Same size, same format, other pixels, written in place (the inode stays)."""
    img = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8))
    with open(path, "r+b") as f:
        img.save(f, format="BMP")
        f.truncate()


# -- images that change under the cache ------------------------------------------------------------------------

def replaced_same_size(tmp: Path):
    with _cache_home(tmp):
        root, _ = _built(tmp)
        _new_pixels(root / "cat" / "1.bmp", seed=99)
        _load(root)


def replaced_with_mtime_restored(tmp: Path):
    """A cache older than its images' last change by more than the racy window, then an in-place edit of the
    same size that puts the old mtime back (cp -p, rsync -t): only the ctime tells."""
    with _cache_home(tmp):
        root = _folder(tmp)
        time.sleep(cache.RACY_NS / 1e9 + 0.1)
        _load(root)
        target = root / "dog" / "2.bmp"
        before = target.stat()
        _new_pixels(target, seed=7)
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = target.stat()
        if (after.st_size, after.st_mtime_ns, after.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            raise RuntimeError("the case did not keep size, mtime and inode")
        _load(root)


def swapped_by_rename(tmp: Path):
    with _cache_home(tmp):
        root, _ = _built(tmp)
        a, b = root / "cat" / "0.bmp", root / "cat" / "3.bmp"
        a.rename(tmp / "x.bmp")
        b.rename(a)
        (tmp / "x.bmp").rename(b)
        _load(root)


def touched_only(tmp: Path):
    """A new mtime with the same bytes (a copy, an extraction) keeps the cache: no decode, same pixels."""
    with _cache_home(tmp):
        root, _ = _built(tmp)
        for p in root.rglob("*.bmp"):
            os.utime(p, ns=(time.time_ns(), time.time_ns()))
        real = cache.decode_sources
        cache.decode_sources = lambda *a, **k: (_ for _ in ()).throw(SilentLoad("decoded although unchanged"))
        try:
            _load(root)
        finally:
            cache.decode_sources = real


def changed_to_garbage(tmp: Path):
    with _cache_home(tmp):
        root, _ = _built(tmp)
        path = root / "dog" / "0.bmp"
        path.write_bytes(os.urandom(path.stat().st_size))
        _load(root)  # must raise DataError naming the file


# -- the cache file itself -------------------------------------------------------------------------------------

def _flip_at(fraction: float):
    def run(tmp: Path):
        with _cache_home(tmp):
            root, path = _built(tmp)
            data = bytearray(path.read_bytes())
            data[min(len(data) - 1, int(len(data) * fraction))] ^= 0x04
            path.write_bytes(bytes(data))
            _load(root, expect_warning="is damaged")
    return run


def _truncate_to(fraction: float):
    def run(tmp: Path):
        with _cache_home(tmp):
            root, path = _built(tmp)
            data = path.read_bytes()
            path.write_bytes(data[:int(len(data) * fraction)])
            _load(root, expect_warning="is damaged")
    return run


def digest_field_flipped(tmp: Path):
    with _cache_home(tmp):
        root, path = _built(tmp)
        data = path.read_bytes()
        at = data.index(b'"sha256":"') + len(b'"sha256":"') + 5
        path.write_bytes(data[:at] + (b"1" if data[at:at + 1] != b"1" else b"2") + data[at + 1:])
        _load(root, expect_warning="is damaged")


def other_folders_cache(tmp: Path):
    """A valid cache of other images put in this one's place."""
    with _cache_home(tmp):
        root, path = _built(tmp)
        other = _folder(tmp / "other", seed=5)
        _load(other)
        path.write_bytes(cache.cache_path(scan_folder(other), None).read_bytes())
        _load(root)


def stale_temporary(tmp: Path):
    """A temporary left by a writer killed mid-write is removed by the next user of that cache."""
    with _cache_home(tmp) as tensors:
        root, path = _built(tmp)
        leftover = tensors / f".{path.name}.k1ll3d_x.tmp"
        leftover.write_bytes(b"half a cache")
        _load(root)
        if leftover.exists():
            raise SilentLoad(f"{leftover.name} was left behind")


# -- real processes --------------------------------------------------------------------------------------------

_CHILD = r"""
import json, os, sys, time
from pathlib import Path
from cnnzoo.data import cache
from cnnzoo.data.folder import scan_folder
root, ready, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
decoded = []
real = cache.decode_sources
def slow(*a, **k):
    decoded.append(1)
    time.sleep(0.5)  # widen the window in which the others arrive
    return real(*a, **k)
cache.decode_sources = slow
if mode == "kill":  # die with the new cache complete but not yet renamed into place
    cache.sha256_file = lambda p: os.kill(os.getpid(), 9)
ready.touch()
while len(list(ready.parent.glob("ready-*"))) < int(sys.argv[4]):
    time.sleep(0.01)
images, labels = cache.load_or_build(scan_folder(root))
print(json.dumps({"decoded": len(decoded), "images": images.flatten().tolist()}))
"""


def _children(tmp: Path, root: Path, n: int, mode: str = "plain") -> list[subprocess.CompletedProcess]:
    env = dict(os.environ, CNNZOO_CACHE=str(tmp / "cache"), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    (tmp / "sync").mkdir(exist_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(root), str(tmp / "sync" / f"ready-{i}"), mode,
                               str(n)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(n)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs]


def concurrent_first_use(tmp: Path):
    """Three processes meet the same missing cache: each gets the right pixels, one decodes, one file remains."""
    with _cache_home(tmp) as tensors:
        root = _folder(tmp)
        results = _children(tmp, root, 3)
        bad = [r.stderr[-500:] for r in results if r.returncode != 0]
        if bad:
            raise RuntimeError(f"a process failed: {bad}")
        outs = [json.loads(r.stdout.strip().splitlines()[-1]) for r in results]
        truth = _load(root)
        for out in outs:
            if out["images"] != truth.flatten().tolist():
                raise SilentLoad("a concurrent process got other pixels")
        if sum(o["decoded"] for o in outs) != 1:
            raise SilentLoad(f"the images were decoded {sum(o['decoded'] for o in outs)} times, not once")
        left = sorted(p.name for p in tensors.iterdir() if not p.name.endswith(".lock"))
        if len(left) != 1:
            raise SilentLoad(f"the cache folder holds {left}")


def killed_while_writing(tmp: Path):
    """kill -9 between the complete temporary and its rename: the next user rebuilds and removes it."""
    with _cache_home(tmp) as tensors:
        root = _folder(tmp)
        (killed,) = _children(tmp, root, 1, mode="kill")
        if killed.returncode != -9:
            raise RuntimeError(f"the writer was not killed: {killed.returncode} {killed.stderr[-500:]}")
        if not list(tensors.glob(".*.tmp")):
            raise RuntimeError("the kill left no temporary: the case did not happen")
        _load(root)
        left = [p.name for p in tensors.iterdir() if p.name.endswith(".tmp")]
        if left:
            raise SilentLoad(f"temporaries left behind: {left}")


CASES = [
    FaultCase("caches", "image replaced in place, same size, at once", replaced_same_size, "recovered"),
    FaultCase("caches", "image replaced, old mtime restored", replaced_with_mtime_restored, "recovered"),
    FaultCase("caches", "two images swapped by rename", swapped_by_rename, "recovered"),
    FaultCase("caches", "images touched, bytes unchanged (no decode)", touched_only, "recovered"),
    FaultCase("caches", "image overwritten with garbage", changed_to_garbage, "refused"),
    FaultCase("caches", "flip byte in cache header", _flip_at(0.005), "recovered"),
    FaultCase("caches", "flip byte in cache stamps/digests", _flip_at(0.3), "recovered"),
    FaultCase("caches", "flip byte in cache pixels", _flip_at(0.8), "recovered"),
    FaultCase("caches", "flip last byte of cache", _flip_at(1.0), "recovered"),
    FaultCase("caches", "flip byte of the cache's own sha256", digest_field_flipped, "recovered"),
    FaultCase("caches", "cache truncated to half", _truncate_to(0.5), "recovered"),
    FaultCase("caches", "cache truncated to 5 bytes", _truncate_to(0.0001), "recovered"),
    FaultCase("caches", "another folder's valid cache in its place", other_folders_cache, "recovered"),
    FaultCase("caches", "stale temporary from a killed writer", stale_temporary, "recovered"),
    FaultCase("caches", "3 processes, concurrent first use", concurrent_first_use, "recovered"),
    FaultCase("caches", "kill -9 of the writer before its rename", killed_while_writing, "recovered"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cache_fault(case, tmp_path):
    got, detail = outcome(case, tmp_path)
    assert got == case.expect, detail


def test_unreadable_changed_image_is_named(tmp_path):
    with _cache_home(tmp_path):
        root, _ = _built(tmp_path)
        (root / "dog" / "0.bmp").write_bytes(b"not a png at all")
        with pytest.raises(DataError, match=r"cannot read image .*dog/0\.bmp"):
            cache.load_or_build(scan_folder(root))
