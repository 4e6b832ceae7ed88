"""``train()``: one function behind ``cnnzoo train``, from a single CPU process to torchrun on GPUs."""
from __future__ import annotations

import dataclasses
import json
import math
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from ..data import build_data
from ..errors import ConfigError, TrainingError
from ..factory import create_model
from ..hub.files.io import save_weights
from ..hub.index import indexed_names
from ..registry import get_model_spec
from .budget import epochs_for_budget, seconds_per_step, wait_for_peers
from .checkpoint import CHECKPOINT_NAME, has_checkpoint, load_checkpoint, load_latest, save_checkpoint, set_rng_state
from .config import TrainConfig, build_config, resume_changes, save_config
from .distributed import DistInfo, all_reduce_sum, barrier, cleanup, init_distributed
from .ema import ModelEma
from .evaluate import evaluate_loader
from .io import atomic_write_text
from .optim import create_optimizer, create_scheduler
from .precision import resolve_device, resolve_precision
from .resume_state import read_manifest, restore_run, write_resume_state
from .run_folder import remove_temporaries
from .runlog import MetricsLog, hardware, plot_confusion, plot_curves
from .threads import default_threads

DATA_KEYS = ("input_size", "mean", "std", "crop_pct", "interpolation")


def default_run_dir(cfg: TrainConfig) -> Path:
    data = Path(cfg.data).name or "data"
    return Path("runs") / f"{cfg.model}-{data}-{time.strftime('%Y%m%d-%H%M%S')}"


def _seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def _unwrap(model: nn.Module) -> nn.Module:
    model = getattr(model, "_orig_mod", model)  # torch.compile
    return getattr(model, "module", model)  # DistributedDataParallel


