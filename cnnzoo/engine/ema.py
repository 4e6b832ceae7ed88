"""Exponential moving average of a model's weights and batch-norm statistics (timm's ``ModelEmaV3`` default), with
timm's warm-up of the decay so early averages are not dominated by the random initialisation.

The running statistics are averaged with the weights, not copied from the model: copied, they describe the
current weights' activations, not the averaged weights', and the EMA was evaluated with the wrong statistics
(docs/training.md, "EMA and batch-norm statistics")."""
from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEma(nn.Module):
    def __init__(self, model: nn.Module, decay: float = 0.999):
        super().__init__()
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0
        self._pairs = None  # (averaged, copied) tensor lists, paired with the model's on the first update

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One decay step: floating parameters and buffers (BN running statistics) move towards the model's (one
        fused ``_foreach`` call, not a kernel per tensor: ResNet-110 has ~700); integer counters are copied."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        if self._pairs is None:
            self._pairs = _pair_tensors(self.module, model)
        (avg_ema, avg_model), (copy_ema, copy_model) = self._pairs
        if avg_ema:
            torch._foreach_lerp_(avg_ema, avg_model, 1 - d)
        if copy_ema:
            torch._foreach_copy_(copy_ema, copy_model)

    def state_dict(self, *args, **kwargs):
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state, strict: bool = True):
        self.module.load_state_dict(state["module"], strict=strict)
        self.updates = int(state["updates"])


def _pair_tensors(ema: nn.Module, model: nn.Module) -> tuple[tuple[list, list], tuple[list, list]]:
    ema_state, model_state = ema.state_dict(keep_vars=True), model.state_dict(keep_vars=True)
    averaged, copied = ([], []), ([], [])
    for name, ema_t in ema_state.items():
        target = averaged if ema_t.is_floating_point() else copied
        target[0].append(ema_t.data)
        target[1].append(model_state[name].data)
    return averaged, copied
