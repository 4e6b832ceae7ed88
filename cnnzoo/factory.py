"""create_model / list_models / model_info: the front door of the library, and the only module that knows
both the architectures (registry, models) and the weights (hub)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from . import registry
from .hub.catalog import list_weight_names, unknown_tag_error, weights_for_arch
from .hub.importers.imagenet import cached_paths, describe_source, get_source, is_importable, read_sidecar
from .hub.index.store import get_entry
from .errors import InvalidArgumentError
from .hub.pretrained import Weights, load_weights, resolve_weights
from .hub.repo_config import is_repo_name, repo_architecture
from .layers.activations import get_act
from .layers.global_pool import check_pool_type
from .models._kwargs import builder_keywords, unexpected_keyword
from .models._measure import build_on_meta, count_macs, count_params
from .models._skeleton import FeatureExtractor, check_in_chans, check_num_classes
from .registry import ModelSpec, get_model_spec, split_model_name_tag

__all__ = ["create_model", "list_models", "list_pretrained", "model_info", "build_on_meta", "count_macs",
           "count_params"]


CREATE_MODEL_KEYWORDS = ("pretrained", "num_classes", "in_chans", "drop_rate", "drop_path_rate", "act_layer",
                         "global_pool", "features_only", "out_indices", "channels_last", "pretrained_cfg_overlay",
                         "checkpoint_path")


def _is_path_like(value: Any) -> bool:
    if isinstance(value, os.PathLike):
        return True
    text = str(value)
    return os.sep in text or "/" in text or text.endswith(".safetensors") or Path(text).exists()


def create_model(
    name: str,
    pretrained: bool | str | os.PathLike = False,
    num_classes: int | None = None,
    in_chans: int = 3,
    drop_rate: float | None = None,
    drop_path_rate: float = 0.0,
    act_layer: Any = None,
    global_pool: str | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    channels_last: bool = True,
    pretrained_cfg_overlay: dict | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    **kwargs,
) -> nn.Module:
    """Build a registered architecture, optionally with weights.

    ``name`` is an architecture (``"resnet20"``) or a weight (``"resnet20.cifar10"``). ``pretrained`` is
    ``False``, ``True`` (the tag in ``name`` or the architecture's default weight), a tag (``"cifar10"``), or a
    path to a ``.safetensors`` file or a directory holding one. Without an explicit ``num_classes`` a
    pretrained model keeps the classifier of its weight; with another ``num_classes`` the classifier is
    re-initialised and everything else is loaded.

    As in timm: ``global_pool`` ('avg', 'max', 'avgmax', 'catavgmax', '' with ``num_classes=0``);
    ``pretrained_cfg_overlay`` is merged into the model's ``pretrained_cfg`` (its ``file`` key loads the weight
    from that path); ``checkpoint_path`` loads a safetensors file of this exact model (your own fine-tuned one)
    after everything else, its class count the default ``num_classes``; ``features_only`` returns the maps of
    ``feature_info[i]`` for ``i`` in ``out_indices``. Other keyword arguments go to the architecture's builder;
    one it does not take raises :class:`InvalidArgumentError` listing those it does.

    Convolution weights are stored channels_last unless ``channels_last=False``: oneDNN (CPU) and cuDNN with
    AMP run convnets fastest in that layout, and the model returns the same logits for ordinary NCHW input
    (fp32 CPU inference 1.09-1.37x faster than the same network from timm / torchvision, docs/benchmarks.md).
    """
    if is_repo_name(name):  # timm's "hf-hub:ORG/NAME[@REV]" / "local-dir:DIR": its config.json names the architecture
        name, pretrained = repo_architecture(name), (name if pretrained is True else pretrained)
    spec = get_model_spec(name)
    overlay = dict(pretrained_cfg_overlay or {})
    weights = _resolve_pretrained(spec.name, split_model_name_tag(name)[1], pretrained, overlay.get("file"),
                                  overlay.get("sha256"))
    checkpoint = resolve_weights(spec.name, path=checkpoint_path) if checkpoint_path is not None else None

    if num_classes is None:  # the weight's own class count: its classifier loads as trained
        source = checkpoint or weights
        num_classes = source.num_classes if source is not None else spec.num_classes
    check_num_classes(num_classes)
    check_in_chans(in_chans)
    if act_layer is not None:
        get_act(act_layer)  # fail early with the list of valid names
        kwargs["act_layer"] = act_layer
    if drop_rate is not None:  # None keeps the architecture's own default (EfficientNet's paper rates)
        kwargs["drop_rate"] = drop_rate
    if global_pool is not None:
        check_pool_type(global_pool)
    model = _build(spec, num_classes=num_classes, in_chans=in_chans, drop_path_rate=drop_path_rate, **kwargs)
    if global_pool is not None:
        model.set_global_pool(global_pool)
    cfg = model_cfg(model, spec)
    cfg.update(num_classes=num_classes, tag=split_model_name_tag(name)[1])
    for loaded in (weights, checkpoint):
        if loaded is not None:
            # another class count is the user's explicit choice (num_classes=, or a checkpoint's): only then may
            # the weight's classifier be replaced
            load_weights(model, loaded, reset_classifier=num_classes != loaded.num_classes)
            cfg.update(weight_cfg(loaded))
            if num_classes != loaded.num_classes:  # a new classifier: the weight's labels no longer apply
                for key in ("labels", "label_names"):
                    cfg.pop(key, None)
            cfg.update(num_classes=num_classes, tag=loaded.tag)
    cfg.update(overlay)
    cfg["pool_size"] = _pool_size(model, cfg["input_size"])  # of the weight's input size, not the default one
    model.pretrained_cfg = cfg
    if channels_last:
        _conv_weights_channels_last(model)
    if features_only:
        model = FeatureExtractor(model, out_indices)
    return model


def _resolve_pretrained(arch: str, tag: str | None, pretrained, overlay_file, overlay_sha256=None) -> Weights | None:
    """The weight ``pretrained`` asks for (``pretrained_cfg_overlay={"file": ..., "sha256": ...}`` names its file
    and, optionally, the exact bytes it must have)."""
    if pretrained is False or pretrained is None:
        return None
    path = Path(overlay_file) if overlay_file else None
    if isinstance(pretrained, (str, os.PathLike)) and not isinstance(pretrained, bool):
        if _is_path_like(pretrained):
            path = Path(pretrained)
        else:
            tag = str(pretrained)
    return resolve_weights(arch, tag=tag, path=path, sha256=overlay_sha256)


def _build(spec: ModelSpec, **kwargs) -> nn.Module:
    """``spec.fn(**kwargs)``; a keyword it does not take is an error that lists the ones it does."""
    try:
        return spec.fn(**kwargs)
    except TypeError as exc:
        unknown = unexpected_keyword(exc)
        if unknown is None:
            raise
        accepted = builder_keywords(spec.fn, exc, num_classes=spec.num_classes)
        own = [k for k in accepted if k not in CREATE_MODEL_KEYWORDS]
        raise InvalidArgumentError(
            f"create_model({spec.name!r}) got an unknown keyword argument {unknown!r}; it takes "
            f"{', '.join(CREATE_MODEL_KEYWORDS)} and, for {spec.name}, {', '.join(own) or 'nothing else'}"
        ) from None


def model_cfg(model: nn.Module, spec: ModelSpec) -> dict:
    """timm's ``pretrained_cfg`` fields that the architecture itself determines."""
    cfg = spec.default_cfg()
    first_conv = next((n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), "")
    cfg.update(first_conv=first_conv, classifier="head.fc", pool_size=_pool_size(model, spec.input_size))
    return cfg


