"""Augmentation of whole uint8 batches (N, 3, H, W): random crop with padding, horizontal flip, cutout, then
normalisation. One tensor op per step for the whole batch instead of one PIL call per image."""
from __future__ import annotations

from typing import Sequence

import torch


def random_crop(x: torch.Tensor, padding: int, g: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and take a random ``H x W`` window per image (torchvision's RandomCrop).

    On a CPU a slice copy per image is much faster than one gather over index tensors; on a GPU the loop would
    launch a kernel per image, so the whole batch is one gather there. Both take the same windows.
    """
    if padding <= 0:
        return x
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=g)
    if x.device.type != "cpu":
        return crop_windows(padded, offsets.to(x.device), h, w)
    out = torch.empty_like(x)
    for i, (top, left) in enumerate(offsets.tolist()):
        out[i] = padded[i, :, top:top + h, left:left + w]
    return out


def crop_windows(padded: torch.Tensor, offsets: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``padded[i, :, top_i:top_i + h, left_i:left_i + w]`` for every image at once (``offsets``: (n, 2))."""
    rows = offsets[:, :1] + torch.arange(h, device=padded.device)  # (n, h)
    cols = offsets[:, 1:] + torch.arange(w, device=padded.device)  # (n, w)
    batch = torch.arange(padded.shape[0], device=padded.device)[:, None, None]
    windows = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c)
    return windows.permute(0, 3, 1, 2).contiguous()


def random_flip(x: torch.Tensor, g: torch.Generator, p: float = 0.5) -> torch.Tensor:
    flip = (torch.rand(x.shape[0], generator=g) < p).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def cutout(x: torch.Tensor, size: int, g: torch.Generator) -> torch.Tensor:
    """Zero a ``size x size`` square (clipped at the border) centred at a random pixel of each image
    (DeVries & Taylor 2017); applied after normalisation, so zero is the dataset mean."""
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n, 1), generator=g).to(x.device)
    cx = torch.randint(0, w, (n, 1), generator=g).to(x.device)
    ys = torch.arange(h, device=x.device)[None]
    xs = torch.arange(w, device=x.device)[None]
    inside_y = (ys >= cy - size // 2) & (ys < cy - size // 2 + size)  # (n, h)
    inside_x = (xs >= cx - size // 2) & (xs < cx - size // 2 + size)  # (n, w)
    mask = inside_y[:, :, None] & inside_x[:, None, :]
    return x.masked_fill(mask[:, None], 0.0)


class Normalize:
    """uint8 -> float ``(x / 255 - mean) / std`` in one fused multiply-add."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        std_t = torch.tensor(std, dtype=torch.float32)
        self.scale = (1.0 / (255.0 * std_t)).view(1, -1, 1, 1)
        self.shift = (-torch.tensor(mean, dtype=torch.float32) / std_t).view(1, -1, 1, 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale.to(x.device), self.shift.to(x.device)
        return torch.addcmul(shift, x.float(), scale)


class BatchAugment:
    """Train-time augmentation of a uint8 batch: crop with padding -> flip -> normalise -> cutout."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], crop_padding: int = 4, hflip: bool = True,
                 cutout_size: int = 0):
        self.crop_padding = crop_padding
        self.hflip = hflip
        self.cutout_size = cutout_size
        self.normalize = Normalize(mean, std)

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        x = random_crop(x, self.crop_padding, g)
        if self.hflip:
            x = random_flip(x, g)
        x = self.normalize(x)
        if self.cutout_size > 0:
            x = cutout(x, self.cutout_size, g)
        return x
