"""Scanning ImageFolder-style directories: ``<split>/<class>/<image>``.

Kaggle's layout nests each split twice (``seg_train/seg_train/<class>``); :func:`find_split` looks through that.
Empty class folders and non-image files are errors naming them, or skipped with a warning when asked.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DataNotFoundError
from .images import is_image_file, load_rgb

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


def scan_folder(path: str | Path, skip_bad: bool = False, verify: bool = False,
                classes: list[str] | None = None) -> FolderIndex:
    """Index ``path/<class>/<image>``. ``classes`` fixes the class list (a test split must use the train one).

    ``skip_bad`` turns errors about empty class folders, non-image files and (with ``verify``) unreadable
    images into warnings and leaves those out.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataNotFoundError(f"image folder {path} does not exist")
    found = sorted(c.name for c in path.iterdir() if c.is_dir() and not c.name.startswith("."))
    if not found:
        raise DataError(f"{path} has no class sub-folders; expected {path}/<class>/<image>")
    if classes is None:
        classes = found
    else:
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise DataError(f"{path} has classes {unknown} that the training split does not have ({classes})")
    problems: list[str] = []
    samples: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = path / name
        files = sorted(f for f in folder.rglob("*") if f.is_file() and not f.name.startswith(".")) \
            if folder.is_dir() else []
        images = [f for f in files if is_image_file(f)]
        others = [f for f in files if not is_image_file(f)]
        if others:
            problems.append(f"non-image files in {folder}: " + ", ".join(str(f) for f in others[:5])
                            + (f" and {len(others) - 5} more" if len(others) > 5 else ""))
        if not images and folder.is_dir():
            problems.append(f"empty class folder {folder} (no image files)")
        if verify:
            good = []
            for f in images:
                try:
                    load_rgb(f)
                    good.append(f)
                except DataError as exc:
                    problems.append(str(exc))
            images = good
        samples.extend((f, label) for f in images)
    if problems:
        message = "; ".join(problems)
        if not skip_bad:
            raise DataError(f"{message} (pass skip_bad=True / --skip-bad to leave them out with a warning)")
        warnings.warn(f"skipped: {message}", stacklevel=2)
    if not samples:
        raise DataError(f"no images found under {path}")
    return FolderIndex(path, list(classes), samples)
