"""Trainable activations TAct and mTAct.

TAct(x)  = (a * x + 1 - a) * sigmoid((1 + b) * x)
mTAct(x) = (a^2 * x + 1 - a^2) * sigmoid((1 + b^2) * x)

``a`` and ``b`` are learnable. With a = 1, b = 0 TAct is Swish (SiLU); with a = 0 it is a sigmoid gate; large b
pushes it towards ReLU. mTAct squares both so the effective coefficients stay non-negative.

Initialisation: the effective a uniform in [0.9, 1.1), b in [0.5, 1.5) (mTAct draws the square roots), so TAct
starts between Swish and ReLU. The earlier [0, 0.5) for both made it a sigmoid gate of slope ~0.36 with an
offset of ~0.4: in a post-activation residual network (the activation after every addition, the residual branch
zero at init) the stream passes through that contraction once a block, and after nine blocks of ResNet-20 every
image gave the same features (their spread 0.0000, `docs/scripts/act_signal_at_init.py`) and training sat at
chance. From this range the stage outputs and the feature spread are within ~20% of ReLU's in the ResNet, DenseNet
and MBConv families. Parameters are per layer (two scalars) by default; ``per_channel=True`` gives
every channel its own pair, created lazily on the first forward so blocks need not pass channel counts.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from .tact_fused import compiled_kernels, like_input, tact_fused_enabled

INIT_A = (0.9, 1.1)  # effective coefficients at init (see the module docstring for why)
INIT_B = (0.5, 1.5)


def tact(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Reference formula (plain autograd)."""
    return (a * x + 1 - a) * torch.sigmoid((1 + b) * x)


class _TActFunction(torch.autograd.Function):
    """TAct with a hand-written backward that recomputes the sigmoid instead of saving four intermediates.

    Plain autograd keeps ``a*x``, ``(1+b)*x``, the sigmoid and the affine term alive for the backward pass; here
    only the input is saved, which halves the activation memory of the layer and avoids the extra passes. The
    gradients of the (scalar or per-channel) coefficients are reduced in float32 so bf16 autocast does not
    lose them in a sum over millions of elements.
    """

    @staticmethod
    def forward(ctx, x, a, b):
        ctx.save_for_backward(x, a, b)
        a_, c_ = a.to(x.dtype), (1 + b).to(x.dtype)
        if tact_fused_enabled():
            return compiled_kernels()[0](x, a_, c_)
        return torch.addcmul(1 - a_, x, a_) * torch.sigmoid(x * c_)

    @staticmethod
    def backward(ctx, grad):
        x, a, b = ctx.saved_tensors
        a_, c_ = a.to(x.dtype), (1 + b).to(x.dtype)
        if tact_fused_enabled():
            kernel = compiled_kernels()[1]
            grad_x, grad_a, grad_b = kernel(like_input(grad, x), x, a_, c_, tuple(a.shape), tuple(b.shape))
            return (grad_x, grad_a.to(a.dtype) if ctx.needs_input_grad[1] else None,
                    grad_b.to(b.dtype) if ctx.needs_input_grad[2] else None)
        s = torch.sigmoid(x * c_)
        u = torch.addcmul(1 - a_, x, a_)
        gs = grad * u * s * (1 - s)  # d/d(c*x) of the sigmoid term, times the affine term and the grad
        grad_x = torch.addcmul(gs * c_, grad * s, a_)
        grad_a = grad_b = None
        acc = torch.promote_types(x.dtype, torch.float32)  # at least fp32 for the reductions
        if ctx.needs_input_grad[1]:
            grad_a = ((x - 1) * s * grad).to(acc).sum_to_size(a.shape).to(a.dtype)
        if ctx.needs_input_grad[2]:
            grad_b = (gs * x).to(acc).sum_to_size(b.shape).to(b.dtype)
        return grad_x, grad_a, grad_b


class TAct(LazyModuleMixin, nn.Module):
    """TAct with per-layer (default) or per-channel trainable ``a`` and ``b``."""

    squared = False

    def __init__(self, inplace: bool = False, per_channel: bool = False):
        super().__init__()
        del inplace  # accepted for a uniform activation signature; the op is never in place
        self.per_channel = per_channel
        self.squared = type(self).squared  # an instance attribute: TorchScript does not see class attributes
        if per_channel:
            self.a = UninitializedParameter()
            self.b = UninitializedParameter()
        else:
            self.a = nn.Parameter(torch.empty(()))
            self.b = nn.Parameter(torch.empty(()))
            self.reset_parameters()
            self._drop_lazy_hooks()

    def _drop_lazy_hooks(self) -> None:
        """Nothing to infer: remove LazyModuleMixin's hooks (as it does itself once initialised), which
        TorchScript cannot compile."""
        for name in ("_initialize_hook", "_load_hook"):
            getattr(self, name).remove()
            delattr(self, name)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params():
            with torch.no_grad():
                self.a.uniform_(*INIT_A)
                self.b.uniform_(*INIT_B)
                if self.squared:  # the forward squares them: draw the roots of the same range
                    self.a.sqrt_()
                    self.b.sqrt_()

    def initialize_parameters(self, x: torch.Tensor) -> None:  # called by LazyModuleMixin on first forward
        if self.has_uninitialized_params():
            with torch.no_grad():
                shape = (x.shape[1],) + (1,) * (x.dim() - 2)
                self.a.materialize(shape)
                self.b.materialize(shape)
                self.reset_parameters()

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.squared:
            return self.a * self.a, self.b * self.b
        return self.a, self.b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.coefficients()
        if torch.jit.is_scripting():
            return tact(x, a.to(x.dtype), b.to(x.dtype))
        if torch.jit.is_tracing() or torch.compiler.is_compiling():
            return tact(x, a.to(x.dtype), b.to(x.dtype))  # exporters and inductor see plain ops
        return self._apply_function(x, a, b)

    @torch.jit.unused
    def _apply_function(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _TActFunction.apply(x, a, b)

    def extra_repr(self) -> str:
        return f"per_channel={self.per_channel}"


class MTAct(TAct):
    """mTAct: TAct with squared coefficients (a^2, b^2)."""

    squared = True
