"""Every architecture that timm or torchvision also defines: their state_dict, converted, gives our model the
same logits (eval mode, max abs diff < 1e-4)."""
import pytest
import torch

import cnnzoo
from cnnzoo.hub.importers.convert import convert_state_dict, create_reference_model, equivalents

from helpers import randomize_

# vgg13/16/19 (and _bn) convert by vgg11's rules with a longer table (140M parameters each): their names and shapes
# are checked on the meta device in test_classic_models.py, the logits here through vgg11 and vgg11_bn.
EQUIVALENTS = [e for e in equivalents() if e.arch not in cnnzoo.list_models("vgg1[369]*")]


def test_table_is_not_empty():
    assert len(EQUIVALENTS) >= 31
    assert {e.library for e in EQUIVALENTS} == {"timm", "torchvision"}


@pytest.mark.parametrize("eq", EQUIVALENTS, ids=lambda e: f"{e.arch}-{e.library}")
def test_same_logits(eq):
    ref = randomize_(create_reference_model(eq)).eval()
    spec = cnnzoo.registry.get_model_spec(eq.arch)
    # NCHW like the reference: with randomized BN the deep SE nets amplify float32 reordering noise (a different
    # memory layout alone moves their logits), which would hide what this test checks, the state_dict mapping.
    # The channels_last default is checked against NCHW in tests/test_models_contract.py.
    ours = cnnzoo.create_model(eq.arch, num_classes=spec.num_classes, channels_last=False).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), eq.arch, eq.library, model=ours))
    size = 32 if spec.size == "cifar" else max(64, spec.reference.get("min_input_size", 0))
    x = torch.randn(2, 3, size, size + 16)
    with torch.no_grad():
        a, b = ours(x), ref(x)
    assert a.shape == b.shape
    scale = b.abs().max().item()
    assert scale > 1e-3, "reference logits are degenerate; the comparison would be meaningless"
    assert (a - b).abs().max().item() < 1e-4 * max(1.0, scale)
