"""The Hugging Face Hub ``config.json`` and README model card of a weight (timm's layout and field names)."""
from __future__ import annotations

from typing import Mapping

# Hub dataset ids of the datasets cnnzoo trains on, by the start of the index's dataset name (front-matter
# ``datasets:``); a dataset without a Hub id is named in the model-index only.
HF_DATASETS = {"cifar-100": "uoft-cs/cifar100", "cifar100": "uoft-cs/cifar100", "cifar-10": "uoft-cs/cifar10",
               "cifar10": "uoft-cs/cifar10", "imagenet-1k": "ILSVRC/imagenet-1k", "imagenette": "frgfm/imagenette"}
# Hub licence ids a weight's licence text may start with; anything else is "other" with the text as its name.
HF_LICENSES = ("apache-2.0", "mit", "bsd-3-clause", "bsd-2-clause", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0",
               "cc-by-nc-sa-4.0", "cc0-1.0", "openrail", "llama2", "unknown")


def hf_dataset_id(name: str) -> str | None:
    lowered = str(name or "").strip().lower()
    return next((v for k, v in HF_DATASETS.items() if lowered.startswith(k)), None)


def hf_license(text: str | None) -> dict:
    """``license:`` (and ``license_name`` for "other") from a licence text such as "Apache-2.0 for the weights"."""
    first = str(text or "unknown").split()[0].rstrip(";,.").lower() if str(text or "").strip() else "unknown"
    if first in HF_LICENSES:
        return {"license": first}
    return {"license": "other", "license_name": str(text)[:100]}


def hub_config(arch: str, info: Mapping, num_features: int, first_conv: str | None) -> dict:
    """config.json: ``architecture``, ``num_classes``, ``label_names`` and a timm-style ``pretrained_cfg``."""
    return {
        "architecture": arch,
        "num_classes": info["num_classes"],
        "num_features": num_features,
        "global_pool": "avg",
        "label_names": list(info.get("labels") or []),
        "pretrained_cfg": {
            "tag": info.get("tag"),
            "custom_load": False,
            "input_size": list(info["input_size"]),
            "fixed_input_size": False,
            "interpolation": info.get("interpolation", "bicubic"),
            "crop_pct": info.get("crop_pct", 1.0),
            "crop_mode": "center",
            "mean": list(info["mean"]),
            "std": list(info["std"]),
            "num_classes": info["num_classes"],
            "first_conv": first_conv,
            "classifier": "head.fc",
            "license": info.get("license"),
        },
        "cnnzoo": {k: info[k] for k in ("sha256", "size", "dataset", "metrics", "params", "gmacs", "recipe",
                                        "command", "hardware", "wall_time_s", "epochs", "date", "source",
                                        "storage_dtype")
                   if info.get(k) is not None},
    }


def _front_matter(name: str, family: str, info: Mapping) -> dict:
    dataset = info.get("dataset") or {}
    metrics = info.get("metrics") or {}
    ds_id = hf_dataset_id(dataset.get("name", ""))
    front = {"library_name": "cnnzoo", "pipeline_tag": "image-classification", **hf_license(info.get("license")),
             "tags": ["image-classification", "cnnzoo", family, info["architecture"]]}
    if ds_id:
        front["datasets"] = [ds_id]
    results = [dict(type="accuracy", name=f"{k} accuracy", value=metrics[k]) for k in ("top1", "top5")
               if metrics.get(k) is not None]
    if results:
        front["metrics"] = ["accuracy"]
        front["model-index"] = [{
            "name": name,
            "results": [{
                "task": {"type": "image-classification", "name": "Image Classification"},
                "dataset": {"name": dataset.get("name", "unknown"), "type": ds_id or "unknown",
                            "split": metrics.get("split", "unknown")},
                "metrics": results,
            }],
        }]
    return front


