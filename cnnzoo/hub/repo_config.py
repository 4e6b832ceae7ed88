"""The ``config.json`` of a Hub repo or folder in timm's layout (what ``cnnzoo dev publish`` and
``push_to_hub`` write): which architecture it holds, its data config and labels, and the sha256 of its
``model.safetensors``. It lets ``create_model("hf-hub:ORG/NAME", pretrained=True)`` load any such repo."""
from __future__ import annotations

import json
import os

from ..errors import InvalidArgumentError, WeightsNotFoundError
from .files.resolve import HF_PREFIX, LOCAL_PREFIX, locate_config

DATA_KEYS = ("input_size", "mean", "std", "interpolation", "crop_pct")  # timm's data config


def is_repo_name(name: str) -> bool:
    """timm's model sources: ``hf-hub:ORG/NAME[@REVISION]`` or ``local-dir:FOLDER``."""
    return isinstance(name, str) and name.startswith((HF_PREFIX, LOCAL_PREFIX))


def read_repo_config(source: str | os.PathLike) -> dict | None:
    """The parsed config.json beside ``source`` when it is a Hub config (architecture + pretrained_cfg)."""
    path = locate_config(source)
    if path is None:
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidArgumentError(f"{path} is not valid JSON: {exc}") from None
    if not (isinstance(config, dict) and config.get("architecture") and isinstance(config.get("pretrained_cfg"),
                                                                                    dict)):
        return None
    return config


def repo_architecture(name: str) -> str:
    """The architecture that the repo or folder ``name`` (``hf-hub:...`` / ``local-dir:...``) holds."""
    config = read_repo_config(name)
    if config is None:
        raise WeightsNotFoundError(f"{name} has no config.json naming its architecture (the Hub layout that "
                                   f"`cnnzoo dev publish` and cnnzoo.push_to_hub write); load its weight with "
                                   f"create_model(ARCH, pretrained={name!r}) instead")
    return str(config["architecture"])


def config_metadata(config: dict) -> dict:
    """What the config says about the weight, in the names of a safetensors header (arch, labels, ...)."""
    cfg = config["pretrained_cfg"]
    meta = {k: cfg[k] for k in DATA_KEYS if cfg.get(k) is not None}
    meta.update(arch=config["architecture"], tag=cfg.get("tag"), num_classes=config.get("num_classes"),
                labels=config.get("label_names") or None, license=cfg.get("license"))
    return {k: v for k, v in meta.items() if v is not None}


def config_sha256(config: dict) -> str | None:
    """The sha256 of model.safetensors that the config declares (cnnzoo writes it under ``cnnzoo.sha256``)."""
    return (config.get("cnnzoo") or {}).get("sha256")
