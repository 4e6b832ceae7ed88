"""Model registry: architecture name -> builder function + default configuration.

Architectures are registered with ``@register_model(...)`` in the family modules (``cnnzoo.models``, which the
package imports). Names are lower snake case; ``arch.tag`` is reserved for weights (``resnet20.cifar10``), so an
architecture name never contains a dot. The registry knows architectures only; weights are the hub's.
"""
from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .errors import UnknownModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

SIZES = {
    "imagenet": dict(input_size=(3, 224, 224), num_classes=1000, mean=IMAGENET_MEAN, std=IMAGENET_STD, crop_pct=0.875),
    "cifar": dict(input_size=(3, 32, 32), num_classes=10, mean=CIFAR10_MEAN, std=CIFAR10_STD, crop_pct=1.0),
}


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one architecture before it is built."""

    name: str
    fn: Callable
    family: str
    size: str  # "imagenet" (224 px class of model) or "cifar" (32 px, 3x3 stem)
    input_size: tuple[int, int, int]
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_pct: float
    interpolation: str = "bicubic"
    # Published figures to check against: {"params_m": 25.56, "source": "He et al. 2016", ...}
    reference: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        doc = (self.fn.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def default_cfg(self) -> dict:
        return dict(
            architecture=self.name,
            input_size=self.input_size,
            num_classes=self.num_classes,
            mean=self.mean,
            std=self.std,
            crop_pct=self.crop_pct,
            crop_mode="center",
            interpolation=self.interpolation,
            fixed_input_size=False,  # every model pools globally: any size above its total stride works
        )


def reference(params_m: float | None = None, source: str = "", **extra) -> dict:
    """A model's published figures (``params_m`` in millions at the published precision, ``top1_*``, ...)."""
    figures = dict(source=source, **extra)
    if params_m is not None:
        figures["params_m"] = params_m
    return figures


_MODELS: dict[str, ModelSpec] = {}


def register_model(fn: Callable | None = None, *, family: str | None = None, size: str = "imagenet",
                   input_size: int | tuple[int, int, int] | None = None, reference: dict | None = None,
                   interpolation: str = "bicubic"):
    """Register a builder. Usable bare (``@register_model``) or with defaults (``@register_model(size="cifar")``)."""

    def wrap(builder: Callable) -> Callable:
        name = builder.__name__
        if "." in name or name != name.lower():
            raise ValueError(f"architecture names are lower snake case without dots, got {name!r}")
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        defaults = dict(SIZES[size])
        if input_size is not None:
            defaults["input_size"] = (3, input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        module_family = builder.__module__.rsplit(".", 1)[-1]
        _MODELS[name] = ModelSpec(name=name, fn=builder, family=family or module_family, size=size,
                                  reference=dict(reference or {}), interpolation=interpolation, **defaults)
        return builder

    return wrap(fn) if fn is not None else wrap


def split_model_name_tag(name: str) -> tuple[str, str | None]:
    arch, _, tag = name.partition(".")
    return arch, (tag or None)


def get_model_spec(name: str) -> ModelSpec:
    arch, _ = split_model_name_tag(name)
    spec = _MODELS.get(arch)
    if spec is None:
        close = difflib.get_close_matches(arch, list(_MODELS), n=5, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise UnknownModelError(
            f"unknown model {arch!r}{hint}. cnnzoo.list_models() lists all {len(_MODELS)} architectures"
        )
    return spec


def is_model(name: str) -> bool:
    """Whether ``name`` (``arch`` or ``arch.tag``) names a registered architecture (timm's ``is_model``)."""
    return split_model_name_tag(name)[0] in _MODELS


def model_entrypoint(name: str) -> Callable:
    """The registered builder of ``name`` (timm's ``model_entrypoint``); an unknown name raises
    :class:`UnknownModelError` with the closest names."""
    return get_model_spec(name).fn


def match_names(names: Iterable[str], pattern: str | Iterable[str]) -> list[str]:
    """The sorted names matching any fnmatch pattern of ``pattern``."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    return sorted({n for n in names for p in patterns if fnmatch.fnmatchcase(n, p)})


def list_models(pattern: str | Iterable[str] = "*", family: str | None = None, size: str | None = None) -> list[str]:
    """Registered architectures matching fnmatch ``pattern`` (``cnnzoo.list_models`` adds the weights)."""
    names = [n for n, spec in _MODELS.items()
             if (family is None or spec.family == family) and (size is None or spec.size == size)]
    return match_names(names, pattern)


def list_families() -> list[str]:
    return sorted({s.family for s in _MODELS.values()})