class _Progress:
    """tqdm bar on the main process (quiet when stderr is not a terminal)."""

    def __init__(self, total: int, desc: str, enabled: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True,
                        disable=None if enabled else True, file=sys.stderr)

    def update(self, **fields) -> None:
        self.bar.set_postfix(fields, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _build_model(cfg: TrainConfig, num_classes: int) -> nn.Module:
    kwargs = dict(num_classes=num_classes, drop_rate=cfg.drop_rate, drop_path_rate=cfg.drop_path_rate)
    if cfg.act_layer:
        kwargs["act_layer"] = cfg.act_layer
    return create_model(cfg.model, pretrained=cfg.pretrained, **kwargs)


def _model_data_cfg(cfg: TrainConfig, model: nn.Module | None = None) -> dict:
    """Input size, mean, std, crop and interpolation: a prebuilt model's own (its weight's) over the registry's."""
    spec_cfg = get_model_spec(cfg.model).default_cfg()
    own = getattr(model, "pretrained_cfg", None) or {}
    return {k: own[k] if own.get(k) is not None else spec_cfg[k] for k in DATA_KEYS}


def train(cfg: TrainConfig | dict | str | Path | None = None, *, resume: bool = False, model: nn.Module | None = None,
          param_groups: Callable[[nn.Module], list[dict]] | None = None, callbacks: Sequence = (),
          allow_config_change: bool = False, **overrides) -> dict:
    """Train ``cfg.model`` on ``cfg.data`` and return the run summary (also written to ``summary.json``).

    ``cfg`` is a :class:`TrainConfig`, a mapping or a YAML path; keyword arguments override its keys. With
    ``resume=True`` the run continues exactly from ``<out>/checkpoint.pt`` (or the checkpoint before it, when that
    one is damaged; or ``resume_state`` when it is newer); settings that change what the run computes are
    refused unless ``allow_config_change=True``, which applies them from the resumed epoch on.

    Hooks for fine-tuning and experiments: ``model`` replaces the model the config would build (e.g. one with
    frozen stages; its classifier must match the data's classes); ``param_groups(model)`` replaces the default
    optimiser groups (per-group ``lr_scale`` multiplies the scheduled learning rate); every callback may define
    ``on_epoch_start(epoch, model)`` and ``on_epoch_end(epoch, model, record)`` (it may add keys to ``record``,
    which is written to metrics.jsonl).
    """
    if isinstance(model, str):  # train(model="resnet20", ...) is the config key, not a prebuilt model
        overrides["model"], model = model, None
    cfg = cfg if isinstance(cfg, TrainConfig) and not overrides else build_config(
        cfg.to_dict() if isinstance(cfg, TrainConfig) else cfg, **overrides)
    info = init_distributed(cfg.device)
    try:
        result = _train(cfg, info, resume, model, param_groups, tuple(callbacks), allow_config_change)
        # Tear down together: a gloo process whose peer already closed the group can abort at exit (SIGABRT,
        # "terminate called without an active exception", seen once in a CI run). Not on the error path, where
        # the other process may never arrive.
        barrier(info)
        return result
    finally:
        cleanup(info)


def _train(cfg: TrainConfig, info: DistInfo, resume: bool, prebuilt: nn.Module | None = None,
           group_fn: Callable | None = None, callbacks: tuple = (), allow_config_change: bool = False) -> dict:
    t_start = time.time()
    torch.set_num_threads(cfg.threads or default_threads())  # 0: the idle cores (engine/threads.py)
    device = resolve_device(cfg.device)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not cfg.deterministic
    precision = resolve_precision(device, cfg.precision, cfg.channels_last)
    _seed_everything(cfg.seed, cfg.deterministic)

    out = Path(cfg.out) if cfg.out else default_run_dir(cfg)
    ckpt_path = out / CHECKPOINT_NAME
    if info.is_main:  # left by a run killed while writing; this process is each folder's one writer
        remove_temporaries(out)
        if cfg.resume_state:
            remove_temporaries(Path(cfg.resume_state))
    if has_checkpoint(ckpt_path) and not resume:
        raise ConfigError(f"{out} already holds a run ({ckpt_path}); pass --resume (resume=True) to continue it, "
                          f"--overwrite to start it afresh, or choose another --out")
    if resume and not has_checkpoint(ckpt_path) and not cfg.resume_state:
        raise ConfigError(f"nothing to resume: {ckpt_path} does not exist")
    state = _resume_point(ckpt_path, cfg.resume_state, info) if resume else None  # read (and checked) once

    data = build_data(cfg, _model_data_cfg(cfg, prebuilt), rank=info.rank, world_size=info.world_size, device=device)
    model = prebuilt if prebuilt is not None else _build_model(cfg, len(data.classes))
    if getattr(model, "num_classes", len(data.classes)) != len(data.classes):
        raise ConfigError(f"the model has {model.num_classes} classes but the data has {len(data.classes)} "
                          f"({', '.join(data.classes)}); call model.reset_classifier({len(data.classes)}) first")
    model.pretrained_cfg.update(data.data_cfg)
    model = model.to(device, memory_format=precision.memory_format())
    with torch.no_grad():  # materialise lazy (per-channel TAct) parameters before the optimiser sees them
        model.eval()(torch.zeros((1, *data.data_cfg["input_size"]), device=device))
    model.train()

    if cfg.time_budget_s > 0:
        cfg = _fit_budget(cfg, model, data, precision, info, state)
    steps_per_epoch = len(data.train)
    optimizer = create_optimizer(model, cfg, group_fn(model) if group_fn is not None else None)
    scheduler = create_scheduler(optimizer, cfg, steps_per_epoch)
    scaler = precision.grad_scaler()
    ema = ModelEma(model, cfg.ema_decay) if cfg.ema else None
    log = MetricsLog(out / "metrics.jsonl")
    start_epoch = 0
    if state is not None:
        changed = _check_resumable(state, cfg, ckpt_path, allow_config_change)
        _load_state(state, changed, model, optimizer, scheduler, scaler, ema, ckpt_path)
        set_rng_state(state["rng"])
        start_epoch = int(state["epoch"])
        t_start -= float(state.get("elapsed_s", 0.0))  # wall time counts every segment of the run
        if info.is_main:
            log.truncate_after(start_epoch, state.get("record"), state.get("metrics_sha256"))
            if cfg.resume_state and _state_epoch(cfg.resume_state) != start_epoch:
                write_resume_state(cfg.resume_state, state, log.path)  # killed between the two writes
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "config.yaml")

    train_model = torch.compile(model) if cfg.compile else model
    if info.enabled:
        train_model = nn.parallel.DistributedDataParallel(
            train_model, device_ids=[device.index] if device.type == "cuda" else None)
    mixup = None
    if cfg.mixup > 0 or cfg.cutmix > 0:
        from timm.data import Mixup

        mixup = Mixup(mixup_alpha=cfg.mixup, cutmix_alpha=cfg.cutmix, label_smoothing=cfg.label_smoothing,
                      num_classes=len(data.classes))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.0 if mixup else cfg.label_smoothing)
    num_classes = len(data.classes)

    if info.is_main:
        print(f"training {cfg.model} on {data.name} ({data.counts}) for {cfg.epochs} epochs: {data.loader} loader, "
              f"{precision.name}{' channels_last' if precision.channels_last else ''} on {device}, "
              f"{info.world_size} process(es), run dir {out}", flush=True)

    last = {}  # the last epoch's record (a run resumed at its end takes it from the checkpoint or the log)
    if state is not None:
        last = state.get("record") or next((r for r in reversed(log.records()) if r.get("epoch") == start_epoch), {})
    for epoch in range(start_epoch, cfg.epochs):
        data.train.set_epoch(epoch)
        for cb in callbacks:
            if hasattr(cb, "on_epoch_start"):
                cb.on_epoch_start(epoch, model)
        train_stats = _train_one_epoch(train_model, model, data.train, optimizer, scheduler, scaler, ema, criterion,
                                       mixup, precision, cfg, info, epoch, ckpt_path)
        record = dict(kind="epoch", epoch=epoch + 1, **train_stats, lr=optimizer.param_groups[0]["lr"])
        if data.val is not None:
            val = evaluate_loader(model, data.val, precision, num_classes, data.classes, info=info)
            record.update(val_loss=val["loss"], val_top1=val["top1"], val_top5=val["top5"])
            if ema is not None:
                val_ema = evaluate_loader(ema.module, data.val, precision, num_classes, data.classes, info=info)
                record.update(val_ema_top1=val_ema["top1"], val_ema_loss=val_ema["loss"])
        for cb in callbacks:
            if hasattr(cb, "on_epoch_end"):
                cb.on_epoch_end(epoch, model, record)
        record["elapsed_s"] = round(time.time() - t_start, 1)
        last = record
        if info.is_main:
            log.write(record)
            saved = save_checkpoint(ckpt_path, model=model.state_dict(), optimizer=optimizer.state_dict(),
                                    scheduler=scheduler.state_dict(), scaler=scaler.state_dict(),
                                    ema=ema.state_dict() if ema is not None else None, epoch=epoch + 1,
                                    elapsed_s=time.time() - t_start, config=cfg.to_dict(),
                                    record=record, metrics_sha256=log.sha256())
            if cfg.resume_state:
                write_resume_state(cfg.resume_state, saved, out / "metrics.jsonl")
            plot_curves(log.records(), out)
            print(_epoch_line(record, cfg.epochs), flush=True)
        barrier(info)

    return _finish(cfg, info, out, model, ema, data, precision, log, last, t_start)


