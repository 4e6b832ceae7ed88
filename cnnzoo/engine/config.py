"""Training configuration: one flat dataclass, read from YAML, overridden by CLI flags and ``--set key=value``.

Every value is checked where a :class:`TrainConfig` is made (``__post_init__``), so ``cnnzoo train``,
``finetune``, ``eval``, the Python API and a resumed run's saved config all meet the same rules
(:data:`RULES`): a wrong type, a value out of range or an unknown key is a one-line :class:`ConfigError` naming
the key, the value and what is valid. The device (which depends on the machine) and the optimizer are checked
where they are resolved (``engine/precision.py``, ``engine/optim.py``), with the same kind of error.
YAML files are read with ``yaml.safe_load`` only: a Python tag is an error, never code that runs.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.builder import LOADERS
from ..errors import ConfigError, InvalidArgumentError
from .io import atomic_write_text
from .optim import SCHEDULES
from .precision import PRECISIONS

RECIPES_DIR = Path(__file__).resolve().parents[1] / "recipes"


class ConfigValueError(ConfigError, InvalidArgumentError):
    """A config value out of its range: caught as ConfigError, InvalidArgumentError or ValueError alike."""


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
    crop_scale: float = 0.08  # smallest area fraction of the random-resized crop (folder path); small nets like more
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

    def __post_init__(self) -> None:
        check_values(self.to_dict())

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_UNION_KEYS = ("pretrained", "channels_last")


@dataclass(frozen=True)
class Rule:
    """What one key accepts: a type (``int``, ``float``, ``bool``, ``str``, ``dict``), bounds, choices, None."""

    kind: type
    low: float | None = None
    high: float | None = None
    open_low: bool = False  # low itself is refused (lr > 0)
    open_high: bool = False  # high itself is refused (label_smoothing < 1)
    choices: tuple = ()
    optional: bool = False  # None allowed

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) and self.kind is not bool:  # True is an int to Python, never to a user
            return False
        if self.kind is float:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                return False
        elif not isinstance(value, self.kind):
            return False
        if self.choices and value not in self.choices:
            return False
        if self.kind is str and not self.choices and not value.strip():
            return False  # an empty name is never meant
        if self.low is not None and (value < self.low or self.open_low and value == self.low):
            return False
        return self.high is None or value < self.high or (value == self.high and not self.open_high)

    def describe(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(map(str, self.choices))
        else:
            text = {int: "an integer", float: "a finite number", bool: "true or false", str: "a non-empty string",
                    dict: "a mapping"}[self.kind]
            if self.low is not None and self.high is not None:
                text += f" in {'(' if self.open_low else '['}{self.low}, {self.high}{')' if self.open_high else ']'}"
            elif self.low is not None:
                text += f" {'>' if self.open_low else '>='} {self.low}"
        return text + (" or null" if self.optional else "")


def _int(low=None, **kw) -> Rule:
    return Rule(int, low, **kw)


def _num(low=None, high=None, **kw) -> Rule:
    return Rule(float, low, high, **kw)


_NAME, _MAYBE_NAME, _FLAG = Rule(str), Rule(str, optional=True), Rule(bool)
_SEED = _int(0, high=2 ** 32 - 1)  # numpy's seed range
_FRACTION = _num(0, 1, open_high=True)
RULES: dict[str, Rule] = dict(
    model=_NAME, data=_NAME, out=_MAYBE_NAME, act_layer=_MAYBE_NAME,
    drop_rate=_FRACTION, drop_path_rate=_FRACTION,
    val_size=_num(0), val_seed=_SEED, test_split=_MAYBE_NAME, subset=_int(0), train_subset=_int(0),
    loader=Rule(str, choices=LOADERS), image_size=_int(8, optional=True), workers=_int(0), skip_bad=_FLAG,
    crop_padding=_int(0), hflip=_FLAG, cutout=_int(0), randaugment=_MAYBE_NAME,
    crop_scale=_num(0, 1, open_low=True), mixup=_num(0), cutmix=_num(0),
    epochs=_int(1), batch_size=_int(1), optimizer=_NAME, lr=_num(0, open_low=True), momentum=_FRACTION,
    nesterov=_FLAG, weight_decay=_num(0), schedule=Rule(str, choices=SCHEDULES), warmup_epochs=_num(0),
    min_lr=_num(0), label_smoothing=_FRACTION, grad_clip=_num(0), ema=_FLAG,
    ema_decay=_num(0, 1, open_low=True, open_high=True), device=_NAME, precision=Rule(str, choices=PRECISIONS),
    compile=_FLAG, threads=_int(0), seed=_SEED, deterministic=_FLAG, tta=_FLAG, log_every=_int(1),
    tag=_MAYBE_NAME, resume_state=_MAYBE_NAME, time_budget_s=_num(0), extra=Rule(dict),
)


def _check_union(key: str, value: Any) -> str | None:
    """pretrained: a bool, a tag or a path; channels_last: a bool or "auto"."""
    if key == "pretrained" and not (isinstance(value, bool) or isinstance(value, str) and value.strip()):
        return "true, false, a weight tag or a weight file path"
    if key == "channels_last" and not (isinstance(value, bool) or value == "auto"):
        return "true, false or auto"
    return None


def check_value(key: str, value: Any, name: str | None = None) -> None:
    """Raise :class:`ConfigError` when ``value`` is not valid for config key ``key`` (shown as ``name``)."""
    need = _check_union(key, value) if key in _UNION_KEYS else (
        None if RULES[key].accepts(value) else RULES[key].describe())
    if key == "val_size" and need is None and value >= 1 and value != int(value):
        need = "a fraction in [0, 1) or a whole count of images"
    if need is not None:
        raise ConfigValueError(f"{name or key} must be {need}, got {value!r}")


def check_values(values: dict, names: dict | None = None) -> None:
    """:func:`check_value` for every item of ``values`` (keys of :class:`TrainConfig`), then the rules between
    keys (where both are given)."""
    _check_keys(values, "the config")
    for key, value in values.items():
        check_value(key, value, (names or {}).get(key))
    for low, high in (("warmup_epochs", "epochs"), ("min_lr", "lr")):
        if values.get(low) is not None and values.get(high) is not None and values[low] > values[high]:
            raise ConfigValueError(f"{low} ({values[low]}) must not exceed {high} ({values[high]})")


def _check_keys(values: dict, where: str) -> None:
    valid = TrainConfig.keys()
    for key in values:
        if not isinstance(key, str):
            raise ConfigError(f"config keys in {where} must be names, got {key!r}; valid keys: {', '.join(valid)}")
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

        try:
            value = yaml.safe_load(value)  # "0.1" -> 0.1, "true" -> True, "null" -> None
        except (yaml.YAMLError, RecursionError):
            raise ConfigValueError(f"config key {key!r} expects {type(default).__name__}, got {value!r}") from None
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
        raise ConfigValueError(f"config key {key!r} expects {type(default).__name__}, got {value!r}") from None
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
        raise ConfigError(f"config file {path} does not exist" if not path.exists() else
                          f"config file {path} is not a file")
    try:
        with open(path, encoding="utf-8") as f:
            values = yaml.safe_load(f) or {}  # safe_load: a !!python tag is an error here, never a call
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {_first_line(exc)}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is not a config: its values nest too deeply") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values")
    if "base" in values and not isinstance(values["base"], (str, dict)):
        raise ConfigError(f"config file {path}: base must name a recipe (or a file), got {values['base']!r}")
    if not isinstance(values.get("base"), str):  # experiment grids use ``base:`` for a mapping of keys
        return values
    base = find_recipe(values.pop("base"))
    if base.resolve() in _seen:
        raise ConfigError(f"config file {path}: its base chain returns to {base}")
    return {**load_yaml(base, (*_seen, path.resolve())), **values}


def _first_line(exc: Exception) -> str:
    """YAML errors span several lines (the context, then the problem and where): keep the problem and line."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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
        is_file = isinstance(src, (str, Path))
        layer = load_yaml(src) if is_file else dict(src)
        values.update(_checked(layer, str(src) if is_file else "the config", name_source=is_file))
    values.update(_checked({k: v for k, v in overrides.items() if v is not None}, "the overrides"))
    return TrainConfig(**values)


def _checked(layer: dict, where: str, name_source: bool = False) -> dict:
    """One source's values, coerced and checked on their own, so that a bad value in a file names the file."""
    _check_keys(layer, where)
    try:
        out = {k: _coerce(k, v) for k, v in layer.items()}
        for key, value in out.items():
            check_value(key, value)
    except ConfigValueError as exc:
        raise ConfigValueError(f"{exc} (in {where})" if name_source else str(exc)) from None
    return out


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
