"""Read a results folder back: one row per run (summary.csv) and mean +- std per (model, lr, activation)."""
from __future__ import annotations

import csv
import io
import json
import statistics
from functools import lru_cache
from pathlib import Path

from ..engine.io import atomic_write_text
from ..engine.runlog import MetricsLog
from ..factory import build_on_meta
from .folder import RUNS_DIR, run_status
from .spec import CURVE_METRIC, ExperimentSpec

CSV_FIELDS = ("cell_id", "model", "activation", "optimizer", "lr", "seed", "status", "epochs_done",
              "final_val_top1", "best_val_top1", "best_epoch", "test_top1", "params", "epoch_s", "wall_time_s")


@lru_cache(maxsize=None)
def count_model_params(model: str, activation: str, num_classes: int) -> int:
    """Trainable parameters, built on the meta device (lazy per-channel coefficients count as 0)."""
    from torch.nn.parameter import UninitializedParameter

    net = build_on_meta(model, act_layer=activation, num_classes=num_classes)
    return sum(p.numel() for p in net.parameters() if not isinstance(p, UninitializedParameter))


def read_run(run_dir: Path) -> dict:
    """The per-epoch curve and the figures of one run directory (empty values for a run not started)."""
    epochs = [r for r in MetricsLog(run_dir / "metrics.jsonl").records() if r.get("kind") == "epoch"]
    curve = [(r["epoch"], r[CURVE_METRIC]) for r in epochs if r.get(CURVE_METRIC) is not None]
    summary = {}
    if (run_dir / "summary.json").is_file():
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    row = dict(status=run_status(run_dir), epochs_done=len(epochs), curve=curve, summary=summary)
    if curve:
        best_epoch, best = max(curve, key=lambda p: (p[1], -p[0]))
        row.update(final_val_top1=curve[-1][1], best_val_top1=best, best_epoch=best_epoch)
    # median training time per epoch: the first epoch carries the one-off warm-up (oneDNN, caches)
    times = [r["epoch_s"] for r in epochs if r.get("epoch_s") is not None]
    if times:
        row["epoch_s"] = statistics.median(times)
    if summary:
        row["test_top1"] = (summary.get("test") or {}).get("top1")
        row["wall_time_s"] = summary.get("wall_time_s")
    return row


def collect(spec: ExperimentSpec, out: str | Path) -> list[dict]:
    rows = []
    for cell in spec.cells:
        row = dict(cell_id=cell.cell_id, model=cell.model, activation=cell.activation, optimizer=cell.optimizer,
                   lr=cell.lr, seed=cell.seed)
        row.update(read_run(Path(out) / RUNS_DIR / cell.cell_id))
        classes = row["summary"].get("classes")
        if classes:
            row["params"] = count_model_params(cell.model, cell.activation, len(classes))
        rows.append(row)
    return rows


def summary_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in CSV_FIELDS})
    return buf.getvalue()


def write_results(spec: ExperimentSpec, out: str | Path) -> list[dict]:
    rows = collect(spec, out)
    atomic_write_text(Path(out) / "summary.csv", summary_csv(rows))
    return rows


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def aggregate(rows: list[dict]) -> list[dict]:
    """One entry per (model, optimizer, lr, activation) over its finished seeds, in grid order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["optimizer"], row["lr"], row["activation"]), []).append(row)
    out = []
    for (model, opt, lr, act), members in groups.items():
        done = [r for r in members if r["status"] == "finished"]
        entry = dict(model=model, optimizer=opt, lr=lr, activation=act, n=len(done), planned=len(members),
                     failed=sum(r["status"] == "failed" for r in members),
                     params=next((r["params"] for r in members if r.get("params")), None))
        for key in ("final_val_top1", "best_val_top1", "test_top1", "epoch_s", "wall_time_s"):
            vals = [r[key] for r in done if r.get(key) is not None]
            entry[key], entry[f"{key}_std"] = mean_std(vals)
        entry["curves"] = [r["curve"] for r in done if r["curve"]]
        entry["cpus"] = {(r["summary"].get("hardware") or {}).get("cpu") for r in done} - {None}
        out.append(entry)
    for entry in out:  # cost against ReLU in the same (model, optimizer, lr) block
        relu = next((e for e in out if e["activation"] == "relu" and
                     (e["model"], e["optimizer"], e["lr"]) == (entry["model"], entry["optimizer"], entry["lr"])), None)
        comparable = bool(relu and relu["n"] and entry["n"])
        # a study carried over many machines: seconds from two different CPUs say nothing about the activation
        entry["cpus_differ"] = comparable and len(entry["cpus"] | relu["cpus"]) > 1
        same_machine = comparable and not entry["cpus_differ"]
        entry["epoch_s_vs_relu"] = entry["epoch_s"] / relu["epoch_s"] if same_machine else None
    return out