def _fit_budget(cfg: TrainConfig, model: nn.Module, data, precision, info: DistInfo,
                resumed: dict | None) -> TrainConfig:
    """``cfg`` with the epochs that fit ``time_budget_s`` (a resumed run keeps the number it chose at start)."""
    if resumed is not None:
        return dataclasses.replace(cfg, epochs=int(resumed["config"]["epochs"]))
    wait_for_peers()
    step_s = seconds_per_step(model, data.train, precision, nn.CrossEntropyLoss())
    step_s = all_reduce_sum([step_s], info)[0].item() / info.world_size  # every rank picks the same number
    val_batches = len(data.val) * (2 if cfg.ema else 1) if data.val is not None else 0
    test_batches = len(data.test) * (2 if cfg.tta else 1) if data.test is not None else 0
    epochs = epochs_for_budget(cfg.time_budget_s, step_s, len(data.train), val_batches, test_batches, cfg.epochs)
    if info.is_main:
        print(f"time budget {cfg.time_budget_s:.0f} s: {step_s * 1000:.1f} ms a training step -> {epochs} epochs "
              f"(at most {cfg.epochs})", flush=True)
    return dataclasses.replace(cfg, epochs=epochs)


def _resume_point(ckpt_path: Path, resume_state: str | None, info: DistInfo) -> dict:
    """The state a resumed run continues from (see :func:`_newest_state`). The main process decides and
    restores; the others then read what it left (and fail as it did, instead of waiting at the barrier)."""
    state, error = None, None
    if info.is_main:
        try:
            state = _newest_state(ckpt_path, resume_state)
        except (TrainingError, ConfigError) as exc:
            error = exc
    barrier(info)
    if error is not None:
        raise error
    return state if state is not None else load_checkpoint(ckpt_path)


def _newest_state(ckpt_path: Path, resume_state: str | None) -> dict:
    """The newest checkpoint of the run folder that verifies, or the resume state when that is newer: a clone
    without the run folder, or a folder whose latest checkpoint is damaged."""
    if not has_checkpoint(ckpt_path):  # a clone: the committed state is all there is
        restore_run(resume_state, ckpt_path.parent)
        return load_checkpoint(ckpt_path)
    state = used = problem = None
    try:
        state, used = load_latest(ckpt_path)
    except TrainingError as exc:
        problem = exc
    there = _state_epoch(resume_state) if resume_state and used != ckpt_path else None
    have = state.get("epoch") if state is not None else None
    if there is not None and (not isinstance(have, int) or there > have):
        warnings.warn(f"resuming from the resume state in {resume_state} (epoch {there}): the run folder has no "
                      f"newer checkpoint that verifies", stacklevel=4)
        restore_run(resume_state, ckpt_path.parent)
        return load_checkpoint(ckpt_path)
    if state is None:
        raise problem
    return state


