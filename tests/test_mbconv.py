"""MBConv blocks, MobileNetV2 and EfficientNet: compound scaling, CIFAR layouts, residuals, SE widths."""
import math

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.factory import build_on_meta, count_macs, count_params
from cnnzoo.registry import get_model_spec
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.hub.importers.convert import find_equivalent, rename_keys
from cnnzoo.layers.drop import DropPath
from cnnzoo.layers.mbconv import DepthwiseSeparable, MBConv
from cnnzoo.layers.squeeze_excite import SqueezeExcite
from cnnzoo.models.efficientnet import B0_STAGES, VARIANTS, compound, efficientnet_stages, scale

from helpers import randomize_


def _blocks(model):
    return [b for stage in model.stages for b in stage]


def _stage_table(model):
    """(repeats, out channels) of every stage, read from the built modules."""
    return [(len(stage), stage[-1].conv_pw.out_channels if isinstance(stage[-1], DepthwiseSeparable)
             else stage[-1].conv_pwl.out_channels) for stage in model.stages]


def _paper_rule(channels, width):
    """Tan & Le's channel rounding: nearest multiple of 8, at least 8, never more than 10% below the product."""
    rounded = max(8, int(channels * width + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * channels * width else rounded


# --------------------------------------------------------------------------------------------------------------
# compound scaling
# --------------------------------------------------------------------------------------------------------------
def test_b4_is_generated_by_the_paper_rule():
    v = VARIANTS["b4"]
    expected = [(math.ceil(s.repeats * 1.8), _paper_rule(s.out_chs, 1.4)) for s in B0_STAGES]
    assert (v.width, v.depth, v.resolution) == (1.4, 1.8, 380)
    assert [(s.repeats, s.out_chs) for s in efficientnet_stages(v.width, v.depth)] == expected
    model = build_on_meta("efficientnet_b4")
    assert _stage_table(model) == expected
    assert model.stem.out_channels == _paper_rule(32, 1.4) and model.num_features == _paper_rule(1280, 1.4)
    # kernel sizes, strides and expansion stay those of B0
    firsts = [stage[0] for stage in model.stages]
    assert [b.conv_dw.conv.kernel_size[0] for b in firsts] == [s.kernel_size for s in B0_STAGES]
    assert [b.conv_dw.conv.stride[0] for b in firsts] == [s.stride for s in B0_STAGES]


@pytest.mark.parametrize("key", list(VARIANTS))
def test_every_variant_matches_torchvision_stage_config(key):
    from torchvision.models.efficientnet import _efficientnet_conf

    v = VARIANTS[key]
    tv_rows, _ = _efficientnet_conf(f"efficientnet_{key}", width_mult=v.width, depth_mult=v.depth)
    ours = efficientnet_stages(v.width, v.depth)
    assert [(r.num_layers, r.out_channels, r.kernel, r.stride, r.expand_ratio) for r in tv_rows] == \
        [(s.repeats, s.out_chs, s.kernel_size, s.stride, s.exp_ratio) for s in ours]
    assert get_model_spec(f"efficientnet_{key}").input_size == (3, v.resolution, v.resolution)


def test_scale_builds_any_member():
    # scale(1.4, 1.8) is B4, and phi=1 (width 1.1, depth 1.2 by eq. 3) lands exactly on B2's coefficients
    with torch.device("meta"):
        b4_like = scale(1.4, 1.8)
        phi1 = scale(phi=1)
        small = scale(0.5, 0.5)
    assert count_params(b4_like) == count_params(build_on_meta("efficientnet_b4")) == 19_341_616
    assert count_params(phi1) == count_params(build_on_meta("efficientnet_b2"))
    width, depth, resolution = compound(2)
    assert (round(width, 4), round(depth, 4), resolution) == (1.21, 1.44, 296)
    # below width 1 the head conv narrows too (unlike MobileNetV2's)
    assert small.num_features == 640 and _stage_table(small)[-1] == (1, 160)


@pytest.mark.parametrize("bad", [0, -1.0, "wide", True])
def test_scale_rejects_bad_coefficients(bad):
    with pytest.raises(InvalidArgumentError, match=f"width coefficient must be a number > 0, got {bad!r}"):
        scale(width=bad)


def test_paper_dropout_and_bn_per_variant():
    spec = get_model_spec("efficientnet_b7")
    with torch.device("meta"):
        b7 = spec.fn(num_classes=1000)  # the builder's own default: the paper's rate
    assert b7.head.drop.p == 0.5 == spec.reference["drop_rate"]
    assert {m.eps for m in b7.modules() if isinstance(m, nn.BatchNorm2d)} == {1e-3}
    b4 = build_on_meta("efficientnet_b4", drop_rate=0.4)
    assert b4.head.drop.p == 0.4
    assert {m.eps for m in b4.modules() if isinstance(m, nn.BatchNorm2d)} == {1e-5}
    assert [VARIANTS[k].drop_rate for k in VARIANTS] == [0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5]


# --------------------------------------------------------------------------------------------------------------
# CIFAR variants
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix,width,mmacs", [("050", 0.5, 27.97), ("075", 0.75, 59.31), ("100", 1.0, 87.98),
                                                ("140", 1.4, 170.07)])
def test_cifar_mobilenetv2_macs_match_the_cifar_port(suffix, width, mmacs):
    # chenyaofo/pytorch-cifar-models publishes MAdds of conv + linear layers for its CIFAR-10 MobileNetV2s
    model = cnnzoo.create_model(f"mobilenetv2_{suffix}_cifar")
    assert round(count_macs(model, (3, 32, 32)) / 1e6, 2) == mmacs


