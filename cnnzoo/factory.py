"""create_model / list_models / model_info: the front door of the library, and the only module that knows
both the architectures (registry, models) and the weights (hub)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from . import registry
from .hub.catalog import list_weight_names, weights_for_arch
from .hub.importers.imagenet import describe_source, get_source
from .hub.index.store import get_entry
from .hub.pretrained import load_weights, resolve_weights
from .layers.activations import get_act
from .models._measure import build_on_meta, count_macs, count_params
from .models._skeleton import FeatureExtractor, check_in_chans, check_num_classes
from .registry import get_model_spec, split_model_name_tag

__all__ = ["create_model", "list_models", "model_info", "build_on_meta", "count_macs", "count_params"]


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
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    channels_last: bool = True,
    **kwargs,
) -> nn.Module:
    """Build a registered architecture, optionally with weights.

    ``name`` is an architecture (``"resnet20"``) or a weight (``"resnet20.cifar10"``). ``pretrained`` is
    ``False``, ``True`` (the tag in ``name`` or the architecture's default weight), a tag (``"cifar10"``), or a
    path to a ``.safetensors`` file or a directory holding one. Without an explicit ``num_classes`` a
    pretrained model keeps the classifier of its weight; with another ``num_classes`` the classifier is
    re-initialised and everything else is loaded.

    Convolution weights are stored channels_last unless ``channels_last=False``: oneDNN (CPU) and cuDNN with
    AMP run convnets fastest in that layout, and the model returns the same logits for ordinary NCHW input
    (fp32 CPU inference 1.09-1.37x faster than the same network from timm / torchvision, docs/benchmarks.md).
    """
    spec = get_model_spec(name)
    _, tag = split_model_name_tag(name)
    weights = None
    if pretrained is not False and pretrained is not None:
        path = None
        if isinstance(pretrained, (str, os.PathLike)) and not isinstance(pretrained, bool):
            if _is_path_like(pretrained):
                path = Path(pretrained)
            else:
                tag = str(pretrained)
        weights = resolve_weights(spec.name, tag=tag, path=path)

    if num_classes is None:
        num_classes = weights.num_classes if weights is not None else spec.num_classes
    check_num_classes(num_classes)
    check_in_chans(in_chans)
    if act_layer is not None:
        get_act(act_layer)  # fail early with the list of valid names
        kwargs["act_layer"] = act_layer
    if drop_rate is not None:  # None keeps the architecture's own default (EfficientNet's paper rates)
        kwargs["drop_rate"] = drop_rate
    model = spec.fn(num_classes=num_classes, in_chans=in_chans, drop_path_rate=drop_path_rate, **kwargs)
    cfg = spec.default_cfg()
    cfg.update(num_classes=num_classes, tag=tag)
    if weights is not None:
        load_weights(model, weights)
        cfg.update(weights.data_config())
        if num_classes != weights.num_classes:  # a new classifier: the weight's labels no longer apply
            cfg.pop("labels", None)
        cfg.update(num_classes=num_classes, tag=weights.tag)
    model.pretrained_cfg = cfg
    if channels_last:
        _conv_weights_channels_last(model)
    if features_only:
        model = FeatureExtractor(model, out_indices)
    return model


def _conv_weights_channels_last(model: nn.Module) -> None:
    # Module.to(memory_format=...) would also touch lazy (per-channel TAct) parameters, which cannot be moved yet.
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last)


def list_models(pattern: str | Iterable[str] = "*", pretrained: bool = False, family: str | None = None,
                size: str | None = None) -> list[str]:
    """Registered architectures matching fnmatch ``pattern``; with ``pretrained=True`` the ``arch.tag`` weights
    (indexed and importable) of registered architectures."""
    if not pretrained:
        return registry.list_models(pattern, family=family, size=size)
    archs = set(registry.list_models(family=family, size=size))
    return registry.match_names([n for n in list_weight_names() if split_model_name_tag(n)[0] in archs], pattern)


def model_info(name: str, macs: bool = True) -> dict:
    """Family, parameter count, default input size, published reference figures and available weights."""
    spec = get_model_spec(name)
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
    return info


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
