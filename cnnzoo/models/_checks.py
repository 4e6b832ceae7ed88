"""Argument and input checks shared by the skeleton and the features wrapper: a clear message instead of a
shape error deep inside a conv."""
from __future__ import annotations

import torch

from ..errors import InputShapeError, InvalidArgumentError


def check_num_classes(num_classes: int) -> int:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise InvalidArgumentError(
            f"num_classes must be an integer >= 0 (0 gives pooled features), got {num_classes!r}"
        )
    return num_classes


def check_in_chans(in_chans: int) -> int:
    if not isinstance(in_chans, int) or isinstance(in_chans, bool) or in_chans < 1:
        raise InvalidArgumentError(f"in_chans must be an integer >= 1, got {in_chans!r}")
    return in_chans


def check_input(x: torch.Tensor, in_chans: int) -> None:
    """Reject inputs of the wrong rank or channel count with a message instead of a conv shape error."""
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return
    if x.dim() != 4:
        raise InputShapeError(f"expected a 4-D input (batch, {in_chans}, height, width), got shape {tuple(x.shape)}")
    if x.shape[1] != in_chans:
        raise InputShapeError(
            f"expected {in_chans} input channels, got {x.shape[1]} (input shape {tuple(x.shape)}); "
            f"build the model with in_chans={x.shape[1]} to change it"
        )
