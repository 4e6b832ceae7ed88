"""What a weight's tensors must be before they go into a model: the model's kind of number, and finite.

``load_state_dict`` would copy an int64 or bool tensor into a float parameter without a word, and NaN or Inf
weights give NaN predictions with exit status 0, so both are refused here with the tensors named.
"""
from __future__ import annotations

from typing import Mapping

import torch

from ...errors import WeightIntegrityError

_SHOWN = 5


def _kind(t: torch.Tensor) -> str:
    if t.dtype == torch.bool:
        return "bool"
    if t.is_complex():
        return "complex"
    return "float" if t.is_floating_point() else "int"


def _nonfinite(t: torch.Tensor) -> tuple[int, int]:
    x = t if t.element_size() > 1 else t.float()  # float8 has no isnan kernel on every build
    return int(torch.isnan(x).sum()), int(torch.isinf(x).sum())


def _listing(items: list[str]) -> str:
    return "; ".join(items[:_SHOWN]) + (f"; ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def check_tensors(state: Mapping[str, torch.Tensor], model_state: Mapping[str, torch.Tensor], path) -> None:
    """Raise :class:`WeightIntegrityError` naming ``path`` when a tensor's kind (float / int / bool) is not the
    model's for the same key, or a floating tensor holds NaN or Inf. Keys the model lacks are the key check's."""
    wrong = [f"{k}: {str(t.dtype).replace('torch.', '')} (the model's is "
             f"{str(model_state[k].dtype).replace('torch.', '')})"
             for k, t in state.items() if k in model_state and _kind(t) != _kind(model_state[k])]
    if wrong:
        raise WeightIntegrityError(f"{path}: {len(wrong)} tensor(s) of the wrong dtype, so the file is not a "
                                   f"weight for this model: {_listing(wrong)}")
    bad = []
    for k, t in state.items():
        if t.is_floating_point() and t.numel():
            nan, inf = _nonfinite(t)
            if nan or inf:
                bad.append(f"{k} ({nan} NaN, {inf} Inf of {t.numel()})")
    if bad:
        raise WeightIntegrityError(f"{path}: {len(bad)} tensor(s) hold NaN or Inf values, which would make every "
                                   f"prediction NaN: {_listing(bad)}")
