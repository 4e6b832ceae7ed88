"""Device, autocast precision and memory format.

CUDA: bf16 autocast (fp16 + GradScaler where the GPU has no bf16), channels_last, cudnn.benchmark. CPU: bf16 autocast + channels_last when the
CPU has native bf16 (AVX-512 BF16 / AMX), which ``benchmarks/cpu_precision.py`` measured at about 2x fp32 for
ResNet-20 training on this project's machine; fp32 otherwise.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for but CUDA is not available")
    return device


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16"))


@dataclass(frozen=True)
class Precision:
    device: torch.device
    dtype: torch.dtype | None  # autocast dtype, None = fp32
    channels_last: bool

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def grad_scaler(self):
        """fp16 needs loss scaling; bf16 has fp32's exponent range and does not."""
        return torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)

    def memory_format(self):
        return torch.channels_last if self.channels_last else torch.contiguous_format


def resolve_precision(device: torch.device, precision: str = "auto", channels_last="auto") -> Precision:
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":  # bf16 needs no loss scaling; fp16 + GradScaler on GPUs before Ampere
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif device.type == "cpu" and cpu_has_native_bf16():
            precision = "bf16"
        else:
            precision = "fp32"
    if precision == "fp16" and device.type == "cpu":
        raise ConfigError("precision fp16 is for CUDA; on a CPU use bf16 or fp32")
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    if channels_last == "auto":
        # channels_last pays on CPU in every precision (ResNet-20 training: fp32 1.25x, bf16 1.20x;
        # benchmarks/cpu_precision.md) and with tensor cores on CUDA; it is also create_model's layout
        channels_last = device.type in ("cpu", "cuda")
    return Precision(device, dtype, bool(channels_last))
