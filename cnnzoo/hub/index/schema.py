"""The fields of one weights-index entry and their validation.

An entry says what a weight is (architecture, classes, preprocessing), where its bytes are (file, sha256, size,
Hugging Face repo), how well it does (metrics, on which split, how many images) and how it was made (dataset,
recipe, exact command, hardware, wall time, epochs, date, licence).
"""
from __future__ import annotations

import re
from typing import Mapping

from ...errors import InvalidArgumentError

REQUIRED = {
    "architecture": "registered architecture name",
    "tag": "weight tag (training data and, if needed, recipe)",
    "file": "safetensors file name inside a weights folder",
    "sha256": "sha256 of the file (64 hex digits)",
    "size": "file size in bytes",
    "num_classes": "classifier outputs",
    "labels": "class names, one per output",
    "input_size": "(channels, height, width) used for evaluation",
    "mean": "per-channel normalisation mean",
    "std": "per-channel normalisation std",
    "interpolation": "resize interpolation",
    "crop_pct": "centre-crop fraction at evaluation",
    "dataset": "{name, split, num_images, note}",
    "metrics": "{top1, top5, split, n}",
    "license": "licence of the weights",
}
OPTIONAL = {
    "params": "parameter count",
    "gmacs": "GMACs at input_size",
    "recipe": "committed recipe file that produced the weight",
    "command": "the exact command that produced the weight",
    "hardware": "{cpu, cores, precision, gpu}",
    "wall_time_s": "training wall time in seconds",
    "train_images_per_s": "median training throughput over the run's epochs (images per second)",
    "epochs": "training epochs",
    "date": "ISO date the weight was produced",
    "hf_repo_id": "Hugging Face Hub repo holding the file (ORG/NAME)",
    "hf_filename": "file name in the Hub repo (default model.safetensors)",
    "hf_revision": "Hub revision (branch, tag or commit) to download",
    "url": "plain http(s) URL of the file, the fallback when the Hub cannot be used (hub/index/remote.py)",
    "default": "true for the architecture's default weight",
    "source": "where imported weights came from {library, name, weight, url}",
    "notes": "free text",
    "label_names": "display names, one per label, where labels are ids (Imagenette's WordNet folder names)",
    "comparison": "published figures to compare with {paper, public, leaderboard, note} (hub/comparisons.py)",
    "speed": "CPU inference throughput {images_per_s, batch, threads, precision, cpu, date, command}",
    "sample_metrics": "{top1, top5, split, n, precision, command} on the sample the package ships (cnnzoo/sample)",
    "storage_dtype": "dtype of the file's floating tensors (float32, or float16 to halve a large weight); the "
                     "metrics are those of the stored values, loaded into a float32 model",
}
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
STORAGE_DTYPES = ("float32", "float16")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TAG = re.compile(r"[a-z0-9][a-z0-9_\-]*")
_REVISION = re.compile(r"[\w.\-/]+")
_URL = re.compile(r"https?://[^\s/]+/\S+")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# optional fields with a fixed JSON type (None is allowed for them: "not recorded")
_TYPED = {"params": int, "epochs": int, "gmacs": (int, float), "wall_time_s": (int, float),
          "train_images_per_s": (int, float), "recipe": str,
          "command": str, "date": str, "hf_filename": str, "default": bool, "notes": str, "hardware": Mapping,
          "source": Mapping, "comparison": Mapping, "speed": Mapping, "sample_metrics": Mapping}
_TYPE_NAMES = {int: "an integer", str: "a string", bool: "true or false", Mapping: "an object"}


def _type_problems(entry: Mapping) -> list[str]:
    """Fields whose JSON type is wrong (each check below may then assume the type)."""
    problems = []
    for key in ("architecture", "tag", "license"):
        if key in entry and not (isinstance(entry[key], str) and entry[key]):
            problems.append(f"{key} must be a non-empty string, got {entry[key]!r}")
    file = entry.get("file")
    if "file" in entry and not (isinstance(file, str) and file.endswith(".safetensors")
                                and file == file.strip() and "/" not in file and "\\" not in file
                                and not file.startswith(".")):
        problems.append(f"file must be a bare *.safetensors file name (no folder), got {file!r}")
    for key, kind in _TYPED.items():
        value = entry.get(key)
        wrong = isinstance(value, bool) and kind is not bool or not isinstance(value, kind)
        if value is not None and wrong:
            problems.append(f"{key} must be {_TYPE_NAMES.get(kind, 'a number')}, got {value!r}")
    for key in ("labels", "label_names"):
        value = entry.get(key)
        if isinstance(value, list) and not all(isinstance(x, str) for x in value):
            problems.append(f"{key} must be strings, got {[x for x in value if not isinstance(x, str)][:3]!r}")
    return problems


