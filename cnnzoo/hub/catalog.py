"""Every weight ``create_model(..., pretrained=True)`` can load: the index's, plus the torchvision / timm
ImageNet weights that the importers convert on first use. The one place that knows both lists."""
from __future__ import annotations

from ..errors import UnknownTagError
from .importers.imagenet import importable_names
from .index.store import index_path, indexed_names, indexed_tags


def list_weight_names(include_importable: bool = True) -> list[str]:
    """Every ``arch.tag`` that ``create_model(..., pretrained=True)`` can load: the index, plus (by default)
    the torchvision / timm ImageNet weights that ``cnnzoo import`` converts."""
    names = set(indexed_names())
    if include_importable:
        names.update(importable_names())
    return sorted(names)


def weights_for_arch(arch: str, include_importable: bool = True) -> list[str]:
    """Weight names of ``arch``: indexed ones first (the default first), then importable ImageNet ones."""
    names = [f"{arch}.{t}" for t in indexed_tags(arch)]
    if include_importable:
        names += [n for n in importable_names(arch) if n not in names]
    return names


def default_tag(arch: str) -> str | None:
    tags = [n.split(".", 1)[1] for n in weights_for_arch(arch)]
    return tags[0] if tags else None


def unknown_tag_error(arch: str, tag: str | None) -> UnknownTagError:
    available = weights_for_arch(arch)
    if tag is None:
        return UnknownTagError(f"no pretrained weights are published for {arch!r}; weights exist for: "
                               f"{', '.join(sorted({n.split('.')[0] for n in list_weight_names()})) or 'none'}")
    listed = ", ".join(n.split(".", 1)[1] for n in available) if available else "none"
    return UnknownTagError(f"unknown weight tag {tag!r} for {arch!r}; available tags: {listed} "
                           f"(index: {index_path()})")