def _state_epoch(folder: str) -> int | None:
    """The epoch a resume state holds; None when it has none that verifies."""
    try:
        return int(read_manifest(folder)["epoch"])
    except (TrainingError, KeyError, TypeError, ValueError):
        return None


def _check_resumable(state: dict, cfg: TrainConfig, ckpt_path: Path, allow_change: bool = False) -> list[str]:
    """A checkpoint continues only the run that wrote it: an epoch inside the run, and the same settings unless
    the user allows a change (returned, and announced)."""
    epoch = state.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 < epoch <= cfg.epochs:
        raise TrainingError(f"checkpoint {ckpt_path} claims epoch {epoch!r}, outside this run's 1..{cfg.epochs}; "
                            f"it belongs to another run: start afresh with --overwrite")
    changed = resume_changes(state.get("config") or {}, cfg)
    if changed and not allow_change:
        raise ConfigError(f"resuming {ckpt_path.parent} with settings that differ from the run's own "
                          f"({'; '.join(changed)}); resume with the run's settings (drop these options), pass "
                          f"--allow-config-change (allow_config_change=True) to apply them from epoch {epoch + 1} "
                          f"on, or start a new run in another --out")
    if changed:
        warnings.warn(f"resuming {ckpt_path.parent} at epoch {epoch + 1} with changed settings: {'; '.join(changed)}",
                      stacklevel=3)
    return changed


