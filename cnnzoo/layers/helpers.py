"""Small arithmetic helpers shared by the layers and model builders."""
from __future__ import annotations


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None, round_limit: float = 0.9) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` without dropping below ``round_limit * value``.

    Channel counts of scaled networks (MobileNet width multipliers, SE reductions) are kept divisible by 8
    because that is what the reference implementations (and their weights) use.
    """
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < round_limit * value:
        new_value += divisor
    return new_value


def same_padding(kernel_size: int, stride: int = 1, dilation: int = 1) -> int:
    """Symmetric padding that keeps ``ceil(H / stride)`` output size for odd kernels."""
    return ((stride - 1) + dilation * (kernel_size - 1)) // 2
