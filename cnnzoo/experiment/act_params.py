"""The learned TAct / mTAct coefficients: logged per layer every epoch, plotted at the end of a run."""
from __future__ import annotations

from pathlib import Path

from torch import nn

from ..engine.runlog import _savefig
from ..layers.trainable_act import TAct

RECORD_KEY = "act_params"  # {layer name: [a, b]} in each metrics.jsonl epoch record


def trainable_act_values(model: nn.Module) -> dict[str, list[float]]:
    """``{layer: [a, b]}`` for every TAct / mTAct layer: the raw parameters (mTAct uses their squares);
    per-channel layers give their channel means."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, TAct) and not module.has_uninitialized_params():
            out[name] = [round(module.a.detach().float().mean().item(), 6),
                         round(module.b.detach().float().mean().item(), 6)]
    return out


class ActParamsLogger:
    """Engine callback: adds ``act_params`` to the epoch record when the model has trainable activations."""

    def on_epoch_end(self, epoch: int, model: nn.Module, record: dict) -> None:
        values = trainable_act_values(model)
        if values:
            record[RECORD_KEY] = values


def plot_act_params(records: list[dict], path: Path, title: str = "") -> bool:
    """a and b against layer depth, one line per epoch (dark = early, yellow = last); False if nothing to plot."""
    epochs = [r for r in records if r.get("kind") == "epoch" and r.get(RECORD_KEY)]
    if not epochs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = list(epochs[-1][RECORD_KEY])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    cmap = plt.get_cmap("viridis")
    for i, rec in enumerate(epochs):
        color = cmap(i / max(1, len(epochs) - 1))
        for k, ax in enumerate(axes):
            ax.plot(range(len(layers)), [rec[RECORD_KEY][name][k] for name in layers], color=color, lw=1,
                    label=f"epoch {rec['epoch']}" if i in (0, len(epochs) - 1) else None)
    for ax, coef in zip(axes, "ab"):
        ax.set_xlabel("activation layer (input -> output)")
        ax.set_ylabel(coef)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "learned trainable-activation coefficients", fontsize=10)
    _savefig(fig, Path(path))
    plt.close(fig)
    return True


def plot_final_act_params(runs: list[tuple[str, str, float, list[dict]]], path: Path) -> bool:
    """The last epoch's a and b per layer, mean over seeds, one row per model and one line per (activation, lr).

    ``runs`` holds ``(model, activation, lr, records)`` for every finished run.
    """
    import numpy as np

    finals: dict[tuple, list[dict]] = {}
    for model, act, lr, records in runs:
        last = next((r[RECORD_KEY] for r in reversed(records) if r.get(RECORD_KEY)), None)
        if last:
            finals.setdefault((model, act, lr), []).append(last)
    if not finals:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(k[0] for k in finals))
    fig, axes = plt.subplots(len(models), 2, figsize=(10, 3.2 * len(models)), squeeze=False)
    for r, model in enumerate(models):
        for (m, act, lr), values in finals.items():
            if m != model:
                continue
            layers = list(values[0])
            mean = np.array([[v[name] for name in layers] for v in values]).mean(0)  # [layer, (a, b)]
            for k in range(2):
                axes[r][k].plot(range(len(layers)), mean[:, k], marker=".", lw=1, label=f"{act} lr {lr:g}")
        for k, coef in enumerate("ab"):
            axes[r][k].set_title(f"{model}: learned {coef} (last epoch, mean over seeds)", fontsize=9)
            axes[r][k].set_xlabel("activation layer (input -> output)")
            axes[r][k].grid(alpha=0.3)
            axes[r][k].legend(fontsize=7)
    fig.tight_layout()
    _savefig(fig, Path(path))
    plt.close(fig)
    return True