def _load_state(state: dict, changed: list[str], model, optimizer, scheduler, scaler, ema, ckpt_path: Path) -> None:
    """Load a checkpoint into a freshly built run. With allowed changes the new settings win: the optimiser keeps
    its buffers but takes the new hyper-parameters (a new optimiser starts fresh), and the schedule continues
    at the step reached, on the new base learning rate."""
    try:
        model.load_state_dict(state["model"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise TrainingError(f"checkpoint {ckpt_path} does not fit this model ({str(exc).splitlines()[0]}); "
                            f"resume with the run's own model, or start a new run") from None
    fresh = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    if not any(c.startswith("optimizer:") for c in changed):
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as exc:
            raise TrainingError(f"checkpoint {ckpt_path}: its optimiser state does not fit ({exc})") from None
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    if changed:
        for group, new in zip(optimizer.param_groups, fresh):
            group.update(new)
        scheduler.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        for group, base, factor in zip(optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas):
            group["lr"] = base * factor(scheduler.last_epoch)


def _train_one_epoch(train_model, model, loader, optimizer, scheduler, scaler, ema, criterion, mixup, precision,
                     cfg, info, epoch, ckpt_path) -> dict:
    train_model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=precision.device)
    correct = torch.zeros((), dtype=torch.int64, device=precision.device)
    seen = 0
    t0 = time.time()
    bar = _Progress(len(loader), f"epoch {epoch + 1}/{cfg.epochs}", info.is_main)
    for step, (x, y) in enumerate(loader):
        x = x.contiguous(memory_format=precision.memory_format())
        target = y
        if mixup is not None:
            x, target = mixup(x, y)
        with precision.autocast():
            logits = train_model(x)
            loss = criterion(logits.float(), target)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if ema is not None:
            ema.update(model)
        loss_sum += loss.detach().double() * y.shape[0]
        correct += (logits.detach().argmax(1) == y).sum()
        seen += y.shape[0]
        if (step + 1) % cfg.log_every == 0 or step + 1 == len(loader):
            _check_finite(loss_sum, info, epoch, step, ckpt_path)
            elapsed = time.time() - t0
            bar.update(loss=f"{loss_sum.item() / seen:.3f}", acc=f"{100 * correct.item() / seen:.1f}",
                       ips=f"{seen * info.world_size / elapsed:.0f}")
        else:
            bar.bar.update(1)
    bar.close()
    totals = all_reduce_sum([loss_sum.item(), correct.item(), seen], info)
    elapsed = time.time() - t0
    return dict(train_loss=round(totals[0].item() / totals[2].item(), 6),
                train_top1=round(100 * totals[1].item() / totals[2].item(), 4),
                images_per_s=round(totals[2].item() / elapsed, 1), epoch_s=round(elapsed, 1))


def _check_finite(loss_sum: torch.Tensor, info: DistInfo, epoch: int, step: int, ckpt_path: Path) -> None:
    bad = all_reduce_sum([0.0 if math.isfinite(loss_sum.item()) else 1.0], info)[0].item()
    if bad:
        kept = f"the last good checkpoint is kept at {ckpt_path}" if ckpt_path.exists() else \
            "no checkpoint was written yet"
        raise TrainingError(
            f"the training loss became non-finite (nan/inf) in epoch {epoch + 1} by step {step + 1}; {kept}. "
            f"Lower lr, raise warmup_epochs, set grad_clip, or try precision=fp32"
        )


def _epoch_line(r: dict, epochs: int) -> str:
    parts = [f"epoch {r['epoch']}/{epochs}", f"loss {r['train_loss']:.4f}", f"train {r['train_top1']:.2f}%"]
    if "val_top1" in r:
        parts.append(f"val {r['val_top1']:.2f}%")
    if "val_ema_top1" in r:
        parts.append(f"val(ema) {r['val_ema_top1']:.2f}%")
    parts += [f"{r['images_per_s']:.0f} img/s", f"{r['epoch_s']:.0f}s", f"lr {r['lr']:.4g}"]
    return "  ".join(parts)


def _command_line() -> str:
    """The command that started the run, with the program by name (``cnnzoo train ...``), not its install path."""
    import shlex

    return " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else ""


def _finish(cfg, info, out, model, ema, data, precision, log, last, t_start) -> dict:
    """Pick the final weights, evaluate on the test split once, write model.safetensors and summary.json."""
    num_classes = len(data.classes)
    final, chosen = model, "model"
    if ema is not None:
        # choose on validation only (never on test); without a validation split the EMA is taken
        if data.val is None or last.get("val_ema_top1", -1) >= last.get("val_top1", 0):
            final, chosen = ema.module, "ema"
    summary = dict(model=cfg.model, dataset=data.name, data_root=str(data.root), classes=data.classes,
                   counts=data.counts, epochs=cfg.epochs, final_weights=chosen,
                   train_loss=last.get("train_loss"), train_top1=last.get("train_top1"))
    if data.val is not None:
        val = evaluate_loader(final, data.val, precision, num_classes, data.classes, info=info)
        summary["val"] = {k: val[k] for k in ("top1", "top5", "loss", "n")}
    if data.test is not None:
        test = evaluate_loader(final, data.test, precision, num_classes, data.classes, tta=cfg.tta, info=info)
        summary["test"] = {k: test[k] for k in ("top1", "top5", "loss", "n", "per_class")}
        summary["test"].update(split=data.test_split, tta=cfg.tta)
    if not info.is_main:
        return summary
    tag = _run_tag(cfg.model, cfg.tag or data.name)
    metadata = dict(arch=cfg.model, tag=tag, num_classes=num_classes, labels=data.classes,
                    input_size=list(data.data_cfg["input_size"]), mean=list(data.data_cfg["mean"]),
                    std=list(data.data_cfg["std"]), crop_pct=data.data_cfg.get("crop_pct"),
                    interpolation=data.data_cfg.get("interpolation"), dataset=data.name)
    state = {k: v.detach().cpu().contiguous() for k, v in final.state_dict().items()}
    summary["sha256"] = save_weights(state, out / "model.safetensors", metadata)
    if data.test is not None:
        plot_confusion(test["confusion"], data.classes, out / "confusion.png",
                       f"{cfg.model} on {data.name} {data.test_split}: top-1 {test['top1']:.2f}%")
        atomic_write_text(out / f"eval_{data.test_split}.json", json.dumps(test, indent=2))
    summary.update(wall_time_s=round(time.time() - t_start, 1), precision=precision.name,
                   channels_last=precision.channels_last, processes=info.world_size, hardware=hardware(),
                   command=_command_line(), run_dir=str(out), weights=str(out / "model.safetensors"))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    if "test" in summary:
        print(f"{data.test_split} top-1 {summary['test']['top1']:.2f}%  top-5 {summary['test']['top5']:.2f}%  "
              f"({chosen} weights) -> {out / 'model.safetensors'}", flush=True)
    return summary


def _run_tag(arch: str, tag: str) -> str:
    """The tag a run writes into its weight's header. It never claims a published name: a file whose header names an
    indexed weight is verified against the index when loaded by path, so the run's own file would be refused;
    ``cnnzoo dev register`` writes the published tag when it publishes the run."""
    return f"{tag}-run" if f"{arch}.{tag}" in indexed_names() else tag
