"""Training configuration: one flat dataclass, read from YAML, overridden by CLI flags and ``--set key=value``.

An unknown key is a :class:`ConfigError` naming it and listing the valid keys.
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .io import atomic_write_text

RECIPES_DIR = Path(__file__).resolve().parents[1] / "recipes"


@dataclass
class TrainConfig:
    # what
    model: str = "resnet20"
    data: str = "cifar10"  # a folder <root>/<split>/<class>/<image> or a dataset name
    out: str | None = None  # run directory (default runs/<model>-<data>-<time>)
    pretrained: bool | str = False
    act_layer: str | None = None
    drop_rate: float = 0.0
    drop_path_rate: float = 0.0
    # data
    val_size: float = 0.0  # carved from train with val_seed (count, or fraction < 1); 0 = a val folder if any
    val_seed: int = 0
    test_split: str | None = None  # evaluated once at the end (default: the dataset's evaluation split)
    subset: int = 0  # use only this many images of each split (seeded; for quick checks and tests)
    train_subset: int = 0  # use only this many training images (seeded by val_seed, after val is carved)
    loader: str = "auto"  # tensor (uint8 cache + batch augmentation) | folder (per-image) | auto
    image_size: int | None = None  # default: the model's input size
    workers: int = 2  # DataLoader workers of the folder path
    skip_bad: bool = False  # leave out unreadable / non-image files with a warning instead of failing
    crop_padding: int = 4
    hflip: bool = True
    cutout: int = 0
    randaugment: str | None = None  # timm syntax, e.g. "rand-m9-mstd0.5" (folder path)
    mixup: float = 0.0
    cutmix: float = 0.0
    # optimisation
    epochs: int = 10
    batch_size: int = 128  # global (all processes)
    optimizer: str = "sgd"  # sgd (Nesterov momentum) | adamw
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # cosine | onecycle | constant
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    label_smoothing: float = 0.0
    grad_clip: float = 0.0  # max gradient norm, 0 = off
    ema: bool = False
    ema_decay: float = 0.999
    # execution
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    channels_last: str | bool = "auto"
    compile: bool = False
    threads: int = 0  # torch intra-op threads on CPU; 0 = OMP_NUM_THREADS if set, else the idle cores
    seed: int = 0
    deterministic: bool = False
    tta: bool = False  # horizontal-flip test-time augmentation in the final evaluation
    log_every: int = 50  # steps between metric lines in the JSONL
    tag: str | None = None  # weight tag written into model.safetensors (default: the dataset name)
    resume_state: str | None = None  # also keep a committable resume state here (see docs/training.md)
    time_budget_s: float = 0.0  # > 0: epochs (an upper bound then) is cut to what fits this wall time
    extra: dict = field(default_factory=dict)  # free-form notes, saved with the run

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_UNION_KEYS = ("pretrained", "channels_last")


def _check_keys(values: dict, where: str) -> None:
    valid = TrainConfig.keys()
    for key in values:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown config key {key!r} in {where}{hint}; valid keys: {', '.join(valid)}")


def _coerce(key: str, value: Any) -> Any:
    """Bring a value (a YAML scalar or a CLI string) to the type of the field's default."""
    default = getattr(TrainConfig(), key)
    if key in _UNION_KEYS:  # a bool or a string: "true"/"false" from the CLI become booleans
        return {"true": True, "false": False}.get(str(value).lower(), value)
    if isinstance(value, str) and not isinstance(default, str):
        import yaml

        value = yaml.safe_load(value)  # "0.1" -> 0.1, "true" -> True, "null" -> None
    if value is None or default is None or isinstance(default, (dict, str)) and not isinstance(value, bool):
        return value
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError
            return value
        if isinstance(default, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError
            return value
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config key {key!r} expects {type(default).__name__}, got {value!r}") from None
    return value


def find_recipe(name: str | Path, subdir: str = "", what: str = "recipe") -> Path:
    """A file path, or a YAML shipped in ``cnnzoo/recipes/<subdir>`` named with or without ``.yaml``
    (``cifar10_resnet20``; experiments use ``subdir="experiments"``)."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    shipped = RECIPES_DIR / subdir
    candidate = shipped / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in shipped.glob("*.yaml"))
    raise ConfigError(f"unknown {what} {str(name)!r} (no such file); shipped {what}s: {', '.join(known) or 'none'}")


def load_yaml(path: str | Path, _seen: tuple = ()) -> dict:
    """A config file's keys. ``base: RECIPE`` (a shipped recipe name or a path) is loaded first and this file's
    keys override it, so a recipe that differs from another in a few keys says only those."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with open(path, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values")
    if not isinstance(values.get("base"), str):  # experiment grids use ``base:`` for a mapping of keys
        return values
    base = find_recipe(values.pop("base"))
    if base.resolve() in _seen:
        raise ConfigError(f"config file {path}: its base chain returns to {base}")
    return {**load_yaml(base, (*_seen, path.resolve())), **values}


def parse_set(items: list[str]) -> dict:
    """``["lr=0.2", "ema=true"]`` -> ``{"lr": "0.2", "ema": "true"}`` (coerced later)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value
    return out


def build_config(*sources: dict | str | Path | None, **overrides) -> TrainConfig:
    """Merge mappings / YAML files left to right, then ``overrides`` (None values are ignored)."""
    values: dict = {}
    for src in sources:
        if src is None:
            continue
        layer = load_yaml(src) if isinstance(src, (str, Path)) else dict(src)
        _check_keys(layer, str(src) if isinstance(src, (str, Path)) else "the config")
        values.update(layer)
    layer = {k: v for k, v in overrides.items() if v is not None}
    _check_keys(layer, "the overrides")
    values.update(layer)
    return TrainConfig(**{k: _coerce(k, v) for k, v in values.items()})


# keys a resumed run may change: where and how fast it runs, not what it computes
RESUMABLE_CHANGES = ("out", "data", "device", "threads", "workers", "log_every", "resume_state", "compile", "extra")


def resume_changes(saved: dict, cfg: TrainConfig) -> list[str]:
    """``["lr: 0.1 -> 0.2", ...]``: settings of ``cfg`` that differ from the run's saved config."""
    now = cfg.to_dict()
    return [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in now
            if k not in RESUMABLE_CHANGES and k in saved and saved[k] != now[k]]


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    import yaml

    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
