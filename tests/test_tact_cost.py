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


def test_fused_backward_gets_the_gradient_in_the_input_layout():
    from cnnzoo.layers.tact_fused import like_input

    x = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    expanded = torch.ones(()).expand(2, 3, 4, 5)  # what y.sum().backward() passes: every stride 0
    assert like_input(expanded, x).stride() == x.stride() == (60, 1, 15, 3)
    assert like_input(expanded, x.contiguous()).stride() == (60, 20, 5, 1)
    assert like_input(torch.randn(6, 5).t(), torch.randn(5, 6)).stride() == (6, 1)


def test_fused_kernels_channels_last_and_expanded_gradient_match_plain_autograd():
    layer = TAct()
    x = torch.randn(2, 4, 6, 6).contiguous(memory_format=torch.channels_last)

    def grads(fused: bool):
        set_tact_fused(fused)
        try:
            xi = x.clone().requires_grad_()
            layer.zero_grad()
            layer(xi).sum().backward()
            return xi.grad, layer.a.grad.clone(), layer.b.grad.clone()
        finally:
            set_tact_fused(False)

    for fused, plain in zip(grads(True), grads(False)):
        assert (fused - plain).abs().max().item() < 1e-4 * max(1.0, plain.abs().max().item())
