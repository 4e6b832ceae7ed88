"""The equivalence table: which timm / torchvision model is the same network as a cnnzoo architecture, and the
regex renames that map its parameter names onto ours. The family modules in ``converters/`` fill it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

# (full-match regex, replacement string or callable(match) -> str)
Rules = list[tuple[str, "str | Callable[[re.Match], str]"]]


@dataclass(frozen=True)
class Equivalent:
    """``arch`` in cnnzoo is the same network as ``library``'s ``name`` (timm or torchvision)."""

    arch: str
    library: str
    name: str
    rules: Rules
    # Optional final fix-up of the renamed dict (e.g. splitting a fused tensor).
    post: Callable[[dict], dict] | None = field(default=None, compare=False)
    # Extra keyword arguments for the other library's constructor.
    kwargs: dict = field(default_factory=dict, compare=False)


_TABLE: dict[str, list[Equivalent]] = {}


def register_equivalent(arch: str, library: str, name: str, rules: Rules, post=None, **kwargs) -> None:
    if library not in ("timm", "torchvision"):
        raise ValueError(f"library must be 'timm' or 'torchvision', got {library!r}")
    _TABLE.setdefault(arch, []).append(Equivalent(arch, library, name, rules, post, kwargs))


def all_equivalents() -> list[Equivalent]:
    """Every registered row, in registration order."""
    return [e for rows in _TABLE.values() for e in rows]
