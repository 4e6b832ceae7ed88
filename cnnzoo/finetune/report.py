"""What a fine-tuning run leaves in its directory beyond the engine's files: the weight reloaded and evaluated
the way ``cnnzoo eval`` / ``cnnzoo predict`` will use it, its header completed (base weight, classes, data config,
metrics), per-class accuracy, confusion matrices and a README.md model card."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..data import build_data, scan_splits
from ..engine.config import build_config
from ..engine.evaluate import evaluate, evaluate_loader
from ..engine.precision import resolve_device, resolve_precision
from ..engine.runlog import plot_confusion
from ..factory import create_model
from ..hub.files.io import load_tensors, read_metadata, save_weights, write_json_atomic, write_text_atomic
from ..registry import get_model_spec

SPLIT_ORDER = ("val", "test")


def _evaluate_val(model, cfg, precision_name: str) -> dict | None:
    """The validation split the run used (carved or found), rebuilt from the run's config."""
    if not scan_splits(cfg, ("val",))[2]:  # neither carved (val_size=0) nor found
        return None
    device = resolve_device(cfg.device)
    precision = resolve_precision(device, precision_name)
    data_cfg = {k: model.pretrained_cfg[k] for k in ("input_size", "mean", "std", "crop_pct", "interpolation")}
    bundle = build_data(cfg, data_cfg, device=device, splits=("val",))
    result = evaluate_loader(model, bundle.val, precision, len(bundle.classes), bundle.classes)
    return dict(result, split="val")


def evaluate_run(out: Path, arch: str, info: dict, cfg, precision_name: str) -> dict[str, dict]:
    """``{"val": result, "test": result}`` for the saved weight, reloaded from disk (so the figures are those of
    the file, not of the in-memory model). The test figure is computed exactly as ``cnnzoo eval`` does."""
    model = create_model(arch, pretrained=out / "model.safetensors").eval()
    results = {}
    val = _evaluate_val(model, cfg, precision_name)
    if val is not None:
        results["val"] = val
    if info.get("test_split"):
        # the engine's batch size: under bf16 the kernels may round differently at another batch size, and the
        # figure printed here must be the one the training run printed
        test = evaluate(model, str(info["root"]), info["test_split"], device=cfg.device, precision=precision_name,
                        subset=cfg.subset, skip_bad=cfg.skip_bad, batch_size=cfg.batch_size)
        results["test"] = dict(test, split=info["test_split"])
    return results


def per_class_csv(results: dict[str, dict], classes: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["split", "class", "images", "correct", "accuracy"])
    for split, r in results.items():
        for i, name in enumerate(classes):
            row = r["confusion"][i]
            writer.writerow([split, name, sum(row), row[i], r["per_class"][name]])
    return buf.getvalue()


def headline(results: dict[str, dict]) -> dict:
    """The figure a weight is quoted by: test when the data has one, else validation."""
    if not results:  # trained on every image (val_size=0, no val or test folder): nothing measured
        return {}
    split = "test" if "test" in results else "val"
    r = results[split]
    return dict(top1=r["top1"], top5=r["top5"], split=r["split"], n=r["n"])


def write_report(summary: dict, out: Path, arch: str, info: dict, record: dict) -> dict:
    """Evaluate the saved weight, complete its header, write the plots, per-class table and card; returns the
    summary (also rewritten to ``summary.json``) with ``sha256``, ``metrics`` and ``finetune`` filled in."""
    out = Path(out)
    weights = out / "model.safetensors"
    classes = list(summary["classes"])
    cfg = build_config(out / "config.yaml")
    results = evaluate_run(out, arch, info, cfg, summary.get("precision", "fp32"))
    for split, r in results.items():
        name = r["split"]
        write_json_atomic(out / f"eval_{name}.json", r)
        plot_confusion(r["confusion"], classes, out / f"confusion_{name}.png",
                       f"{arch} fine-tuned, {info['label']} {name}: top-1 {r['top1']:.2f}%")
    write_text_atomic(out / "per_class.csv", per_class_csv(results, classes))

    metrics = dict(headline(results), **{s: {k: r[k] for k in ("top1", "top5", "loss", "n", "per_class")}
                                         for s, r in results.items()})
    base = record.get("base_weight")
    meta = read_metadata(weights)
    meta.update(
        labels=classes, num_classes=len(classes), metrics=metrics,
        base_weight={k: base[k] for k in ("name", "sha256", "source") if base.get(k)} if base else "none (scratch)",
        finetune={k: v for k, v in record.items() if k != "base_weight" and v is not None},
        dataset=dict(name=info["label"], root=str(info["root"]), split="train",
                     num_images=summary["counts"].get("train"), counts=summary["counts"], val_size=info["val_size"], val_seed=cfg.val_seed,
                     test_split=info.get("test_split")),
        wall_time_s=summary.get("wall_time_s"), epochs=summary.get("epochs"))
    sha = save_weights(load_tensors(weights), weights, meta)

    family = get_model_spec(arch).family
    card = model_card(arch, meta, results, summary, sha, family, out)
    write_text_atomic(out / "README.md", card)
    summary = dict(summary, sha256=sha, metrics=metrics, finetune=record,
                   per_class={s: r["per_class"] for s, r in results.items()})
    write_json_atomic(out / "summary.json", json.loads(json.dumps(summary, default=str)))
    return summary


