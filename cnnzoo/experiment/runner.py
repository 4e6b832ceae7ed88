"""Run or continue a grid: each cell is an ordinary engine run in ``<out>/runs/<cell-id>/``.

A cell is *finished* when its run wrote ``summary.json``, *interrupted* when it has a checkpoint or a resume
state but no summary (it is resumed from it), *failed* when training raised a :class:`TrainingError`
(``failed.json``; skipped unless ``retry_failed``). ``<out>/experiment.json`` records the grid's fingerprint,
so a folder written by another config is refused unless ``force`` (then finished runs whose resolved config is
unchanged are kept, and changed ones are moved to ``<out>/replaced/``, never deleted).

Each unfinished run keeps a compact resume state in ``runs/<cell-id>/resume/`` (replaced every epoch, removed when
the run finishes), so a results folder committed mid-run carries on from a fresh clone on another machine, where
the checkpoints (git-ignored) are gone. ``order="seed"`` trains every cell's first seed before any second one, so
a grid that takes many sessions gives a one-seed picture of every cell first.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Callable

from ..engine import train
from ..engine.io import atomic_write_text
from ..engine.runlog import MetricsLog
from ..errors import CnnzooError, ConfigError, TrainingError
from ..layers.tact_fused import set_tact_fused
from .act_params import ActParamsLogger, plot_act_params
from .folder import (FAILED_FILE, IGNORED_CONFIG_KEYS, REPLACED_DIR, RESUME_DIR, RUNS_DIR,  # noqa: F401
                     SPEC_FILE, ResultsFolderError, load_record, run_status)
from .results import write_results
from .spec import ExperimentSpec


def _differences(old: dict, new: dict) -> list[str]:
    diffs = [f"base.{k}" for k in sorted(set(old.get("base", {})) | set(new["base"]))
             if old.get("base", {}).get(k) != new["base"].get(k)]
    old_cells = {c[0] for c in old.get("cells", [])}
    new_cells = {c[0] for c in new["cells"]}
    if old_cells - new_cells:
        diffs.append(f"{len(old_cells - new_cells)} cell(s) dropped (e.g. {sorted(old_cells - new_cells)[0]})")
    if new_cells - old_cells:
        diffs.append(f"{len(new_cells - old_cells)} cell(s) added (e.g. {sorted(new_cells - old_cells)[0]})")
    return diffs or ["per-model overrides"]


def _write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str))


def prepare_folder(spec: ExperimentSpec, out: Path, force: bool, command: str = "") -> None:
    """Check the folder belongs to this grid (or adopt it with ``force``) and that it can be written."""
    record = load_record(out)
    if record is None and out.is_dir() and any(out.iterdir()) and not force:
        raise ResultsFolderError(f"{out} is not empty and holds no {SPEC_FILE}, so it is not an experiment "
                                 f"folder; choose a new or empty --out (or pass --force to use it anyway)")
    canonical = spec.canonical()
    if record is not None and record.get("fingerprint") != spec.fingerprint():
        diffs = ", ".join(_differences(record.get("canonical", {}), canonical))
        if not force:
            raise ConfigError(
                f"{out} holds results of a different config ({record.get('name')!r}, fingerprint "
                f"{record.get('fingerprint')} vs {spec.fingerprint()}; differs in: {diffs}); choose another --out, "
                f"or pass --force to adopt the new config (finished runs whose resolved config is unchanged are "
                f"kept, changed ones are moved to {out / REPLACED_DIR})")
    new_record = dict(name=spec.name, fingerprint=spec.fingerprint(), canonical=canonical, spec=spec.raw,
                      command=command or (record or {}).get("command", ""),
                      created=(record or {}).get("created") or time.strftime("%Y-%m-%d %H:%M:%S"))
    try:
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        if record is not None and record.get("fingerprint") != spec.fingerprint():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            _write_json(out / f"experiment.replaced-{stamp}.json", record)  # keep the history
        _write_json(out / SPEC_FILE, new_record)
    except OSError as exc:
        raise ResultsFolderError(f"cannot write to the results folder {out}: {exc.strerror or exc}; choose a "
                                 f"writable --out (nothing was changed)") from exc


def _same_config(run_dir: Path, cfg) -> bool:
    import yaml

    path = run_dir / "config.yaml"
    if not path.is_file():
        return True  # never started: nothing to compare
    old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    new = cfg.to_dict()
    return all(old[k] == new[k] for k in new if k in old and k not in IGNORED_CONFIG_KEYS)


def _set_aside(run_dir: Path, out: Path) -> Path:
    target = out / REPLACED_DIR / f"{run_dir.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(run_dir), str(target))
    return target


def _start_clean(run_dir: Path) -> None:
    """A run without a checkpoint restarts from scratch: drop records it wrote before it was stopped."""
    for name in ("metrics.jsonl", FAILED_FILE):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / RESUME_DIR, ignore_errors=True)  # a state without its manifest: never completed


ORDERS = ("grid", "seed")


def ordered_cells(cells: list, order: str = "grid") -> list:
    """The cells in training order: the grid's (model, lr, optimizer, activation, seed), or with ``"seed"`` every
    cell's first seed, then every cell's second, ... (the grid's order within a seed)."""
    if order not in ORDERS:
        raise ConfigError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if order == "grid":
        return list(cells)
    rank = {seed: i for i, seed in enumerate(dict.fromkeys(c.seed for c in cells))}
    return sorted(cells, key=lambda c: rank[c.seed])


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``: this process trains cells 2, 5, 8, ... of the grid (1-based)."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise ConfigError(f"shard must be K/N with 1 <= K <= N, got {text!r}")
    return k, n


def run_experiment(spec: ExperimentSpec, out: str | Path, *, force: bool = False, retry_failed: bool = False,
                   command: str = "", train_fn: Callable | None = None, log=print,
                   shard: tuple[int, int] = (1, 1), threads: int | None = None,
                   order: str = "grid") -> list[tuple[str, str]]:
    """Train every cell not yet finished; returns ``[(cell_id, action)]`` with action in trained / resumed /
    skipped / failed / skipped-failed. ``train_fn`` replaces :func:`cnnzoo.engine.train` (tests).

    ``shard=(k, n)`` trains only every n-th cell starting at the k-th, so n processes can share a grid;
    ``threads`` overrides the torch threads of every run (one each when processes share the cores); ``order``
    (:data:`ORDERS`) is the order cells are trained in (and sharded over)."""
    cells = ordered_cells(spec.cells, order)
    out = Path(out)
    prepare_folder(spec, out, force, command)
    train_fn = train_fn or train
    if spec.fused_tact:
        set_tact_fused(True)
    actions = []
    k, n = shard
    for i, cell in enumerate(cells, 1):
        if (i - 1) % n != k - 1:
            continue
        run_dir = out / RUNS_DIR / cell.cell_id
        cfg = spec.train_config(cell, run_dir)
        cfg.resume_state = str(run_dir / RESUME_DIR)
        if threads is not None:
            cfg.threads = threads
        status = run_status(run_dir)
        if status != "new" and not _same_config(run_dir, cfg):
            if not force:
                raise ConfigError(f"{run_dir} was trained with a different config than the grid now gives it; "
                                  f"pass --force to set it aside in {out / REPLACED_DIR} and retrain")
            log(f"[{i}/{len(spec.cells)}] {cell.cell_id}: config changed, old run moved to "
                f"{_set_aside(run_dir, out)}")
            status = "new"
        if status == "finished" or (status == "failed" and not retry_failed):
            actions.append((cell.cell_id, "skipped" if status == "finished" else "skipped-failed"))
            continue
        resume = status == "interrupted"
        log(f"[{i}/{len(spec.cells)}] {cell.cell_id}: {'resuming' if resume else 'training'}")
        try:
            if not resume and run_dir.exists():
                _start_clean(run_dir)
            train_fn(cfg, resume=resume, callbacks=[ActParamsLogger()])
        except TrainingError as exc:  # a diverged run is a result of the grid, not a reason to stop it
            _write_json(run_dir / FAILED_FILE, dict(cell=cell.cell_id, error=str(exc)))
            log(f"  failed: {exc}")
            actions.append((cell.cell_id, "failed"))
            continue
        except OSError as exc:
            if isinstance(exc, CnnzooError):
                raise
            raise ResultsFolderError(
                f"writing run {run_dir} failed: {exc.strerror or exc}. Finished runs are intact (every file is "
                f"written atomically); free space or fix permissions and rerun the same command to continue"
            ) from exc
        actions.append((cell.cell_id, "resumed" if resume else "trained"))
        shutil.rmtree(run_dir / RESUME_DIR, ignore_errors=True)  # finished: its results are what gets committed
        _after_run(run_dir, cell)
        write_results(spec, out)  # the summary CSV is current after every run
    write_results(spec, out)
    return actions


def _after_run(run_dir: Path, cell) -> None:
    try:
        plot_act_params(MetricsLog(run_dir / "metrics.jsonl").records(), run_dir / "act_params.png",
                        f"{cell.cell_id}: learned a, b per layer")
    except Exception as exc:  # a plot must never cost a finished run
        print(f"  (act_params plot skipped: {exc})", file=sys.stderr)
