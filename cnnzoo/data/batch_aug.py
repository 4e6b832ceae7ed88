"""Augmentation of whole uint8 batches (N, 3, H, W): random crop with padding (small images) or random-resized
crop (natural images), horizontal flip, cutout, then normalisation. One tensor op per step for the whole batch
instead of one PIL call per image."""
from __future__ import annotations

import math
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


def resized_crop_boxes(n: int, h: int, w: int, scale: tuple[float, float], ratio: tuple[float, float],
                       g: torch.Generator, attempts: int = 10) -> torch.Tensor:
    """``(n, 4)`` integer boxes ``(left, top, width, height)`` drawn as torchvision's RandomResizedCrop draws them:
    area fraction uniform in ``scale``, log aspect ratio uniform in ``ratio``, the first of ``attempts`` draws
    that fits the image, else the largest centred box within ``ratio``. All images draw all attempts at once."""
    area = h * w * torch.empty(n, attempts).uniform_(scale[0], scale[1], generator=g)
    aspect = torch.exp(torch.empty(n, attempts).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=g))
    cw = torch.sqrt(area * aspect).round().long()
    ch = torch.sqrt(area / aspect).round().long()
    fits = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
    first = fits.long().argmax(1, keepdim=True)  # the first attempt that fits (0 when none does)
    cw, ch, found = cw.gather(1, first)[:, 0], ch.gather(1, first)[:, 0], fits.any(1)
    if w / h < ratio[0]:  # torchvision's fallback: the whole image, cut to the nearest allowed ratio
        fw, fh = w, int(round(w / ratio[0]))
    elif w / h > ratio[1]:
        fw, fh = int(round(h * ratio[1])), h
    else:
        fw, fh = w, h
    cw, ch = torch.where(found, cw, fw), torch.where(found, ch, fh)
    u = torch.rand(n, 2, generator=g)
    top = torch.where(found, (u[:, 0] * (h - ch + 1)).long(), (h - fh) // 2)
    left = torch.where(found, (u[:, 1] * (w - cw + 1)).long(), (w - fw) // 2)
    return torch.stack([left, top, cw, ch], 1)


def random_resized_crop(x: torch.Tensor, size: int, scale: tuple[float, float], g: torch.Generator,
                        ratio: tuple[float, float] = (3 / 4, 4 / 3), mode: str = "bicubic") -> torch.Tensor:
    """A random box of each uint8 image resized to ``size x size``: float values in [0, 255].

    The antialiased resize is torchvision's tensor resize, which follows PIL (the folder path) to within one
    level of 255; on a CPU its separable float kernel is faster than the uint8 bicubic kernel or one batched
    ``roi_align``. Boxes differ in shape, so each image is one call.
    """
    mode = mode if mode in ("nearest", "bilinear", "bicubic") else "bilinear"  # as the folder path's _interp
    n, c, h, w = x.shape
    out = torch.empty(n, c, size, size, device=x.device)
    for i, (left, top, bw, bh) in enumerate(resized_crop_boxes(n, h, w, scale, ratio, g).tolist()):
        box = x[i:i + 1, :, top:top + bh, left:left + bw].float()
        out[i] = torch.nn.functional.interpolate(box, size=(size, size), mode=mode,
                                                 antialias=mode != "nearest")[0]
    return out.clamp_(0.0, 255.0)


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
    """Train-time augmentation of a uint8 batch: crop with padding (or, with ``resized_crop=(size, min_area)``, a
    random-resized crop to ``size``) -> flip -> normalise -> cutout."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], crop_padding: int = 4, hflip: bool = True,
                 cutout_size: int = 0, resized_crop: tuple[int, float] | None = None, interpolation: str = "bicubic"):
        self.crop_padding = crop_padding
        self.hflip = hflip
        self.cutout_size = cutout_size
        self.resized_crop = resized_crop
        self.interpolation = interpolation
        self.normalize = Normalize(mean, std)

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if self.resized_crop is not None:
            size, min_area = self.resized_crop
            x = random_resized_crop(x, size, (min_area, 1.0), g, mode=self.interpolation)
        else:
            x = random_crop(x, self.crop_padding, g)
        if self.hflip:
            x = random_flip(x, g)
        x = self.normalize(x)
        if self.cutout_size > 0:
            x = cutout(x, self.cutout_size, g)
        return x