def _pool_size(model: nn.Module, input_size: Sequence[int]) -> tuple[int, ...]:
    """The final feature map's size at ``input_size`` (timm's ``pool_size``)."""
    reduction = model.feature_info[-1]["reduction"]
    return tuple(max(1, s // reduction) for s in input_size[1:])


def weight_cfg(weights: Weights) -> dict:
    """What a loaded weight adds to ``pretrained_cfg``: preprocessing, labels (and display names), identity,
    licence and Hub repo (timm's ``label_names``, ``license``, ``hf_hub_id``)."""
    cfg = weights.data_config()
    entry = weights.entry or {}
    extra = dict(label_names=entry.get("label_names"), license=entry.get("license"),
                 hf_hub_id=entry.get("hf_repo_id"))
    cfg.update({k: v for k, v in extra.items() if v is not None})
    return cfg


def _conv_weights_channels_last(model: nn.Module) -> None:
    # Module.to(memory_format=...) would also touch lazy (per-channel TAct) parameters, which cannot be moved yet.
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last)


def list_pretrained(pattern: str | Iterable[str] = "*", exclude: str | Iterable[str] = (),
                    importable: bool = True) -> list[str]:
    """Every loadable ``arch.tag`` matching ``pattern`` (timm's ``list_pretrained``). ``importable=False``
    keeps only the weights cnnzoo publishes (weights/index.json), not the torchvision / timm ImageNet weights
    that are converted on first use."""
    names = list_weight_names(include_importable=importable)
    archs = set(registry.list_models())
    names = registry.match_names([n for n in names if split_model_name_tag(n)[0] in archs], pattern)
    dropped = set(registry.match_names(names, exclude)) if exclude else set()
    return [n for n in names if n not in dropped]


def list_models(pattern: str | Iterable[str] = "*", pretrained: bool = False, family: str | None = None,
                size: str | None = None) -> list[str]:
    """Registered architectures matching fnmatch ``pattern``; with ``pretrained=True`` the ``arch.tag`` weights
    (indexed and importable) of registered architectures."""
    if not pretrained:
        return registry.list_models(pattern, family=family, size=size)
    archs = set(registry.list_models(family=family, size=size))
    return [n for n in list_pretrained(pattern) if split_model_name_tag(n)[0] in archs]


def model_info(name: str, macs: bool = True) -> dict:
    """Family, parameter count, default input size, published reference figures and available weights; for an
    ``arch.tag`` name also ``weight``: everything known about that weight (an unknown tag raises
    :class:`UnknownTagError` listing the available ones)."""
    spec = get_model_spec(name)
    tag = split_model_name_tag(name)[1]
    weight = weight_details(spec.name, tag) if tag is not None else None
    model = build_on_meta(spec.name)
    info = dict(
        name=spec.name,
        family=spec.family,
        size=spec.size,
        description=spec.description,
        params=count_params(model),
        input_size=spec.input_size,
        num_classes=spec.num_classes,
        mean=spec.mean,
        std=spec.std,
        reference=dict(spec.reference),
    )
    if macs:
        info["gmacs"] = round(count_macs(model, spec.input_size) / 1e9, 3)
    info["weights"] = weights_for_arch(spec.name)
    info["weight_details"] = [_weight_summary(n) for n in info["weights"]]
    if weight is not None:
        info["weight"] = weight
    return info


# index fields that describe one weight to a user (cnnzoo info ARCH.TAG)
_WEIGHT_FIELDS = ("dataset", "metrics", "file", "sha256", "size", "num_classes", "label_names", "labels",
                  "input_size", "mean", "std", "interpolation", "crop_pct", "recipe", "command", "epochs",
                  "hardware", "wall_time_s", "date", "license", "hf_repo_id", "notes")


def weight_details(arch: str, tag: str) -> dict:
    """The full record of ``arch.tag``: the index entry's user-facing fields, or for a torchvision / timm
    ImageNet weight the import source (and the sha256 / size once ``cnnzoo import`` has converted it)."""
    name = f"{arch}.{tag}"
    entry = get_entry(name)
    if entry is not None:
        details = {k: entry[k] for k in _WEIGHT_FIELDS if entry.get(k) is not None}
        return dict(name=name, shipped=True, source="cnnzoo (weights/index.json)", **details)
    if not is_importable(arch, tag):
        raise unknown_tag_error(arch, tag)
    details = _weight_summary(name)
    details.update(name=name, shipped=False, import_command=f"cnnzoo import {name}")
    _, record = cached_paths(arch, tag)
    cached = read_sidecar(arch, tag, record)[0] if record.is_file() else None
    if cached is not None:  # converted before: the cache's own record has the file's identity
        details.update({k: cached[k] for k in ("sha256", "size", "license") if cached.get(k) is not None},
                       file=str(record.with_suffix(".safetensors")))
    return details


def _weight_summary(name: str) -> dict:
    """The figures of one weight as the index (or the ImageNet import table) states them."""
    entry = get_entry(name)
    if entry is None:  # an importable torchvision / timm ImageNet weight
        src = get_source(*name.split(".", 1))
        try:  # torchvision states its accuracy in the weights' meta
            metrics = describe_source(src)["metrics"]
        except ImportError:
            metrics = dict(top1=src.top1, top5=src.top5, split="val", n=50_000)
        return dict(name=name, source=f"{src.library} {src.weight} (cnnzoo import)", dataset="ImageNet-1k",
                    top1=metrics.get("top1"), top5=metrics.get("top5"), split=metrics.get("split"),
                    n=metrics.get("n"), num_classes=1000)
    metrics, dataset = entry.get("metrics") or {}, entry.get("dataset") or {}
    return dict(name=name, source="index", dataset=dataset.get("name"), top1=metrics.get("top1"),
                top5=metrics.get("top5"), split=metrics.get("split"), n=metrics.get("n"),
                num_classes=entry.get("num_classes"), size=entry.get("size"), hf_repo_id=entry.get("hf_repo_id"))
