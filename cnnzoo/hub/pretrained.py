"""Pretrained weights for ``create_model``: find, verify, describe, load (adapting head and first conv).

``resolve_weights(arch, tag, path)`` returns a :class:`Weights` whose file has passed every check (not a
pickle, complete, the indexed sha256, a header for this architecture); ``load_weights(model, weights)`` loads
it strictly, except that a different class count re-initialises the classifier and a different input channel
count adapts the first conv.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..errors import WeightIntegrityError
from .adapt import adapt_input_conv, classifier_mismatch, drop_classifier, first_conv_key
from .catalog import default_tag, unknown_tag_error
from .files.io import read_metadata, read_verified, tensor_shapes, tensors_from_bytes
from .files.resolve import locate, locate_explicit
from .importers import imagenet
from .importers.convert import check_keys
from .index.store import get_entry
from .repo_config import DATA_KEYS, config_metadata, config_sha256, read_repo_config

logger = logging.getLogger("cnnzoo")


@dataclass
class Weights:
    """A verified weight file and what is known about it (index entry and/or header metadata)."""

    arch: str
    tag: str | None
    path: Path
    source: str
    sha256: str
    num_classes: int
    metadata: dict = field(default_factory=dict)
    entry: dict | None = None
    data: bytes = field(default=b"", repr=False)  # the file's bytes, as hashed: exactly what load_weights loads

    @property
    def name(self) -> str:
        return f"{self.arch}.{self.tag}" if self.tag else self.arch

    def _get(self, key, default=None):
        for record in (self.entry or {}, self.metadata):
            if record.get(key) is not None:
                return record[key]
        return default

    @property
    def labels(self) -> list[str] | None:
        return self._get("labels")

    def data_config(self) -> dict:
        """Preprocessing and labels, as timm's ``pretrained_cfg`` names them (plus the file's identity)."""
        cfg = {k: self._get(k) for k in DATA_KEYS if self._get(k) is not None}
        if "input_size" in cfg:
            cfg["input_size"] = tuple(cfg["input_size"])
        for key in ("mean", "std"):
            if key in cfg:
                cfg[key] = tuple(cfg[key])
        cfg.update(labels=self.labels, file=str(self.path), sha256=self.sha256, source=self.source)
        if self._get("metrics") is not None:
            cfg["metrics"] = self._get("metrics")
        return cfg


@dataclass
class LoadReport:
    """What ``load_weights`` did: keys loaded as stored, adapted, and left at their fresh initialisation."""

    loaded: list[str]
    adapted: list[str]
    dropped: list[str]


def _check_header_arch(path: Path, metadata: dict, arch: str) -> None:
    claimed = metadata.get("arch")
    if claimed is not None and claimed != arch:
        raise WeightIntegrityError(
            f"{path} holds weights for {claimed + ('.' + str(metadata['tag']) if metadata.get('tag') else '')!r}, "
            f"not for {arch!r}; "
            f"use create_model({claimed!r}, pretrained=...) or the right file")


def _num_classes(path: Path, metadata: dict, entry: dict | None) -> int:
    for record in (entry or {}, metadata):
        if isinstance(record.get("num_classes"), int):
            return record["num_classes"]
    shape = tensor_shapes(path).get("head.fc.weight")
    return int(shape[0]) if shape else 0


def _indexed(arch: str, tag: str) -> tuple[dict | None, Path | None, str]:
    """Index entry (or imported ImageNet cache entry) for ``arch.tag``, plus its file when already located."""
    entry = get_entry(f"{arch}.{tag}")
    if entry is not None:
        return entry, None, ""
    if imagenet.is_importable(arch, tag):
        path, entry = imagenet.ensure_imported(arch, tag)
        return entry, path, "cnnzoo cache (imported)"
    raise unknown_tag_error(arch, tag)


def resolve_weights(arch: str, tag: str | None = None, path: str | os.PathLike | None = None) -> Weights:
    """Find and verify the weight ``arch.tag`` (``tag=None``: the default one) or the file/folder ``path``.

    With ``path`` and a ``tag`` that the index knows, the file must have the indexed sha256; in a Hub repo or
    folder, the sha256 that its config.json declares; a loose file must at least not be declared for another
    architecture in its header. The bytes hashed are the bytes kept for loading (``Weights.data``).
    """
    entry, config, expected, what = None, None, None, f"weight {arch}.{tag}"
    if path is not None:
        if tag is not None and get_entry(f"{arch}.{tag}") is not None:
            entry = get_entry(f"{arch}.{tag}")
        located = locate_explicit(path, filename=(entry or {}).get("file"))
        file, source = located.path, located.source
        config = read_repo_config(path) if entry is None else None
        if config is not None:  # a Hub repo or folder: its config.json declares the file's sha256
            expected, what = config_sha256(config), f"weight {path}"
    else:
        tag = tag or default_tag(arch)
        if tag is None:
            raise unknown_tag_error(arch, None)
        entry, file, source = _indexed(arch, tag)
        if file is None:
            located = locate(entry, what=f"{arch}.{tag}")
            file, source = located.path, located.source

    metadata = read_metadata(file)  # also refuses pickles and truncated files
    if config is not None:  # the header wins; the config fills what a bare file does not say
        metadata = {**config_metadata(config), **metadata}
    _check_header_arch(file, metadata, arch)
    data, digest = read_verified(file, entry["sha256"] if entry is not None else expected, what=what)
    if entry is None:
        tag = tag or metadata.get("tag")
    return Weights(arch=arch, tag=tag, path=Path(file), source=source, sha256=digest,
                   num_classes=_num_classes(file, metadata, entry), metadata=metadata, entry=entry, data=data)


def load_weights(model: nn.Module, weights: Weights | str | os.PathLike) -> LoadReport:
    """Load verified ``weights`` into ``model``.

    A classifier of another size is dropped (the model keeps its fresh one; one log line says so); a first
    conv trained on other input channels is adapted (summed for 1, repeated and scaled for more). Anything
    else that does not fit is an error listing the missing, unexpected and wrongly shaped keys.
    """
    if not isinstance(weights, Weights):
        arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
        weights = resolve_weights(arch, path=weights) if arch else _loose(weights)
    state = tensors_from_bytes(weights.data or read_verified(weights.path, weights.sha256)[0], weights.path)
    model_state = model.state_dict()
    dropped: list[str] = []
    adapted: list[str] = []
    if classifier_mismatch(state, model_state):
        dropped = drop_classifier(state)
        logger.info("cnnzoo: %s: classifier head.fc not loaded (weight has %d classes, model %d); it is newly "
                    "initialised", weights.name, weights.num_classes, getattr(model, "num_classes", -1))
    conv_key = first_conv_key(model)
    if conv_key in state and conv_key in model_state:
        want, have = model_state[conv_key].shape[1], state[conv_key].shape[1]
        if want != have:
            state[conv_key] = adapt_input_conv(state[conv_key], want)
            adapted.append(conv_key)
            logger.info("cnnzoo: %s: first conv %s adapted from %d to %d input channels", weights.name,
                        conv_key, have, want)
    expected = {k: v for k, v in model_state.items() if k not in dropped}
    check_keys(state, expected, f"{weights.path.name} -> cnnzoo {weights.arch}")
    model.load_state_dict(state, strict=not dropped)
    return LoadReport(loaded=sorted(k for k in state if k not in adapted), adapted=adapted, dropped=dropped)


def _loose(path: str | os.PathLike) -> Weights:
    located = locate_explicit(path)
    metadata = read_metadata(located.path)
    data, digest = read_verified(located.path, None)
    return Weights(arch=str(metadata.get("arch", "")), tag=metadata.get("tag"), path=located.path,
                   source=located.source, sha256=digest,
                   num_classes=_num_classes(located.path, metadata, None), metadata=metadata, data=data)
