"""Scanning ImageFolder-style directories: ``<split>/<class>/<image>``.

Kaggle's layout nests each split twice (``seg_train/seg_train/<class>``); :func:`find_split` looks through that.
Empty class folders, non-image files and unreadable images are errors naming them, or left out with a warning
that counts them when asked (``skip_bad``, after really decoding every image). Class folders that are symlinks
are followed and labelled by the link's name; names that are not UTF-8 are read and shown with ``\\xNN``.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DataNotFoundError
from .images import is_image_file, load_rgb, shown

# Other names a split goes by in the wild (first match wins).
SPLIT_ALIASES = {
    "train": ("train", "training", "seg_train"),
    "val": ("val", "valid", "validation"),
    "test": ("test", "testing", "seg_test"),
}


@dataclass
class FolderIndex:
    """The classes and the (path, label) samples of one split folder."""

    root: Path
    classes: list[str]
    samples: list[tuple[Path, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def targets(self) -> list[int]:
        return [label for _, label in self.samples]

    def subset(self, indices) -> "FolderIndex":
        return FolderIndex(self.root, list(self.classes), [self.samples[i] for i in indices])


def _unnest(path: Path) -> Path:
    """``seg_train/seg_train`` -> the inner folder (Kaggle packs each split twice)."""
    inner = path / path.name
    children = [c for c in path.iterdir() if not c.name.startswith(".")] if path.is_dir() else []
    return inner if inner.is_dir() and len(children) == 1 else path


def find_split(root: str | Path, split: str) -> Path | None:
    """The folder of ``split`` under a dataset ``root``, or None when the dataset has no such split."""
    root = Path(root)
    for name in SPLIT_ALIASES.get(split, (split,)):
        candidate = root / name
        if candidate.is_dir():
            return _unnest(candidate)
    return None


def list_splits(root: str | Path) -> list[str]:
    return [s for s in SPLIT_ALIASES if find_split(root, s) is not None]


def _class_folders(path: Path) -> tuple[dict[str, Path], list[str]]:
    """``{label: folder}`` of the class folders of a split, and the problems found.

    A class folder may be a symlink: it is followed and its label is the link's own name (the name a user sees
    in the split), as torchvision's ImageFolder does. A link to nothing, or two class names that are one and
    the same folder (the images would carry two labels), or a link back to the split itself, is a problem
    that names it. A name whose bytes are not UTF-8 gets the label :func:`shown` prints (``b\\xe9``).
    """
    folders: dict[str, Path] = {}
    problems: list[str] = []
    split_real = os.path.realpath(path)
    owner: dict[str, str] = {}  # real folder -> the label that claimed it
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        folder = path / entry.name
        if entry.is_symlink() and not folder.exists():
            problems.append(f"class folder {shown(folder)} is a symlink to {shown(os.readlink(folder))}, "
                            f"which does not exist")
            continue
        if not entry.is_dir():
            continue
        real, label = os.path.realpath(folder), shown(entry.name)
        if split_real == real or split_real.startswith(real + os.sep):
            raise DataError(f"class folder {shown(folder)} is a symlink to {shown(real)}, which holds the split "
                            f"{shown(path)} itself; link each class to its own folder")
        if real in owner:
            raise DataError(f"class folders {owner[real]!r} and {label!r} of {shown(path)} are the same folder "
                            f"{shown(real)} (a symlink); its images cannot have two labels")
        owner[real] = label
        folders[label] = folder
    return folders, problems


def _files_under(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, following symlinks but never entering a folder twice."""
    seen, files = set(), []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a link loop or a second link to the same folder
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return [f for f in files if f.is_file()]


def _decodable(images: list[Path]) -> tuple[list[Path], list[str]]:
    """The images that really decode, and a message for each that does not (threads: PIL releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    def check(f: Path) -> str | None:
        try:
            load_rgb(f)
        except DataError as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        errors = list(pool.map(check, images, chunksize=64))
    return [f for f, e in zip(images, errors) if e is None], [e for e in errors if e is not None]


def scan_folder(path: str | Path, skip_bad: bool = False, verify: bool = False,
                classes: list[str] | None = None) -> FolderIndex:
    """Index ``path/<class>/<image>``. ``classes`` fixes the class list (a test split must use the train one).

    ``verify`` decodes every image (``skip_bad`` implies it: a file is left out only after it really failed to
    decode). ``skip_bad`` turns errors about empty class folders, dangling class links, non-image files and
    unreadable images into one warning that counts them, and leaves those out. Symlinked class folders are
    followed (see :func:`_class_folders`); file and folder names of any encoding are read.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(f"image folder {shown(path)} does not exist")
    folders, problems = _class_folders(path)
    found = sorted(folders)
    if not found and not problems:
        raise DataError(f"{shown(path)} has no class sub-folders; expected {shown(path)}/<class>/<image>")
    if classes is None:
        classes = found
    else:
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise DataError(f"{shown(path)} has classes {unknown} that the training split does not have ({classes})")
    samples: list[tuple[Path, int]] = []
    left_out = 0
    for label, name in enumerate(classes):
        folder = folders.get(name)
        files = _files_under(folder) if folder is not None else []
        images = [f for f in files if is_image_file(f)]
        others = [f for f in files if not is_image_file(f)]
        if others:
            left_out += len(others)
            problems.append(f"non-image files in {shown(folder)}: " + ", ".join(shown(f) for f in others[:5])
                            + (f" and {len(others) - 5} more" if len(others) > 5 else ""))
        if not images and folder is not None:
            problems.append(f"empty class folder {shown(folder)} (no image files)")
        if verify or skip_bad:
            images, errors = _decodable(images)
            left_out += len(errors)
            problems.extend(errors[:5] + ([f"and {len(errors) - 5} more unreadable images in {shown(folder)}"]
                                          if len(errors) > 5 else []))
        samples.extend((f, label) for f in images)
    if problems:
        message = "; ".join(problems)
        if not skip_bad:
            raise DataError(f"{message} (pass skip_bad=True / --skip-bad to leave them out with a warning)")
        warnings.warn(f"{shown(path)}: left out {left_out} of {left_out + len(samples)} files "
                      f"({len(problems)} problem(s)): {message}", stacklevel=2)
    if not samples:
        raise DataError(f"no images found under {shown(path)}")
    return FolderIndex(path, list(classes), samples)
