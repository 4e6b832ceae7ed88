"""The per-image path (larger images): a Dataset over a :class:`FolderIndex` and a DataLoader around it, with a
DistributedSampler when several processes train."""
from __future__ import annotations

from typing import Callable

import torch

from ..errors import DataError
from .folder import FolderIndex
from .images import load_rgb


class FolderDataset(torch.utils.data.Dataset):
    def __init__(self, index: FolderIndex, transform: Callable):
        self.index, self.transform = index, transform

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        path, label = self.index.samples[i]
        return self.transform(load_rgb(path)), label


class _EpochSeededLoader:
    """A DataLoader whose shuffle order depends on ``(seed, epoch)`` only (exact resume), with ``set_epoch``."""

    def __init__(self, dataset, batch_size, shuffle, drop_last, workers, seed, rank, world_size, device):
        self.dataset, self.shuffle, self.seed = dataset, shuffle, seed
        self.local_batch = batch_size // world_size
        self.batch_size, self.drop_last, self.workers = batch_size, drop_last, workers
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.sampler = torch.utils.data.DistributedSampler(
            dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last
        ) if world_size > 1 else None
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def _loader(self):
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.utils.data.DataLoader(
            self.dataset, batch_size=self.local_batch, shuffle=self.shuffle and self.sampler is None,
            sampler=self.sampler, drop_last=self.drop_last, num_workers=self.workers, generator=g,
            pin_memory=self.device.type == "cuda", persistent_workers=False,
        )

    def __len__(self) -> int:
        return len(self._loader())

    @property
    def num_images(self) -> int:
        n = len(self.dataset)
        return (n // self.batch_size) * self.batch_size if self.drop_last else n

    def __iter__(self):
        try:
            for x, y in self._loader():
                yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        except DataError as exc:  # from a worker: its message carries the worker's traceback; keep the last line
            raise DataError(_worker_message(exc)) from None


def _worker_message(exc: DataError) -> str:
    """``"cannot read image x.jpg: ..."`` out of a DataLoader worker's re-raised message."""
    prefix = f"{DataError.__module__}.{DataError.__qualname__}: "
    lines = [line for line in str(exc).splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return last[len(prefix):] if last.startswith(prefix) else str(exc)


def folder_loader(index: FolderIndex, transform: Callable, batch_size: int, *, shuffle: bool = False,
                  drop_last: bool = False, workers: int = 2, seed: int = 0, rank: int = 0, world_size: int = 1,
                  device="cpu") -> _EpochSeededLoader:
    return _EpochSeededLoader(FolderDataset(index, transform), batch_size, shuffle, drop_last, workers, seed,
                              rank, world_size, device)
