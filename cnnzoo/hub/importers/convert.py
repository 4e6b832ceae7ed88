"""State-dict converters from torchvision and timm, and the one equivalence table they form.

Each family module in ``converters/`` registers, per cnnzoo architecture, the library and model name
that define the same network and a list of regex renames mapping their parameter names onto ours. The table
drives the converters, the equivalence tests, the ImageNet weight importers and the benchmark counterparts.
"""
from __future__ import annotations

import re
from typing import Mapping

import torch

from ...errors import UnknownModelError, WeightIntegrityError
from .converters import densenet, dpn, efficientnet, mobilenetv2, resnet  # noqa: F401  (each fills the table)
from .converters import inception, mobilenetv1, nasnet, resnetv2, squeezenet, vgg  # noqa: F401
from .equivalence import Equivalent, Rules, all_equivalents, register_equivalent  # noqa: F401  (the table's API)


def equivalents(arch: str | None = None, library: str | None = None) -> list[Equivalent]:
    """Every (cnnzoo arch, library, name) triple, optionally filtered."""
    return [e for e in all_equivalents() if (arch is None or e.arch == arch) and (library is None or e.library == library)]


def find_equivalent(arch: str, library: str | None = None) -> Equivalent:
    rows = equivalents(arch, library)
    if not rows:
        known = sorted({e.arch for e in equivalents(library=library)})
        raise UnknownModelError(
            f"no {library or 'timm/torchvision'} equivalent is registered for {arch!r}; "
            f"architectures with one: {', '.join(known)}"
        )
    return rows[0]


def rename_keys(state_dict: Mapping[str, torch.Tensor], rules: Rules) -> dict[str, torch.Tensor]:
    """Apply the first matching (pattern, replacement) rule to every key (patterns are full-match regexes)."""
    compiled = [(re.compile(p), r) for p, r in rules]
    out = {}
    for key, value in state_dict.items():
        new = key
        for pattern, repl in compiled:
            if pattern.fullmatch(key):
                new = pattern.sub(repl, key)
                break
        out[new] = value
    return out


def convert_state_dict(state_dict: Mapping[str, torch.Tensor], arch: str, library: str | None = None,
                       model: torch.nn.Module | None = None) -> dict[str, torch.Tensor]:
    """Map a timm / torchvision state_dict onto cnnzoo's parameter names for ``arch``.

    With ``model`` given, the result is checked against the model's keys and shapes and any mismatch is
    reported by name.
    """
    eq = find_equivalent(arch, library)
    out = rename_keys(state_dict, eq.rules)
    if eq.post is not None:
        out = eq.post(out)
    if model is not None:
        check_keys(out, model.state_dict(), f"{eq.library} {eq.name} -> cnnzoo {arch}")
    return out


def check_keys(got: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], what: str) -> None:
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    shapes = [f"{k}: {tuple(got[k].shape)} vs {tuple(expected[k].shape)}" for k in expected
              if k in got and tuple(got[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or shapes:
        lines = [f"state_dict does not match ({what}):"]
        if missing:
            lines.append(f"  missing ({len(missing)}): {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
        if unexpected:
            lines.append(f"  unexpected ({len(unexpected)}): {', '.join(unexpected[:10])}"
                         f"{' ...' if len(unexpected) > 10 else ''}")
        if shapes:
            lines.append(f"  wrong shape ({len(shapes)}): {'; '.join(shapes[:5])}")
        raise WeightIntegrityError("\n".join(lines))


def create_reference_model(eq: Equivalent, pretrained: bool = False, **kwargs) -> torch.nn.Module:
    """Build the other library's model (imports timm/torchvision only here)."""
    if eq.library == "timm":
        import timm

        return timm.create_model(eq.name, pretrained=pretrained, **{**eq.kwargs, **kwargs})
    import torchvision

    weights = "DEFAULT" if pretrained else None
    return torchvision.models.get_model(eq.name, weights=weights, **{**eq.kwargs, **kwargs})
