"""optimize_for_inference: folded, channels_last models compute the same logits as the originals."""
import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.registry import get_model_spec
from cnnzoo.deploy.optimize import fold_batchnorm, fold_conv_bn
from helpers import randomize_

ALL = [n for n in cnnzoo.list_models() if n not in cnnzoo.list_models("vgg1[369]*")]  # vgg11's code, 140M params
# With random BN statistics these two are numerically ill-conditioned in float32: resnet1202's residual stream
# overflows to inf, and seresnet152 amplifies float32 reordering noise (channels_last alone moves its logits by
# ~10 %). They are checked in float64, where rounding is ~1e-16 and 1e-4 tests the folding itself.
FLOAT64 = {"resnet1202", "seresnet152"}


def randomize_batchnorm_(model):
    """Random BN statistics and affine parameters (tests/helpers.randomize_ on each BN), weights as built."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for i, bn in enumerate(bns):
        randomize_(bn, seed=i)
    return model


@pytest.mark.parametrize("name", ALL)
def test_optimized_logits_match(name):
    dtype = torch.float64 if name in FLOAT64 else torch.float32
    model = randomize_batchnorm_(cnnzoo.create_model(name)).eval().to(dtype)
    # the smallest inputs the nets take: 1x1 after the 32x stride of ImageNet nets, 4x4 after CIFAR nets' 4x
    spec = get_model_spec(name)
    size = 16 if spec.size == "cifar" else max(32, spec.reference.get("min_input_size", 0))
    x = torch.randn(1, 3, size, size, dtype=dtype)
    with torch.no_grad():
        expected = model(x)
    fast = cnnzoo.optimize_for_inference(model, example=x)
    assert not fast.training
    remaining = sum(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert remaining == len(fast.fold_report.unfolded)
    with torch.no_grad():
        got = fast(x.contiguous(memory_format=torch.channels_last))
    scale = expected.abs().max().clamp_min(1.0)
    assert ((got - expected).abs().max() / scale).item() < 1e-4
    # a copy was optimised: the original keeps all its BatchNorms
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == remaining + len(fast.fold_report.folded)


def test_float32_resnet50_matches():
    model = randomize_(cnnzoo.create_model("resnet50")).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        got = cnnzoo.optimize_for_inference(model)(x)
    assert ((got - expected).abs().max() / expected.abs().max()).item() < 1e-4


def test_fold_conv_bn_formula():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=True), nn.BatchNorm2d(6)
    randomize_(conv), randomize_(bn)
    bn.eval()
    x = torch.randn(3, 4, 9, 9)
    with torch.no_grad():
        expected = bn(conv(x))
        fold_conv_bn(conv, bn)
        diff = (conv(x) - expected).abs().max().item()
    assert diff < 1e-5


def test_preact_blocks_fold_only_what_is_foldable():
    # preact_resnet20: 9 blocks. norm2 follows conv1 alone -> 9 folds. norm1 reads the residual sum (and the
    # stem output also feeds the identity shortcut) and the closing BN reads the last sum -> 10 stay.
    model = cnnzoo.create_model("preact_resnet20").eval()
    report = fold_batchnorm(model)
    assert len(report.folded) == 9
    assert all(bn.endswith("norm2.bn") for _, bn in report.folded)
    assert len(report.unfolded) == 10 and "final.bn" in report.unfolded


def test_post_activation_resnet_folds_every_bn():
    model = cnnzoo.create_model("resnet18").eval()
    report = fold_batchnorm(model)
    assert len(report.folded) == 20 and report.unfolded == []
    assert ("stem.conv.conv", "stem.conv.bn") in report.folded
    assert ("stages.1.0.downsample.conv", "stages.1.0.downsample.bn") in report.folded


def test_bad_argument_is_named():
    with pytest.raises(cnnzoo.InvalidArgumentError, match="expects a torch.nn.Module, got str"):
        cnnzoo.optimize_for_inference("resnet18")
