"""A seeded validation split carved from a training split that has no validation folder."""
from __future__ import annotations

import torch

from ..errors import ConfigError


def carve_validation(n: int, val_size: float | int, seed: int = 0) -> tuple[list[int], list[int]]:
    """``(train indices, val indices)``: a seeded random permutation of ``range(n)``; the first ``val_size``
    (a count, or a fraction when < 1) go to validation. Both lists come back sorted."""
    count = int(round(val_size * n)) if 0 < val_size < 1 else int(val_size)
    if not 0 <= count < n:
        raise ConfigError(f"val_size={val_size!r} must be a fraction in (0, 1) or a count in [0, {n}) "
                          f"for a split of {n} images")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(order[count:]), sorted(order[:count])
