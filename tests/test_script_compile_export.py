"""torch.jit.script, torch.export and torch.compile on one model per family give the eager outputs (exactly: the
same ops run). torch.compile is checked with the aot_eager backend here (graph capture and functionalisation,
seconds); TAct models agree to float rounding (1e-6 relative). Inductor's code generation for every family is measured by docs/scripts/compile_export_check.py."""
import pytest
import torch

import cnnzoo

FAMILY_MODELS = ["resnet20", "se_resnet20", "preact_resnet20", "wrn16_8", "resnext29_8x4d_w128", "res2net50_26w_4s",
                 "densenet_bc_52_k12", "dpn29", "mobilenetv2_050_cifar", "efficientnet_b0_cifar"]
CASES = [(name, {}) for name in FAMILY_MODELS] + [("resnet20", dict(act_layer="tact")),
                                                  ("se_resnet20", dict(act_layer="mtact"))]


def _model_and_input(name, kwargs):
    torch.manual_seed(0)
    model = cnnzoo.create_model(name, **kwargs).eval()
    side = 32 if cnnzoo.registry.get_model_spec(name).size == "cifar" else 64
    return model, torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
def test_script_export_compile_equal_eager(name, kwargs):
    model, x = _model_and_input(name, kwargs)
    with torch.no_grad():
        expected = model(x)
        scripted = torch.jit.script(model)(x)
        exported = torch.export.export(model, (x,)).module()(x)
        torch._dynamo.reset()
        compiled = torch.compile(model, backend="aot_eager")(x)
    # TAct runs a hand-written autograd Function eagerly and the plain formula in graphs: float rounding only
    tolerance = 1e-6 * expected.abs().max().item() if "act_layer" in kwargs else 0.0
    for got in (scripted, exported, compiled):
        assert (got - expected).abs().max().item() <= tolerance


def test_per_channel_tact_scripts_after_its_first_forward():
    """Per-channel TAct creates its coefficients on the first forward; before that there is nothing to script."""
    model, x = _model_and_input("resnet20", dict(act_layer="tact_channel"))
    with pytest.raises(RuntimeError, match="has uninitialized parameters a. Did you forget to run a forward pass"):
        torch.jit.script(model)
    with torch.no_grad():
        expected = model(x)
        assert (torch.jit.script(model)(x) - expected).abs().max().item() <= 1e-6 * expected.abs().max().item()
