"""A weight file read once: its bytes, their sha256, and the header parsed from those same bytes.

Every later step (the sha256 check, the header's claims, the tensors) uses :class:`WeightFile`'s bytes and never
opens the file again, so a file replaced on disk after it was read cannot slip other tensors past the checks.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .io import check_digest, decode_metadata, header_from_bytes, tensors_from_bytes


@dataclass(frozen=True)
class WeightFile:
    path: Path
    data: bytes = field(repr=False)
    sha256: str
    header: dict = field(repr=False)

    @property
    def metadata(self) -> dict:
        return decode_metadata(self.header.get("__metadata__") or {})

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v["shape"]) for k, v in self.header.items() if k != "__metadata__"}

    def check_sha256(self, expected: str | None, what: str = "weight file") -> None:
        """Raise :class:`WeightIntegrityError` (naming the file and both hashes) unless the bytes have ``expected``."""
        if expected is not None:
            check_digest(self.path, expected, self.sha256, what)

    def tensors(self) -> dict[str, torch.Tensor]:
        return tensors_from_bytes(self.data, self.path)


def read_bytes(path: str | os.PathLike) -> bytes:
    """The one read of a weight file (the fault suite wraps it to swap the file right after)."""
    with open(path, "rb") as f:
        return f.read()


def read_weight_file(path: str | os.PathLike) -> WeightFile:
    """Read ``path`` once; refuse a pickle, a truncated file or a malformed header (:class:`WeightIntegrityError`)."""
    path = Path(path)
    data = read_bytes(path)
    header = header_from_bytes(data, path)
    return WeightFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), header=header)
