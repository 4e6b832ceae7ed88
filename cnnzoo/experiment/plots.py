"""Study-style figures: one panel per (model, optimizer, lr), validation error per epoch for each activation,
the mean over seeds as a line and +-1 standard deviation as a band."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.runlog import _savefig

COLORS = {"relu": "tab:blue", "swish": "tab:orange", "silu": "tab:orange", "mish": "tab:green",
          "tact": "tab:red", "mtact": "tab:purple", "gelu": "tab:brown", "relu6": "tab:cyan",
          "tact_channel": "tab:pink", "mtact_channel": "tab:olive"}


def _mean_band(curves: list[list[tuple[int, float]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Error (100 - top-1) per epoch over the seeds that reached that epoch."""
    by_epoch: dict[int, list[float]] = {}
    for curve in curves:
        for epoch, top1 in curve:
            by_epoch.setdefault(epoch, []).append(100.0 - top1)
    epochs = np.array(sorted(by_epoch))
    mean = np.array([np.mean(by_epoch[e]) for e in epochs])
    std = np.array([np.std(by_epoch[e], ddof=1) if len(by_epoch[e]) > 1 else 0.0 for e in epochs])
    return epochs, mean, std


def panel_title(model: str, optimizer: str, lr: float) -> str:
    return f"{model}, {optimizer} lr {lr:g}"


def plot_error_curves(entries: list[dict], path: Path, ylabel: str = "validation error (%)") -> int:
    """Write the grid of panels to ``path``; returns the number of panels drawn (0: nothing finished yet)."""
    panels: dict[tuple, list[dict]] = {}
    for e in entries:
        if e["curves"]:
            panels.setdefault((e["model"], e["optimizer"], e["lr"]), []).append(e)
    if not panels:
        return 0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    models = list(dict.fromkeys(k[0] for k in panels))
    cols = max(sum(k[0] == m for k in panels) for m in models)
    fig, axes = plt.subplots(len(models), cols, figsize=(5 * cols, 3.6 * len(models)), squeeze=False)
    for r, model in enumerate(models):
        keys = [k for k in panels if k[0] == model]
        for c in range(cols):
            ax = axes[r][c]
            if c >= len(keys):
                ax.axis("off")
                continue
            for e in panels[keys[c]]:
                x, mean, std = _mean_band(e["curves"])
                color = COLORS.get(e["activation"])
                ax.plot(x, mean, color=color, lw=1.5, label=f"{e['activation']} (n={len(e['curves'])})")
                ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, lw=0)
            ax.set_title(panel_title(*keys[c]), fontsize=10)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    _savefig(fig, Path(path))
    plt.close(fig)
    return len(panels)