@pytest.mark.parametrize("width,suffix", [(0.5, "050"), (1.0, "100")])
def test_cifar_mobilenetv2_equals_the_cifar_port(width, suffix):
    """The common CIFAR port is torchvision's MobileNetV2 with the stem and the 24-channel stage at stride 1:
    with the same random weights our CIFAR model gives the same logits."""
    import torchvision

    setting = [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
               [6, 320, 1, 1]]
    ref = torchvision.models.MobileNetV2(num_classes=10, width_mult=width, inverted_residual_setting=setting)
    ref.features[0][0].stride = (1, 1)
    ref = randomize_(ref).eval()
    ours = cnnzoo.create_model(f"mobilenetv2_{suffix}_cifar").eval()
    rules = find_equivalent("mobilenetv2_100", "torchvision").rules
    ours.load_state_dict(rename_keys(ref.state_dict(), rules))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        a, b = ours(x), ref(x)
        assert ours.forward_features(x).shape[-2:] == (4, 4)
    assert count_params(ours) == count_params(ref)
    assert b.abs().max().item() > 1e-3
    assert (a - b).abs().max().item() < 1e-4 * max(1.0, b.abs().max().item())


def test_cifar_efficientnet_changes_strides_not_weights():
    b0, cifar = build_on_meta("efficientnet_b0"), build_on_meta("efficientnet_b0_cifar")
    classifier = lambda m: count_params(m.head)  # noqa: E731
    assert count_params(cifar) - classifier(cifar) == count_params(b0) - classifier(b0)
    assert count_params(cifar) == count_params(b0) - 1280 * 990 - 990
    assert [i["reduction"] for i in cifar.stage_info] == [1, 1, 2, 4, 4, 8, 8]
    assert [i["reduction"] for i in b0.stage_info] == [2, 4, 8, 16, 16, 32, 32]


# --------------------------------------------------------------------------------------------------------------
# blocks
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mobilenetv2_050_cifar", "efficientnet_b0_cifar"])
def test_residual_exactly_when_shapes_match(name):
    model = cnnzoo.create_model(name).eval()
    shapes = {}
    hooks = [b.register_forward_hook(lambda m, i, o: shapes.__setitem__(m, (i[0].shape, o.shape)))
             for b in _blocks(model)]
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    skips = [b.has_skip for b in _blocks(model)]
    assert skips == [shapes[b][0] == shapes[b][1] for b in _blocks(model)]
    assert any(skips) and not all(skips)


@pytest.mark.parametrize("block_type", [MBConv, DepthwiseSeparable])
@pytest.mark.parametrize("stride,out_chs,expect_identity", [(1, 24, True), (2, 24, False), (1, 32, False)])
def test_skip_is_what_forward_does(block_type, stride, out_chs, expect_identity):
    # with its last BN zeroed, a block with a shortcut returns its input, one without returns zeros
    block = block_type(24, out_chs, stride=stride, se_ratio=0.25).eval()
    last = block.conv_pwl if block_type is MBConv else block.conv_pw
    nn.init.zeros_(last.bn.weight)
    nn.init.zeros_(last.bn.bias)
    x = torch.randn(1, 24, 8, 8)
    with torch.no_grad():
        y = block(x)
    assert block.has_skip is expect_identity
    assert torch.equal(y, x) if expect_identity else y.abs().max().item() == 0.0


def test_skip_count_per_network():
    # every block but the first of each stage keeps its shape: 17 - 7 in MobileNetV2, 16 - 7 in EfficientNet-B0
    for name, expected in [("mobilenetv2_100", 10), ("efficientnet_b0", 9)]:
        model = build_on_meta(name)
        assert sum(b.has_skip for b in _blocks(model)) == expected, name


def test_se_width_follows_block_input_channels():
    model = build_on_meta("efficientnet_b0")
    for block in _blocks(model):
        in_chs = block.conv_dw.conv.in_channels if isinstance(block, DepthwiseSeparable) \
            else block.conv_pw.conv.in_channels
        assert isinstance(block.se, SqueezeExcite)
        assert block.se.fc1.out_channels == in_chs // 4
        assert isinstance(block.se.act, nn.SiLU)
    assert not any(isinstance(m, SqueezeExcite) for m in build_on_meta("mobilenetv2_100").modules())


def test_default_activations_and_override():
    mb = build_on_meta("mobilenetv2_100")
    assert sum(isinstance(m, nn.ReLU6) for m in mb.modules()) == 1 + 1 + 16 * 2 + 1  # stem, ds, 16 ir, head
    assert not any(isinstance(m, nn.SiLU) for m in mb.modules())
    eff = build_on_meta("efficientnet_b0", act_layer="mish")
    assert not any(isinstance(m, (nn.SiLU, nn.ReLU, nn.ReLU6)) for m in eff.modules())
    assert sum(isinstance(m, nn.Mish) for m in eff.modules()) == 1 + 2 + 15 * 3 + 1  # SE acts included


def test_drop_path_rises_linearly_over_residual_blocks():
    model = build_on_meta("efficientnet_b0", drop_path_rate=0.2)
    blocks = _blocks(model)
    rates = {i: b.drop_path.drop_prob for i, b in enumerate(blocks) if isinstance(b.drop_path, DropPath)}
    assert set(rates) == {i for i, b in enumerate(blocks) if b.has_skip}
    assert all(rates[i] == pytest.approx(0.2 * i / (len(blocks) - 1)) for i in rates)
    assert len(rates) == 9 and max(rates.values()) == pytest.approx(0.2 * 14 / 15)  # block 15 has no skip