def entry_problems(name: str, entry: Mapping) -> list[str]:
    """Everything wrong with ``entry`` stored under ``name`` (empty when it is valid). Any JSON value may be
    passed: a wrong type is a problem in the list, never an exception."""
    if not isinstance(entry, Mapping):
        return [f"entry must be an object, got {type(entry).__name__}"]
    problems = _type_problems(entry)
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)} (valid: {', '.join([*REQUIRED, *OPTIONAL])})")
    arch, tag = entry.get("architecture"), entry.get("tag")
    if arch is not None and tag is not None and name != f"{arch}.{tag}":
        problems.append(f"stored as {name!r} but architecture.tag is {arch}.{tag}")
    if isinstance(tag, str) and not _TAG.fullmatch(tag):
        problems.append(f"tag {tag!r} must be lower case letters, digits, '_' or '-'")
    if "sha256" in entry and not (isinstance(entry["sha256"], str) and _SHA256.fullmatch(entry["sha256"])):
        problems.append(f"sha256 must be 64 lower-case hex digits, got {entry['sha256']!r}")
    if "size" in entry and not (isinstance(entry["size"], int) and not isinstance(entry["size"], bool)
                                and entry["size"] > 0):
        problems.append(f"size must be a positive byte count, got {entry['size']!r}")
    n = entry.get("num_classes")
    if "num_classes" in entry and not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
        problems.append(f"num_classes must be a positive integer, got {n!r}")
    names = entry.get("label_names")
    if "label_names" in entry and (not isinstance(names, list) or (isinstance(n, int) and len(names) != n)):
        problems.append(f"label_names must be a list of num_classes={n} names, got "
                        f"{len(names) if isinstance(names, list) else type(names).__name__}")
    labels = entry.get("labels")
    if "labels" in entry and (not isinstance(labels, list) or (isinstance(n, int) and len(labels) != n)):
        problems.append(f"labels must be a list of num_classes={n} names, got "
                        f"{len(labels) if isinstance(labels, list) else type(labels).__name__}")
    size = entry.get("input_size")
    if "input_size" in entry and not (isinstance(size, list) and len(size) == 3 and all(
            isinstance(s, int) and s > 0 for s in size)):
        problems.append(f"input_size must be [channels, height, width], got {size!r}")
    for key in ("mean", "std"):
        v = entry.get(key)
        if key in entry and not (isinstance(v, list) and all(_is_number(x) for x in v)
                                 and (not isinstance(size, list) or len(v) == size[0])):
            problems.append(f"{key} must be one number per input channel, got {v!r}")
    if "interpolation" in entry and entry["interpolation"] not in INTERPOLATIONS:
        problems.append(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {entry['interpolation']!r}")
    crop = entry.get("crop_pct")
    if "crop_pct" in entry and not (_is_number(crop) and 0 < crop <= 1):
        problems.append(f"crop_pct must be in (0, 1], got {crop!r}")
    dataset = entry.get("dataset")
    if "dataset" in entry and not (isinstance(dataset, Mapping) and dataset.get("name")):
        problems.append(f"dataset must be an object with at least a name, got {dataset!r}")
    metrics = entry.get("metrics")
    if "metrics" in entry:
        if not isinstance(metrics, Mapping):
            problems.append(f"metrics must be an object {{top1, top5, split, n}}, got {metrics!r}")
        else:
            for key in ("top1", "top5"):
                v = metrics.get(key)
                if v is not None and not (_is_number(v) and 0 <= v <= 100):
                    problems.append(f"metrics.{key} must be a percentage in [0, 100], got {v!r}")
            if metrics.get("top1") is not None and not metrics.get("split"):
                problems.append("metrics.split must say on which split top1 was measured")
    if "storage_dtype" in entry and entry["storage_dtype"] not in STORAGE_DTYPES:
        problems.append(f"storage_dtype must be one of {', '.join(STORAGE_DTYPES)}, got {entry['storage_dtype']!r}")
    repo = entry.get("hf_repo_id")
    if repo is not None and not (isinstance(repo, str) and re.fullmatch(r"[\w.\-]+/[\w.\-]+", repo)):
        problems.append(f"hf_repo_id must be ORG/NAME, got {repo!r}")
    revision = entry.get("hf_revision")
    if revision is not None and not (isinstance(revision, str) and _REVISION.fullmatch(revision)):
        problems.append(f"hf_revision must be a branch, tag or commit of the Hub repo, got {revision!r}")
    url = entry.get("url")
    if url is not None and not (isinstance(url, str) and _URL.fullmatch(url)):
        problems.append(f"url must be a plain http(s) URL of the file, got {url!r}")
    return problems


def check_entry(name: str, entry: Mapping) -> None:
    """Raise InvalidArgumentError listing every problem of ``entry``."""
    problems = entry_problems(name, entry)
    if problems:
        raise InvalidArgumentError(f"weights index entry {name!r} is invalid:\n  " + "\n  ".join(problems))
