"""Exponential moving average of a model's weights (buffers are copied), with timm's warm-up of the decay so
early averages are not dominated by the random initialisation."""
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

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        model_state = model.state_dict()
        for name, ema_t in self.module.state_dict().items():
            t = model_state[name].detach()
            if ema_t.is_floating_point() and "running_" not in name:
                ema_t.lerp_(t, 1 - d)
            else:  # BN running statistics and counters follow the model
                ema_t.copy_(t)

    def state_dict(self, *args, **kwargs):
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state, strict: bool = True):
        self.module.load_state_dict(state["module"], strict=strict)
        self.updates = int(state["updates"])
