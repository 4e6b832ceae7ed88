"""Pretrained weights for ``create_model``: find, verify, describe, load (adapting head and first conv).

``resolve_weights(arch, tag, path)`` reads the weight file once and keeps those bytes: the sha256 is of them
(the index's, a Hub config's, or, for a file given by path whose header or name claims an indexed weight, that
weight's), the header and the tensors are parsed from them. ``load_weights(model, weights)`` then checks every
tensor (dtype, finiteness, shape, missing / unexpected keys) before loading; only an explicit
``reset_classifier=True`` (``create_model(..., num_classes=N)``) lets a classifier of another size be replaced,
and only ``strict=False`` lets keys be missing or unexpected.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..errors import WeightIntegrityError
from .adapt import (CLASSIFIER_PREFIX, adapt_input_conv, classifier_mismatch, drop_classifier, first_conv_key,
                    has_classifier)
from .catalog import default_tag, unknown_tag_error
from .files.resolve import locate, locate_explicit
from .files.tensor_checks import check_tensors
from .files.weight_file import WeightFile, read_weight_file
from .importers import imagenet
from .importers.convert import check_keys
from .index.store import get_entry, indexed_names
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
    """What ``load_weights`` did: keys loaded as stored, adapted, left at their fresh initialisation, and (only
    with ``strict=False``) the model's keys the file lacked and the file's keys the model lacks."""

    loaded: list[str]
    adapted: list[str]
    dropped: list[str]
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def _check_header_arch(path: Path, metadata: dict, arch: str) -> None:
    claimed = metadata.get("arch")
    if claimed is not None and claimed != arch:
        raise WeightIntegrityError(
            f"{path} holds weights for {str(claimed) + ('.' + str(metadata['tag']) if metadata.get('tag') else '')!r}, "
            f"not for {arch!r}; "
            f"use create_model({claimed!r}, pretrained=...) or the right file")


def _head_rows(wf: WeightFile) -> int | None:
    shape = wf.shapes.get(CLASSIFIER_PREFIX + "weight")
    return int(shape[0]) if shape else None


def _check_classes(wf: WeightFile, metadata: dict, entry: dict | None) -> None:
    """The class count that the index entry and the header declare is the one the file's classifier has (else a
    silently dropped head, or labels that do not belong to the outputs)."""
    rows = _head_rows(wf)
    for what, record in (("its index entry", entry or {}), ("its header", metadata)):
        n, labels = record.get("num_classes"), record.get("labels")
        if isinstance(n, int) and rows is not None and n != rows:
            raise WeightIntegrityError(f"{wf.path}: {what} says num_classes={n} but the file's classifier "
                                       f"{CLASSIFIER_PREFIX}weight has {rows} rows; the file and its description "
                                       f"do not belong together")
        if isinstance(n, int) and isinstance(labels, list) and len(labels) != n:
            raise WeightIntegrityError(f"{wf.path}: {what} has {len(labels)} labels for num_classes={n}")


def _num_classes(wf: WeightFile, metadata: dict, entry: dict | None) -> int:
    for record in (entry or {}, metadata):
        if isinstance(record.get("num_classes"), int):
            return record["num_classes"]
    return _head_rows(wf) or 0


def _indexed(arch: str, tag: str) -> tuple[dict | None, Path | None, str]:
    """Index entry (or imported ImageNet cache entry) for ``arch.tag``, plus its file when already located."""
    entry = get_entry(f"{arch}.{tag}")
    if entry is not None:
        return entry, None, ""
    if imagenet.is_importable(arch, tag):
        path, entry = imagenet.ensure_imported(arch, tag)
        return entry, path, "cnnzoo cache (imported)"
    raise unknown_tag_error(arch, tag)


def _claimed_entry(arch: str, wf: WeightFile, metadata: dict) -> dict | None:
    """The index entry that a file given by path claims to be: one its header's ``arch.tag`` or its file name
    names, when the file also has that entry's size. Any accidental damage (flipped bytes) keeps the size and
    so is compared with the index; a cut or extended file never gets this far (the header's length check); a
    file of another size is another file (say, one's own training run under the same tag) and only has the
    checks every loose file has."""
    tag = metadata.get("tag")
    candidates = [get_entry(f"{arch}.{tag}")] if isinstance(tag, str) and tag else []
    candidates += [get_entry(n) for n in indexed_names()]
    for entry in candidates:
        if entry is None or entry.get("architecture") != arch:
            continue
        named = entry.get("tag") == tag or entry.get("file") == wf.path.name
        if named and entry.get("size") in (None, len(wf.data)):
            return entry
    return None


def _check_claim(wf: WeightFile, entry: dict) -> None:
    if wf.sha256 == str(entry.get("sha256", "")).lower():
        return
    name = f"{entry['architecture']}.{entry['tag']}"
    raise WeightIntegrityError(
        f"{wf.path} claims to be the published weight {name} (by its header or file name) but its bytes differ: "
        f"sha256 mismatch\n  expected {entry.get('sha256')}\n  actual   {wf.sha256}\n"
        f"A damaged copy: fetch it again (create_model({name!r}, pretrained=True)). Your own training run: save it "
        f"under another tag, or vouch for these exact bytes with "
        f"pretrained_cfg_overlay={{'file': ..., 'sha256': '{wf.sha256}'}}.")


def resolve_weights(arch: str, tag: str | None = None, path: str | os.PathLike | None = None,
                    sha256: str | None = None) -> Weights:
    """Find and verify the weight ``arch.tag`` (``tag=None``: the default one) or the file/folder ``path``.

    The file is read once (:func:`read_weight_file`); its sha256 must be: ``sha256`` when given; the indexed one
    for ``arch.tag``; in a Hub repo or folder, the one its config.json declares; for a loose file whose header
    (or file name) claims an indexed weight and which has its size, that weight's. A header for another architecture, or a class count
    that the file's classifier does not have, is refused. The bytes hashed are kept for loading (``data``).
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

    wf = read_weight_file(file)  # the only read: pickles, truncation and a malformed header refused here
    metadata = wf.metadata
    if config is not None:  # the header wins; the config fills what a bare file does not say
        metadata = {**config_metadata(config), **metadata}
    _check_header_arch(wf.path, metadata, arch)
    wf.check_sha256(sha256, what="weight file (sha256 given by the caller)")
    wf.check_sha256(entry["sha256"] if entry is not None else expected, what=what)
    if entry is None and expected is None and sha256 is None:
        entry = _claimed_entry(arch, wf, metadata)
        if entry is not None:
            _check_claim(wf, entry)
    _check_classes(wf, metadata, entry)
    if tag is None:
        tag = (entry or {}).get("tag") or metadata.get("tag")
    return Weights(arch=arch, tag=tag, path=wf.path, source=source, sha256=wf.sha256,
                   num_classes=_num_classes(wf, metadata, entry), metadata=metadata, entry=entry, data=wf.data)


def load_weights(model: nn.Module, weights: Weights | str | os.PathLike, *, strict: bool = True,
                 reset_classifier: bool = False) -> LoadReport:
    """Load verified ``weights`` into ``model``, after checking every tensor.

    Refused (:class:`WeightIntegrityError`, naming the file): a tensor whose dtype is not the model's kind
    (an int or bool where the model has floats), NaN or Inf values, a wrong shape, and, unless ``strict=False``,
    missing or unexpected keys. A classifier of another size is replaced by the model's fresh one only when the
    caller asks for it (``reset_classifier=True``, which ``create_model(..., num_classes=N)`` passes) or when the
    model has no classifier (``num_classes=0``). A first conv trained on other input channels is adapted
    (summed for 1, repeated and scaled for more).
    """
    if not isinstance(weights, Weights):
        arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
        weights = resolve_weights(arch, path=weights) if arch else _loose(weights)
    if weights.data:
        state = WeightFile(weights.path, weights.data, weights.sha256, {}).tensors()
    else:  # a Weights built by hand: read it once now, with its sha256
        wf = read_weight_file(weights.path)
        wf.check_sha256(weights.sha256)
        state = wf.tensors()
    model_state = model.state_dict()
    check_tensors(state, model_state, weights.path)
    dropped: list[str] = []
    adapted: list[str] = []
    if classifier_mismatch(state, model_state):
        if not (reset_classifier or not has_classifier(model_state)):
            raise WeightIntegrityError(
                f"{weights.path}: its classifier {CLASSIFIER_PREFIX}weight has "
                f"{tuple(state[CLASSIFIER_PREFIX + 'weight'].shape) if CLASSIFIER_PREFIX + 'weight' in state else '?'}"
                f", the model's {tuple(model_state[CLASSIFIER_PREFIX + 'weight'].shape)}; to train a new classifier "
                f"on top of this weight ask for it: create_model(..., num_classes={getattr(model, 'num_classes', 'N')})"
                f" or load_weights(..., reset_classifier=True)")
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
    what = f"{weights.path} -> cnnzoo {weights.arch or type(model).__name__}"
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if strict:
        check_keys(state, expected, what)
    else:  # an explicit choice: keys may be absent on either side, but a shape never differs
        check_keys({k: state[k] for k in state if k in expected}, {k: expected[k] for k in expected if k in state},
                   what)
        for k in unexpected:
            del state[k]
        if missing or unexpected:
            logger.warning("cnnzoo: %s: strict=False: %d model keys not in the file (left as initialised), %d file "
                           "keys not in the model (ignored)", weights.name, len(missing), len(unexpected))
    model.load_state_dict(state, strict=False)  # every key was checked above
    return LoadReport(loaded=sorted(k for k in state if k not in adapted), adapted=adapted, dropped=dropped,
                      missing=missing if not strict else [], unexpected=unexpected if not strict else [])


def _loose(path: str | os.PathLike) -> Weights:
    """A file for a model that does not say its architecture: only the file's own header describes it."""
    located = locate_explicit(path)
    wf = read_weight_file(located.path)
    metadata = wf.metadata
    _check_classes(wf, metadata, None)
    return Weights(arch=str(metadata.get("arch", "")), tag=metadata.get("tag"), path=wf.path,
                   source=located.source, sha256=wf.sha256, num_classes=_num_classes(wf, metadata, None),
                   metadata=metadata, data=wf.data)
