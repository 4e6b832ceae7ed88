"""The activation factory and the trainable TAct / mTAct."""
import pytest
import torch

import cnnzoo
from cnnzoo.errors import UnknownActivationError
from cnnzoo.layers.activations import MODEL_ACTIVATIONS, get_act
from cnnzoo.layers.trainable_act import MTAct, TAct

# One CIFAR-size representative per family keeps the activation x family grid CI-fast.
REPRESENTATIVES = sorted({
    min(cnnzoo.list_models(family=f), key=lambda n: cnnzoo.factory.count_params(cnnzoo.factory.build_on_meta(n)))
    for f in cnnzoo.list_families()
})
# Families whose smallest net is large (VGG-11, AlexNet, BiT, Res2NeXt-29: seconds a build) run ReLU and one
# trainable activation, which still finds any hard-coded ReLU; the others run the whole grid.
HEAVY = {n for n in REPRESENTATIVES if cnnzoo.factory.count_params(cnnzoo.factory.build_on_meta(n)) > 20e6}
CASES = [(n, a) for n in REPRESENTATIVES for a in MODEL_ACTIVATIONS if n not in HEAVY or a in ("relu", "tact_channel")]


def test_tact_formula():
    act = TAct()
    assert 0.9 <= act.a.item() < 1.1 and 0.5 <= act.b.item() < 1.5  # between Swish and ReLU at init
    with torch.no_grad():
        act.a.fill_(0.3)
        act.b.fill_(0.2)
    x = torch.linspace(-4, 4, 9)
    expected = (0.3 * x + 1 - 0.3) * torch.sigmoid(1.2 * x)
    assert torch.allclose(act(x), expected, atol=1e-6)


def test_mtact_squares_coefficients():
    act = MTAct()
    with torch.no_grad():
        act.a.fill_(-0.5)
        act.b.fill_(0.5)
    x = torch.linspace(-4, 4, 9)
    expected = (0.25 * x + 0.75) * torch.sigmoid(1.25 * x)
    assert torch.allclose(act(x), expected, atol=1e-6)


def test_tact_with_a1_b0_is_swish():
    act = TAct()
    with torch.no_grad():
        act.a.fill_(1.0)
        act.b.fill_(0.0)
    x = torch.randn(100)
    assert torch.allclose(act(x), torch.nn.functional.silu(x), atol=1e-6)


def test_per_channel_tact_is_lazy_and_per_channel():
    act = get_act("tact_channel")()
    y = act(torch.randn(2, 5, 3, 3))
    assert y.shape == (2, 5, 3, 3)
    assert act.a.shape == (5, 1, 1) and act.b.shape == (5, 1, 1)
    assert ((act.a >= 0.9) & (act.a < 1.1)).all() and ((act.b >= 0.5) & (act.b < 1.5)).all()
    squared = get_act("mtact_channel")()
    squared(torch.randn(2, 5, 3, 3))
    a, b = squared.coefficients()  # mTAct draws the roots: its effective coefficients share TAct's range
    assert ((a >= 0.9 - 1e-6) & (a < 1.1)).all() and ((b >= 0.5 - 1e-6) & (b < 1.5)).all()


def test_trainable_activation_gets_gradients_in_every_layer():
    model = cnnzoo.create_model("resnet20", act_layer="tact")
    acts = [m for m in model.modules() if isinstance(m, TAct)]
    assert len(acts) == 1 + 9 * 2  # stem + two per basic block
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert all(a.a.grad is not None and a.b.grad is not None for a in acts)
    # separate parameters in every layer
    assert len({id(a.a) for a in acts}) == len(acts)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(UnknownActivationError, match=r"unknown activation 'swishh'; valid names: .*mish.*tact"):
        cnnzoo.create_model("resnet20", act_layer="swishh")
    with pytest.raises(ValueError):  # also a ValueError
        get_act("nope")


@pytest.mark.parametrize("name,act", CASES)
def test_every_activation_in_every_family(name, act):
    model = cnnzoo.create_model(name, act_layer=act)
    size = 32 if cnnzoo.registry.get_model_spec(name).size == "cifar" else 64
    out = model(torch.randn(2, 3, size, size))
    out.sum().backward()
    assert out.shape == (2, model.num_classes) and torch.isfinite(out).all()
    if act != "relu":
        assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules() if type(m) is torch.nn.ReLU), \
            f"{name} still has a hard-coded ReLU with act_layer={act}"


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("cls", [TAct, MTAct])
def test_custom_backward_matches_autograd(cls, per_channel):
    from cnnzoo.layers.trainable_act import tact

    act = cls(per_channel=per_channel)
    x = torch.randn(4, 6, 5, 5, dtype=torch.float64, requires_grad=True)
    act(x.float())  # materialise lazy parameters
    act = act.double()
    y = act(x)
    g = torch.randn_like(y)
    gx, ga, gb = torch.autograd.grad(y, (x, act.a, act.b), g)
    a, b = act.coefficients()
    ref = tact(x, a, b)
    rx, ra, rb = torch.autograd.grad(ref, (x, act.a, act.b), g)
    assert (y - ref).abs().max().item() < 1e-12
    for got, want in ((gx, rx), (ga, ra), (gb, rb)):
        assert got.shape == want.shape and (got - want).abs().max().item() < 1e-10