def _comparison_lines(comp: Mapping) -> list[str]:
    """What the accuracy should be read against: paper, best public weight, leaderboard (hub/comparisons.py)."""
    rows = [(f"paper ({c['source']})", c["top1"]) for c in [comp.get("paper")] if c]
    rows += [(f"best public weight ({c['source']})", c["top1"]) for c in [comp.get("public")] if c]
    rows += [(c["source"], c["top1"]) for c in comp.get("leaderboard", [])]
    if not rows and not comp.get("note"):
        return []
    lines = ["Published figures for comparison (their data: original CIFAR-10 pixels, or fast.ai's Imagenette):",
             ""]
    lines += [f"- {what}: {top1}%" for what, top1 in rows]
    if comp.get("note"):
        lines.append(f"- {comp['note']}")
    return lines + [""]


def model_card(name: str, repo_id: str, family: str, info: Mapping, indexed: bool = True) -> str:
    """README.md: YAML front matter, then what the weight is, how to use it, how good it is, how it was made.
    ``indexed``: the weight is in cnnzoo's index, so its ``arch.tag`` name loads it too."""
    import yaml

    arch, tag = name.split(".", 1)
    dataset, metrics = info.get("dataset") or {}, info.get("metrics") or {}
    hardware = info.get("hardware") or {}
    lines = ["---", yaml.safe_dump(_front_matter(name, family, info), sort_keys=False).rstrip(), "---", "",
             f"# {name}", "",
             f"`{arch}` ({family} family) trained on {dataset.get('name', 'an unnamed dataset')}"
             f"{' (' + dataset['note'] + ')' if dataset.get('note') else ''}, published with "
             "cnnzoo (`pip install cnnzoo`): safetensors weights, verified by sha256 on every load.", "",
             "## Usage", "", "```python", "import cnnzoo, torch", "",
             f'model = cnnzoo.create_model("hf-hub:{repo_id}", pretrained=True).eval()  # this repo',
             *([f'model = cnnzoo.create_model("{name}", pretrained=True).eval()  # the same file, via the index']
               if indexed else []),
             f"logits = model(torch.randn(1, {info['input_size'][0]}, {info['input_size'][1]}, "
             f"{info['input_size'][2]}))",
             f'# fine-tune: cnnzoo.create_model("{name}", pretrained=True, num_classes=YOUR_CLASSES)',
             "```", "",
             *(["## Results", "", "| split | images | top-1 | top-5 |", "|---|---|---|---|",
                f"| {metrics.get('split', '-')} | {metrics.get('n', '-')} | {metrics.get('top1', '-')} | "
                f"{metrics.get('top5', '-')} |", ""] if metrics else []),
             *_comparison_lines(info.get("comparison") or {}),
             "## Model", "",
             f"- classes: {info['num_classes']} ({', '.join(map(str, (info.get('labels') or [])[:10]))}"
             f"{' ...' if len(info.get('labels') or []) > 10 else ''})",
             f"- input: {tuple(info['input_size'])}, mean {tuple(info['mean'])}, std {tuple(info['std'])}, "
             f"{info.get('interpolation', 'bicubic')} resize, crop {info.get('crop_pct', 1.0)}",
             f"- parameters: {info['params']:,}" if info.get("params") else "- parameters: see config.json",
             "", "## Training recipe and provenance", ""]
    provenance = [
        ("recipe", info.get("recipe")), ("command", f"`{info['command']}`" if info.get("command") else None),
        ("epochs", info.get("epochs")), ("hardware", ", ".join(f"{k} {v}" for k, v in hardware.items()) or None),
        ("wall time", f"{info['wall_time_s'] / 3600:.2f} h" if info.get("wall_time_s") else None),
        ("date", info.get("date")), ("dataset split", dataset.get("split")),
        ("dataset images", dataset.get("num_images")), ("source", info.get("source")),
        ("file sha256", f"`{info['sha256']}`"), ("stored as", info.get("storage_dtype")),
        ("licence", info.get("license")),
    ]
    lines += [f"- {k}: {v}" for k, v in provenance if v is not None]
    return "\n".join(lines) + "\n"
