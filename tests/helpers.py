"""Shared test utilities."""
import torch
from torch import nn


def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every float parameter and BN statistic with random values, so an equivalence test cannot pass by
    accident (default init zeroes biases and makes eval-mode BN the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean") or (t.dim() == 1 and name.endswith("bias")):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            elif t.dim() == 1:  # norm scales
                t.copy_(torch.randn(t.shape, generator=g) * 0.1 + 1.0)
            else:
                fan_in = max(1, t[0].numel())
                t.copy_(torch.randn(t.shape, generator=g) * (2.0 / fan_in) ** 0.5)
    return model
