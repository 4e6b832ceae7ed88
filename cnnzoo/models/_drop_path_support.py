"""The one check of networks without stochastic depth: ``drop_path_rate`` must stay 0 (create_model always
passes it, so a builder cannot simply leave the argument out)."""
from __future__ import annotations

from ..errors import InvalidArgumentError


def reject_drop_path(drop_path_rate: float, network: str, why: str = "has no residual branch to drop") -> None:
    if drop_path_rate:
        raise InvalidArgumentError(
            f"drop_path_rate={drop_path_rate!r}: {network} {why}; use 0 (or drop_rate for dropout before the "
            f"classifier)")