def model_card(arch: str, meta: dict, results: dict, summary: dict, sha: str, family: str, out: Path) -> str:
    import yaml

    ft, ds, base = meta["finetune"], meta["dataset"], meta["base_weight"]
    base_name = base["name"] if isinstance(base, dict) else None
    name = f"{arch}.{meta.get('tag')}"
    front = {"library_name": "cnnzoo", "pipeline_tag": "image-classification",
             "tags": ["image-classification", "cnnzoo", "fine-tuned", family, arch]}
    if base_name:
        front["base_model"] = base_name
    classes = list(meta["labels"])
    size = meta["input_size"]
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
             f"# {name}", "",
             (f"`{base_name}` fine-tuned" if base_name else f"`{arch}` trained from scratch")
             + f" on {ds['name']} ({len(classes)} classes) with cnnzoo's `{ft['strategy']}` strategy: "
             f"{ft['epochs']} epochs at {size[-1]}x{size[-1]} px.", "",
             "## Usage", "", "```python", "import cnnzoo", "",
             f'model = cnnzoo.create_model("{arch}", pretrained="{out / "model.safetensors"}").eval()',
             "```", "", "```bash",
             f"cnnzoo predict {arch} IMAGE.jpg --weights {out}",
             f"cnnzoo eval {arch} --weights {out} --data {ds['root']}"
             + (f" --split {ds['test_split']}" if ds.get("test_split") else ""),
             "```", "", "## Results", "", "| split | images | top-1 | top-5 |", "|---|---|---|---|"]
    lines += [f"| {r['split']} | {r['n']} | {r['top1']:.2f} | {r['top5']:.2f} |" for r in results.values()]
    lines += ["", "Per-class accuracy (%):", "", "| class | " + " | ".join(r["split"] for r in results.values()) + " |",
              "|---|" + "---|" * len(results)]
    lines += [f"| {c} | " + " | ".join(f"{r['per_class'][c]:.1f}" for r in results.values()) + " |" for c in classes]
    val_note = (f"{ds['val_size']:g} of train carved as validation (seed {ds['val_seed']})" if ds["val_size"]
                else "validation folder as found")
    facts = [
        ("base weight", f"`{base_name}` (sha256 `{base['sha256']}`)" if base_name else "none (random init)"),
        ("strategy", f"{ft['strategy']}" + (f", BatchNorm of frozen parts: {ft['bn']}" if ft.get("bn") else "")
         + (f", frozen up to {ft['freeze_up_to']}" if ft.get("freeze_up_to") is not None else "")),
        ("learning rate", f"{ft['lr']} (head), backbone x{ft['backbone_lr_mult']}"
         + (f", layer decay {ft['layer_decay']}" if ft.get("layer_decay") else "")),
        ("trainable parameters", f"{ft['trainable_params']:,}" if ft.get("trainable_params") else None),
        ("data", f"{ds['root']}: {', '.join(f'{k} {v}' for k, v in ds['counts'].items())} images; {val_note}"),
        ("input", f"{tuple(size)}, mean {tuple(meta['mean'])}, std {tuple(meta['std'])}"),
        ("classes", ", ".join(classes)),
        ("wall time", f"{summary['wall_time_s']:.0f} s" if summary.get("wall_time_s") else None),
        ("hardware", ", ".join(f"{k} {v}" for k, v in (summary.get("hardware") or {}).items()) or None),
        ("precision", summary.get("precision")),
        ("command", f"`{summary['command']}`" if summary.get("command") else None),
        ("file sha256", f"`{sha}`"),
    ]
    lines += ["", "## How it was made", ""] + [f"- {k}: {v}" for k, v in facts if v is not None]
    lines += ["", "Files: `model.safetensors`, `loss.png`, `accuracy.png`, "
              + ", ".join(f"`confusion_{r['split']}.png`" for r in results.values())
              + ", `per_class.csv`, `metrics.jsonl`, `config.yaml`, `summary.json`.", ""]
    return "\n".join(lines)
