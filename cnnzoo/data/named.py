"""Named datasets (``cifar10``, ``imagenette``, ``intel_image``) resolved under the data root, or any folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataNotFoundError
from .download import download_cifar10
from .paths import cache_dir, data_root


@dataclass(frozen=True)
class NamedDataset:
    name: str
    folders: tuple[str, ...]  # folder names tried under the data root, in order
    eval_split: str  # the split published figures are measured on
    note: str = ""


DATASETS = {
    "cifar10": NamedDataset("cifar10", ("cifar10",), "test", "CIFAR-10 (Krizhevsky 2009)"),
    "imagenette": NamedDataset("imagenette", ("imagenette160", "imagenette2-160", "imagenette"), "val",
                               "fast.ai Imagenette"),
    "intel_image": NamedDataset("intel_image", ("intel_image", "intel-image-classification"), "test",
                                "Intel Image Classification (Kaggle)"),
}


SAMPLE_NAME = "sample"


SAMPLE_ARCHIVE = Path(__file__).resolve().parents[1] / "sample" / "cifar10_sample.tar"


def sample_dir() -> Path:
    """The small CIFAR-10 sample the package ships (``train``/``test``, 20 images a class).

    It is shipped as one tar archive and unpacked once into the cache dir (to a temporary name, then renamed,
    so an interrupted unpack is never used); the folder is keyed by the archive's size and mtime.
    """
    import tarfile
    import tempfile

    stat = SAMPLE_ARCHIVE.stat()
    target = cache_dir() / "sample" / f"cifar10-{stat.st_size}-{int(stat.st_mtime)}"
    if not (target / "cifar10").is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
        with tarfile.open(SAMPLE_ARCHIVE) as tar:
            tar.extractall(tmp, filter="data")
        try:
            tmp.rename(target)
        except OSError:  # another process unpacked it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return target / "cifar10"


def list_datasets() -> list[str]:
    return sorted([*DATASETS, SAMPLE_NAME])


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or spec.startswith(".") or spec.startswith("~")


def resolve_dataset(spec: str | os.PathLike, download: bool = True) -> tuple[Path, str]:
    """``(root folder, dataset name)`` for a folder path or a dataset name.

    A named dataset is looked up under :func:`data_root`; ``cifar10`` is fetched with torchvision's downloader
    (and written out as an image folder) when it is not there.
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.is_dir():
        return path, path.name
    if text == SAMPLE_NAME:
        return sample_dir(), "cifar10_sample"
    if _looks_like_path(text) or text not in DATASETS:
        if _looks_like_path(text):
            raise DataNotFoundError(f"data folder {path} does not exist")
        raise DataNotFoundError(
            f"unknown dataset {text!r} and no such folder; named datasets: {', '.join(list_datasets())} "
            f"(looked up under $CNNZOO_DATA={data_root()}), or pass a folder <root>/<split>/<class>/<image>"
        )
    named = DATASETS[text]
    root = data_root()
    for folder in named.folders:
        if (root / folder).is_dir():
            return root / folder, named.name
    if text == "cifar10" and download:
        return download_cifar10(root / "cifar10"), named.name
    tried = ", ".join(str(root / f) for f in named.folders)
    raise DataNotFoundError(
        f"dataset {text!r} not found (tried {tried}); set $CNNZOO_DATA to the folder holding it"
    )
