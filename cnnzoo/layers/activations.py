"""Activation factory: every model resolves its activation through :func:`get_act`.

``get_act(name)`` returns a *factory* (a class or partial) that is called with ``inplace=...`` once per use, so
trainable activations get fresh parameters in every layer.
"""
from __future__ import annotations

import functools
from typing import Callable, Union

from torch import nn

from ..errors import UnknownActivationError
from .trainable_act import MTAct, TAct

ActLayer = Callable[..., nn.Module]
ActSpec = Union[str, ActLayer, None]


def _no_inplace(cls: type[nn.Module]) -> ActLayer:
    """Wrap an activation without an ``inplace`` argument so every factory accepts it."""

    def factory(inplace: bool = False, **kwargs) -> nn.Module:
        return cls(**kwargs)

    factory.__name__ = cls.__name__
    return factory


_ACTIVATIONS: dict[str, ActLayer] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "mish": nn.Mish,
    "gelu": _no_inplace(nn.GELU),
    "sigmoid": _no_inplace(nn.Sigmoid),
    "hard_sigmoid": nn.Hardsigmoid,
    "identity": _no_inplace(nn.Identity),
    "tact": TAct,
    "mtact": MTAct,
    "tact_channel": functools.partial(TAct, per_channel=True),
    "mtact_channel": functools.partial(MTAct, per_channel=True),
}

# The activations a user chooses between for a whole network (the study set plus GELU and the defaults).
MODEL_ACTIVATIONS = ("relu", "relu6", "silu", "swish", "mish", "gelu", "tact", "mtact", "tact_channel", "mtact_channel")


def list_activations() -> list[str]:
    return sorted(_ACTIVATIONS)


def get_act(spec: ActSpec, default: ActSpec = "relu") -> ActLayer:
    """Resolve an activation name, class or factory into a factory accepting ``inplace``."""
    if spec is None:
        spec = default
    if isinstance(spec, str):
        key = spec.lower().replace("-", "_")
        if key not in _ACTIVATIONS:
            raise UnknownActivationError(
                f"unknown activation {spec!r}; valid names: {', '.join(list_activations())}"
            )
        return _ACTIVATIONS[key]
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        try:
            spec(inplace=False)
        except TypeError:
            return _no_inplace(spec)
        return spec
    if callable(spec):
        return spec
    raise UnknownActivationError(f"activation must be a name, an nn.Module class or a factory, got {spec!r}")


def create_act(spec: ActSpec, inplace: bool = False) -> nn.Module:
    return get_act(spec)(inplace=inplace)
