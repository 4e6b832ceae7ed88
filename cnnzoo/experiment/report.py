"""Regenerate the figures, the summary CSV and the Markdown report of a results folder, without training."""
from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

from ..engine.io import atomic_write_text
from ..engine.runlog import MetricsLog
from ..errors import ConfigError
from .act_params import plot_final_act_params
from .folder import RUNS_DIR, load_record
from .plots import plot_error_curves
from .results import aggregate, write_results
from .spec import ExperimentSpec, parse_spec

TRAINABLE = ("tact", "mtact", "tact_channel", "mtact_channel")


def spec_of_folder(out: str | Path) -> ExperimentSpec:
    record = load_record(Path(out))
    if record is None:
        raise ConfigError(f"{out} is not an experiment results folder (no experiment.json); run "
                          f"`cnnzoo experiment CONFIG.yaml --out {out}` first")
    return parse_spec(record["spec"], f"{out}/experiment.json")


def _pm(mean: float, std: float, digits: int = 2) -> str:
    if mean is None or math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def table(entries: list[dict]) -> str:
    lines = []
    for key in dict.fromkeys((e["model"], e["optimizer"], e["lr"]) for e in entries):
        model, opt, lr = key
        lines += [f"\n**{model}**, {opt}, lr {lr:g}\n",
                  "| activation | runs | final val top-1 (%) | best val top-1 (%) | test top-1 (%) | params | "
                  "train s/epoch | vs ReLU |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for e in (e for e in entries if (e["model"], e["optimizer"], e["lr"]) == key):
            runs = f"{e['n']}/{e['planned']}" + (f" ({e['failed']} failed)" if e["failed"] else "")
            ratio = (f"{e['epoch_s_vs_relu']:.2f}x" if e["epoch_s_vs_relu"] else
                     "- (CPUs differ)" if e["cpus_differ"] else "-")
            params = f"{e['params']:,}" if e["params"] else "-"
            lines.append(f"| {e['activation']} | {runs} | {_pm(e['final_val_top1'], e['final_val_top1_std'])} | "
                         f"{_pm(e['best_val_top1'], e['best_val_top1_std'])} | "
                         f"{_pm(e['test_top1'], e['test_top1_std'])} | {params} | "
                         f"{_pm(e['epoch_s'], e['epoch_s_std'], 1)} | {ratio} |")
    return "\n".join(lines) + "\n"


def reading(entries: list[dict], metric: str = "test_top1") -> list[str]:
    """Each trainable activation against ReLU in its block, with the seed-to-seed spread for scale."""
    out = []
    for e in entries:
        if e["activation"] not in TRAINABLE or not e["n"]:
            continue
        relu = next((r for r in entries if r["activation"] == "relu" and r["n"] and
                     (r["model"], r["optimizer"], r["lr"]) == (e["model"], e["optimizer"], e["lr"])), None)
        if relu is None or math.isnan(e[metric]) or math.isnan(relu[metric]):
            continue
        diff = e[metric] - relu[metric]
        spread = max(e[f"{metric}_std"], relu[f"{metric}_std"])
        if spread == 0:
            verdict = "single seeds: no spread to compare with"
        elif abs(diff) <= spread:
            verdict = "within the seed-to-seed spread"
        else:
            verdict = f"{'beats' if diff > 0 else 'trails'} ReLU by {abs(diff) / spread:.1f}x the spread"
        out.append(f"- {e['model']} ({e['optimizer']}, lr {e['lr']:g}): {e['activation']} {diff:+.2f} points "
                   f"{metric.replace('_', ' ')} vs ReLU (seed std {e[f'{metric}_std']:.2f} / "
                   f"{relu[f'{metric}_std']:.2f}, n={e['n']}/{relu['n']}): {verdict}.")
    return out


def _run_records(spec: ExperimentSpec, out: Path) -> list[tuple]:
    runs = []
    for cell in spec.cells:
        run_dir = out / RUNS_DIR / cell.cell_id
        if (run_dir / "summary.json").is_file() and cell.activation in TRAINABLE:
            runs.append((cell.model, cell.activation, cell.lr, MetricsLog(run_dir / "metrics.jsonl").records()))
    return runs


def _hardware_and_time(rows: list[dict]) -> tuple[str, float]:
    """Each machine the runs trained on, with how many runs each when there are several (a study carried over
    sessions lands on different CPUs), and the summed wall time."""
    machines = Counter(f"{hw['cpu']}, {hw['cores']} cores, torch {hw['torch']}, {hw['torch_threads']} thread(s) per run"
                       for hw in (r["summary"].get("hardware") for r in rows) if hw)
    if len(machines) > 1:
        text = "; ".join(f"{m} ({n} run{'s' if n > 1 else ''})" for m, n in machines.items())
        text += " (train s/epoch is compared with ReLU's only between runs on one CPU)"
    else:
        text = next(iter(machines), "-")
    return text, sum(r.get("wall_time_s") or 0.0 for r in rows)


def write_report(out: str | Path, page: str | Path | None = None) -> dict:
    """``<out>/summary.csv``, ``<out>/plots/*.png`` and ``<out>/report.md``; with ``page``, also that Markdown
    page with its figures copied beside it (``<page dir>/img/``). Returns the paths written."""
    out = Path(out)
    spec = spec_of_folder(out)
    rows = write_results(spec, out)
    entries = aggregate(rows)
    figures = {}
    if plot_error_curves(entries, out / "plots" / "error_curves.png"):
        figures["error_curves"] = out / "plots" / "error_curves.png"
    if plot_final_act_params(_run_records(spec, out), out / "plots" / "act_params.png"):
        figures["act_params"] = out / "plots" / "act_params.png"
    record = load_record(out)
    written = dict(csv=out / "summary.csv", report=out / "report.md", **figures)
    atomic_write_text(out / "report.md", _markdown(spec, record, rows, entries, {k: f"plots/{p.name}"
                                                                                 for k, p in figures.items()}))
    if page is not None:
        page = Path(page)
        img_dir = page.parent / "img"
        links = {}
        for key, src in figures.items():
            dst = img_dir / f"{page.stem}_{src.name}"
            img_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            links[key] = f"img/{dst.name}"
        atomic_write_text(page, _markdown(spec, record, rows, entries, links) + _kept_by_hand(page))
        written["page"] = page
    return written


KEPT_MARKER = "<!-- written by hand below: kept when the page is regenerated -->"


def _kept_by_hand(page: Path) -> str:
    """The tail of an existing page from KEPT_MARKER on (a hand-written reading of the results), so regenerating
    the tables and plots does not erase it."""
    text = page.read_text() if page.is_file() else ""
    return "\n" + text[text.index(KEPT_MARKER):] if KEPT_MARKER in text else ""


def _markdown(spec: ExperimentSpec, record: dict, rows: list[dict], entries: list[dict], links: dict) -> str:
    import yaml

    hw, total_s = _hardware_and_time(rows)
    done = sum(r["status"] == "finished" for r in rows)
    parts = [f"# Experiment: {spec.name}\n"]
    if spec.description:
        parts.append(spec.description.strip() + "\n")
    parts += [
        f"- Command: `{record.get('command') or 'cnnzoo experiment CONFIG.yaml'}`",
        f"- Runs finished: {done} of {len(rows)} (results folder fingerprint `{record.get('fingerprint')}`)",
        f"- Hardware: {hw}",
        f"- Wall time summed over the runs: {total_s / 3600:.2f} h ({total_s:.0f} s; `--jobs N` runs N at a time)",
        "- Curves and 'final' / 'best' columns: validation top-1 per epoch on the split carved from train "
        "(`val_size`); 'test top-1' is the test split, evaluated once at the end of each run.",
        "- Mean ± sample standard deviation over the finished seeds; time per epoch is the median training "
        "time of an epoch (evaluation excluded), so the first epoch's warm-up does not count.\n",
        "## Grid\n", "```yaml", yaml.safe_dump(spec.raw, sort_keys=False).strip(), "```\n",
        "## Results", table(entries)]
    if "error_curves" in links:
        parts += ["## Validation error per epoch (mean ± 1 std over seeds)\n",
                  f"![error curves]({links['error_curves']})\n"]
    if "act_params" in links:
        parts += ["## Learned TAct / mTAct coefficients\n",
                  "Raw parameters a and b per activation layer at the last epoch (mTAct applies a² and b²).\n",
                  f"![learned coefficients]({links['act_params']})\n"]
    lines = reading(entries)
    if lines:
        parts += ["## Reading (generated)\n", *lines, ""]
    return "\n".join(parts)
