"""Classification metrics accumulated over batches (and processes): loss, top-1, top-5, confusion matrix."""
from __future__ import annotations

import torch

from .distributed import DistInfo, all_reduce_sum


class ClassificationMeter:
    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.loss_sum = 0.0
        self.top5 = 0
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)  # [true, predicted]

    @torch.no_grad()
    def update(self, logits: torch.Tensor, target: torch.Tensor, loss_sum: float = 0.0) -> None:
        logits, target = logits.float().cpu(), target.cpu()
        pred = logits.argmax(1)
        k = min(5, logits.shape[1])
        self.top5 += (logits.topk(k, 1).indices == target[:, None]).any(1).sum().item()
        self.confusion += torch.bincount(target * self.num_classes + pred,
                                         minlength=self.num_classes ** 2).view(self.num_classes, -1)
        self.loss_sum += loss_sum

    def reduce(self, info: DistInfo) -> None:
        """Sum the counts of every process into each one (call once, after the last update)."""
        if not info.enabled:
            return
        flat = all_reduce_sum(torch.cat([torch.tensor([self.loss_sum, self.top5], dtype=torch.float64),
                                         self.confusion.flatten().double()]), info)
        self.loss_sum, self.top5 = flat[0].item(), int(flat[1].item())
        self.confusion = flat[2:].round().long().view(self.num_classes, -1)

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    def result(self, classes: list[str] | None = None) -> dict:
        n = max(1, self.count)
        per_class_n = self.confusion.sum(1).clamp(min=1)
        per_class = (self.confusion.diag() / per_class_n * 100).tolist()
        names = classes or [str(i) for i in range(self.num_classes)]
        return dict(
            top1=round(self.confusion.diag().sum().item() / n * 100, 4),
            top5=round(self.top5 / n * 100, 4),
            loss=round(self.loss_sum / n, 6),
            n=self.count,
            per_class={name: round(acc, 3) for name, acc in zip(names, per_class)},
            confusion=self.confusion.tolist(),
        )
