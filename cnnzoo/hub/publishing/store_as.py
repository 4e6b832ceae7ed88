"""Re-store a published weight with smaller floating tensors (float32 -> float16) to keep ``weights/`` within its
budget, once the run that trained it is gone: the file is converted, measured again on its evaluation split, and
its index entry gets the new sha256, size, remote home and metrics; everything else (recipe, command, curves,
hardware) still describes the same training run."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ...errors import InvalidArgumentError
from ..files.io import read_metadata, read_verified, tensors_from_bytes
from ..index.remote import remote_home
from ..index.schema import STORAGE_DTYPES
from ..index.store import get_entry, upsert_entry
from .register_run import DATASET_NOTES, SAMPLE_CLASSES, EvaluateWeight, publish_measured, stored_as

MAX_DROP = 0.2  # top-1 points the smaller storage may cost before it is refused


def store_published_as(name: str, storage_dtype: str, *, weights_dir: str | Path, evaluate_weight: EvaluateWeight,
                       data: str | None = None, index_path: str | Path | None = None,
                       max_drop: float = MAX_DROP) -> dict:
    """Store the published ``name`` with ``storage_dtype`` floating tensors; returns the updated index entry.

    ``data`` defaults to the dataset the entry was measured on. Refused, with the published file left as it was,
    when the file does not match its sha256, when it is already stored so, or when top-1 on the entry's split
    drops by more than ``max_drop`` points.
    """
    if storage_dtype not in STORAGE_DTYPES:
        raise InvalidArgumentError(f"storage_dtype must be one of {', '.join(STORAGE_DTYPES)}, got {storage_dtype!r}")
    entry = get_entry(name, index_path)
    if entry is None:
        raise InvalidArgumentError(f"{name} is not in the index")
    if entry.get("storage_dtype", "float32") == storage_dtype:
        raise InvalidArgumentError(f"{name} is already stored as {storage_dtype}")
    source = Path(weights_dir) / entry["file"]
    raw, _ = read_verified(source, entry["sha256"], "published weight")  # what is checked is what is converted
    dataset = _dataset_key(entry)
    before, split = entry["metrics"], entry["metrics"]["split"]

    def accept(result: dict) -> None:
        drop = before["top1"] - round(result["top1"], 2)
        if drop > max_drop:
            raise InvalidArgumentError(
                f"{name} as {storage_dtype} measures {result['top1']:.2f}% top-1 on {split} against "
                f"{before['top1']:.2f}% published, {drop:.2f} points lower (at most {max_drop} allowed); "
                f"the published weight is kept")

    state = stored_as(tensors_from_bytes(raw, source), storage_dtype, source)
    digest, result, sample = publish_measured(
        state, read_metadata(source), source, evaluate_weight, entry["architecture"], data or dataset, split,
        accept=accept, sample="sample_metrics" in entry and dataset == SAMPLE_CLASSES)
    updated = dict(entry, sha256=digest, size=source.stat().st_size, storage_dtype=storage_dtype,
                   **remote_home(name, digest))
    updated["metrics"] = dict(before, top1=round(result["top1"], 2), top5=round(result["top5"], 2), n=result["n"])
    if sample is not None:
        updated["sample_metrics"] = dict(entry["sample_metrics"], top1=round(sample["top1"], 2),
                                         top5=round(sample["top5"], 2), n=sample["n"])
    change = (f"Re-stored as {storage_dtype} on {_dt.date.today().isoformat()} (weights budget): "
              f"{updated['metrics']['top1']:.2f}% top-1 on {split}, {before['top1']:.2f}% as "
              f"{entry.get('storage_dtype', 'float32')}.")
    updated["notes"] = f"{entry['notes']} {change}" if entry.get("notes") else change
    upsert_entry(updated, path=index_path)
    return updated


def _dataset_key(entry: dict) -> str:
    """The dataset name (``imagenette``) behind the entry's dataset title."""
    title = entry["dataset"]["name"]
    for key, (known, _split, _note) in DATASET_NOTES.items():
        if known == title:
            return key
    raise InvalidArgumentError(f"no dataset is known by the title {title!r}; pass data=")
