"""The fused (torch.compile'd) TAct kernels give the plain-autograd formula's outputs and gradients."""
import pytest
import torch

from cnnzoo.layers.tact_fused import set_tact_fused
from cnnzoo.layers.trainable_act import MTAct, TAct, tact


@pytest.mark.parametrize("cls,per_channel", [(TAct, False), (MTAct, False), (TAct, True)])
def test_fused_kernels_match_plain_autograd(cls, per_channel):
    layer = cls(per_channel=per_channel)
    x = torch.randn(4, 6, 8, 8)
    layer(x)  # materialise per-channel coefficients
    g = torch.randn_like(x)

    def grads(fused: bool):
        set_tact_fused(fused)
        try:
            xi = x.clone().requires_grad_()
            layer.zero_grad()
            if fused:
                y = layer(xi)
            else:
                a, b = layer.coefficients()
                y = tact(xi, a, b)
            y.backward(g)
            return y.detach(), xi.grad, layer.a.grad.clone(), layer.b.grad.clone()
        finally:
            set_tact_fused(False)

    for fused, plain in zip(grads(True), grads(False)):
        assert fused.shape == plain.shape
        assert (fused - plain).abs().max().item() < 1e-4 * max(1.0, plain.abs().max().item())
