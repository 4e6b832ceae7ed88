"""A run directory's records: metrics JSONL, loss/accuracy plots, confusion-matrix plot, hardware summary."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import warnings
from pathlib import Path

from .io import atomic_path, atomic_write_text


class MetricsLog:
    """Append-only ``metrics.jsonl``; on resume, records after the checkpoint's epoch are dropped.

    A line that is not a JSON record (the torn end of a write cut short, or a damaged byte) is left out with a
    warning rather than making the whole run unreadable.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def records(self) -> list[dict]:
        if not self.path.is_file():
            return []
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        kept, bad = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                kept.append(record)
            else:
                bad.append(number)
        if bad:
            where = "its last line" if bad == [len(text.splitlines())] else f"line(s) {', '.join(map(str, bad))}"
            warnings.warn(f"{self.path}: {where} is not a complete JSON record (a write cut short or a damaged "
                          f"byte) and is left out", stacklevel=2)
        return kept

    @staticmethod
    def text(records: list[dict]) -> str:
        return "".join(json.dumps(r) + "\n" for r in records)

    def sha256(self) -> str:
        """sha256 of the log as written so far (kept with each checkpoint, checked on resume)."""
        return hashlib.sha256(self.path.read_bytes() if self.path.is_file() else b"").hexdigest()

    def truncate_after(self, epoch: int, last: dict | None = None, expected_sha256: str | None = None) -> None:
        """Keep the records up to ``epoch``. ``last``, the checkpoint's copy of that epoch's record, restores a
        line lost with a crash; ``expected_sha256`` (the log's hash when the checkpoint was written) tells when
        what is left is not what was written."""
        kept = [r for r in self.records() if _epoch_of(r) <= epoch]
        if last is not None and not any(r.get("kind") == last.get("kind") and _epoch_of(r) == epoch for r in kept):
            kept.append(last)
            warnings.warn(f"{self.path}: the record of epoch {epoch} was missing; restored from the checkpoint",
                          stacklevel=2)
        atomic_write_text(self.path, self.text(kept))
        if expected_sha256 is not None and self.sha256() != expected_sha256:
            warnings.warn(f"{self.path} differs from the log written up to epoch {epoch} (a line was edited or "
                          f"damaged); its curves may be wrong, the run itself is not affected", stacklevel=2)

    def write(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _epoch_of(record: dict) -> float:
    epoch = record.get("epoch", 0)
    return epoch if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) else float("inf")


def _savefig(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format=path.suffix.lstrip("."))


def plot_curves(records: list[dict], out_dir: Path) -> None:
    """``loss.png`` and ``accuracy.png`` from the per-epoch records."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r for r in records if r.get("kind") == "epoch"]
    if not epochs:
        return
    x = [r["epoch"] for r in epochs]
    for name, keys, ylabel in (("loss", ("train_loss", "val_loss"), "loss"),
                               ("accuracy", ("train_top1", "val_top1", "val_ema_top1"), "top-1 (%)")):
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            pts = [(xi, r[key]) for xi, r in zip(x, epochs) if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        _savefig(fig, out_dir / f"{name}.png")
        plt.close(fig)


def plot_confusion(confusion: list[list[int]], classes: list[str], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(confusion, dtype=float)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(max(4, 0.6 * n + 2), max(4, 0.6 * n + 1.5)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_title(title)
    _savefig(fig, Path(path))
    plt.close(fig)


def hardware() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(cpu=cpu, cores=os.cpu_count(), torch_threads=torch.get_num_threads(), torch=torch.__version__,
                python=platform.python_version())
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info
