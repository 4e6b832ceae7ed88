"""Batches straight from the uint8 tensor cache, augmented a whole batch at a time.

Shuffling and augmentation draw from a generator seeded by ``(seed, epoch)``, so an epoch is the same whether
it runs first or after a resume, and every rank of a distributed run draws the same global batch and keeps its
own slice of it (``rank::world_size``): the same global batch as a single-process run.
"""
from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

import torch


@contextmanager
def single_thread():
    """Batch augmentation is many small ops: one thread is ~30x faster than two when the cores are busy
    (OpenMP workers spin waiting for each other) and no slower when they are free."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TensorLoader:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, shuffle: bool = False,
                 augment: Callable | None = None, transform: Callable | None = None, drop_last: bool = False,
                 seed: int = 0, rank: int = 0, world_size: int = 1, device: torch.device | str = "cpu"):
        if batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the {world_size} processes")
        self.images, self.labels = images, labels
        self.batch_size = batch_size  # global batch (summed over processes)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.augment = augment  # (uint8 batch, generator) -> float batch, used when training
        self.transform = transform  # uint8 batch -> float batch, used otherwise
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.device = torch.device(device)
        self.epoch = 0
        if self.device.type != "cpu":  # a CIFAR-size set is ~150 MB of uint8: it lives on the GPU, no copies
            self.images, self.labels = self.images.to(self.device), self.labels.to(self.device)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def num_images(self) -> int:
        """Images seen by all processes in one epoch."""
        return len(self) * self.batch_size if self.drop_last else len(self.labels)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        n = len(self.labels)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        for b in range(len(self)):
            with single_thread() if self.device.type == "cpu" else nullcontext():
                x_local, y_local = self._batch(order[b * self.batch_size:(b + 1) * self.batch_size], g)
            yield x_local, y_local

    def _batch(self, idx: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = idx.to(self.images.device)
        x = self.images[idx].to(self.device, non_blocking=True)
        if self.augment is not None:
            # drawn for the global batch, so every rank consumes the generator identically
            x = self.augment(x, g)
        x_local = x[self.rank::self.world_size]
        if self.augment is None and self.transform is not None:
            x_local = self.transform(x_local)
        return x_local, self.labels[idx][self.rank::self.world_size].to(self.device, non_blocking=True)
