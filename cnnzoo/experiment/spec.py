"""An experiment grid: models x activations x learning rates x optimizers x seeds over shared TrainConfig keys.

The YAML holds ``base`` (TrainConfig keys every cell shares), ``activations``, ``seeds``, default ``lrs`` and
``optimizers``, and ``models``: names, or mappings ``{model, lrs, optimizers, <TrainConfig key>: value}`` for
per-model choices (the activation study trains DenseNet with SGD and the others with Adam). Everything is
validated before anything is written: unknown keys, models and activations are named with the valid ones.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.config import TrainConfig, build_config, find_recipe, load_yaml
from ..errors import ConfigError, UnknownActivationError
from ..layers.activations import MODEL_ACTIVATIONS
from ..registry import get_model_spec

TOP_KEYS = ("name", "description", "base", "models", "activations", "lrs", "optimizers", "seeds", "fused_tact")
MODEL_KEYS = ("model", "lrs", "optimizers")
OPTIMIZERS = ("sgd", "adamw")
GRID_KEYS = ("model", "act_layer", "optimizer", "lr", "seed", "out")  # set per cell, never in base
CURVE_METRIC = "val_top1"  # the per-epoch figure plotted and tabled (validation carved from train)


@dataclass(frozen=True)
class Cell:
    """One training run of the grid."""

    model: str
    activation: str
    optimizer: str
    lr: float
    seed: int
    overrides: tuple = ()  # per-model TrainConfig keys, as sorted (key, value) pairs

    @property
    def cell_id(self) -> str:
        return f"{self.model}-{self.activation}-{self.optimizer}-lr{self.lr:g}-s{self.seed}"

    @property
    def group(self) -> tuple[str, str, float]:
        """The plot panel / table block a cell belongs to: seeds and activations vary inside it."""
        return self.model, self.optimizer, self.lr


@dataclass
class ExperimentSpec:
    name: str
    base: dict
    cells: list[Cell]
    description: str = ""
    raw: dict = field(default_factory=dict)
    fused_tact: bool = False  # TAct / mTAct through the compiled kernels (speed only: not in the fingerprint)

    def train_config(self, cell: Cell, run_dir: Path):
        """The resolved TrainConfig of a cell (base, then the model's overrides, then the grid's keys)."""
        return build_config(self.base, dict(cell.overrides), model=cell.model, act_layer=cell.activation,
                            optimizer=cell.optimizer, lr=cell.lr, seed=cell.seed, out=str(run_dir))

    def fingerprint(self) -> str:
        """Hash of what decides the results: two specs with the same cells and base train the same runs."""
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()[:16]

    def canonical(self) -> dict:
        return dict(base=self.base, cells=[[c.cell_id, dict(c.overrides)] for c in self.cells])


def _listed(value, key: str, where: str) -> list:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if any(isinstance(v, (dict, list)) for v in items):
        raise ConfigError(f"{where}: {key} must be a value or a list of values, got {value!r}")
    return items


def _check_keys(mapping: dict, valid: tuple, where: str) -> None:
    for key in mapping:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where}{hint}; valid keys: {', '.join(valid)}")


def _check_activation(name) -> str:
    key = str(name).lower().replace("-", "_")
    if key not in MODEL_ACTIVATIONS:
        raise UnknownActivationError(f"unknown activation {name!r} in the grid; valid: {', '.join(MODEL_ACTIVATIONS)}")
    return key


def _check_numbers(values: list, key: str, kind: type, where: str) -> list:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and v != int(v)):
            raise ConfigError(f"{where}: {key} must hold {kind.__name__} values, got {v!r}")
        if kind is float and not v > 0:
            raise ConfigError(f"{where}: learning rates must be positive, got {v!r}")
        out.append(kind(v))
    return out


def _model_entries(raw: dict, where: str) -> list[dict]:
    entries = []
    for item in _listed_models(raw.get("models"), where):
        entry = {"model": item} if isinstance(item, str) else dict(item)
        if not isinstance(entry.get("model"), str):
            raise ConfigError(f"{where}: every models entry needs a model name, got {item!r}")
        get_model_spec(entry["model"])  # UnknownModelError with the closest names
        overrides = {k: v for k, v in entry.items() if k not in MODEL_KEYS}
        _check_train_keys(overrides, f"{where}, model {entry['model']}")
        entry["overrides"] = tuple(sorted(overrides.items()))
        entries.append(entry)
    return entries


def _listed_models(value, where: str) -> list:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, (str, dict)):
            raise ConfigError(f"{where}: models entries are names or mappings, got {item!r}")
    return items


def _check_train_keys(values: dict, where: str) -> None:
    for key in values:
        if key in GRID_KEYS:
            raise ConfigError(f"{where}: {key!r} is set by the grid for every cell; use models / activations / "
                              f"lrs / optimizers / seeds instead")
        if key not in TrainConfig.keys():
            close = difflib.get_close_matches(key, TrainConfig.keys(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown config key {key!r} in {where}{hint}; valid keys: "
                              f"{', '.join(TrainConfig.keys())}")
    build_config(values)  # value types


def parse_spec(raw: dict, where: str = "the experiment") -> ExperimentSpec:
    """Validate a grid mapping and expand it into cells (model-major, then lr, optimizer, activation, seed)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping with keys {', '.join(TOP_KEYS)}")
    _check_keys(raw, TOP_KEYS, where)
    base = dict(raw.get("base") or {})
    _check_train_keys(base, f"{where}, base")
    if not float(base.get("val_size", 0) or 0) > 0:
        raise ConfigError(f"{where}: base.val_size must carve a validation split from train (e.g. 5000): the "
                          f"per-epoch error curves are measured on it, the test split is evaluated once at the end")
    activations = [_check_activation(a) for a in _listed(raw.get("activations"), "activations", where)]
    seeds = _check_numbers(_listed(raw.get("seeds"), "seeds", where), "seeds", int, where)
    default_lrs = _listed(raw.get("lrs"), "lrs", where)
    default_opts = _listed(raw.get("optimizers"), "optimizers", where)
    cells = []
    for entry in _model_entries(raw, where):
        lrs = _check_numbers(_listed(entry.get("lrs", default_lrs), "lrs", where), "lrs", float, where)
        opts = _listed(entry.get("optimizers", default_opts), "optimizers", where) or [base.get("optimizer", "sgd")]
        for opt in opts:
            if opt not in OPTIMIZERS:
                raise ConfigError(f"{where}: unknown optimizer {opt!r} for {entry['model']}; valid: "
                                  f"{', '.join(OPTIMIZERS)}")
        for lr in lrs:
            for opt in opts:
                for act in activations:
                    for seed in seeds:
                        cells.append(Cell(entry["model"], act, opt, lr, seed, entry["overrides"]))
    if not cells:
        empty = [k for k, v in (("models", raw.get("models")), ("activations", activations), ("seeds", seeds))
                 if not v] or ["lrs (no default lrs and a model without its own)"]
        raise ConfigError(f"{where} has zero cells: {', '.join(empty)} is empty; a grid needs at least one model, "
                          f"activation, learning rate and seed")
    ids = [c.cell_id for c in cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{where} lists the same cell twice: {', '.join(duplicates)}")
    return ExperimentSpec(name=str(raw.get("name") or "experiment"), base=base, cells=cells,
                          description=str(raw.get("description") or ""), raw=copy.deepcopy(raw),
                          fused_tact=bool(raw.get("fused_tact", False)))


def find_experiment(name: str | Path) -> Path:
    """A grid file path, or one shipped in ``cnnzoo/recipes/experiments`` (``activations_cifar10``)."""
    return find_recipe(name, "experiments", what="experiment config")


def load_spec(name: str | Path) -> ExperimentSpec:
    path = find_experiment(name)
    return parse_spec(load_yaml(path), str(path))
