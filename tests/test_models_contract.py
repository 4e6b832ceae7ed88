"""One contract over every registered model (the shape of timm's tests/test_models.py)."""
import copy
import math

import pytest
import torch

import cnnzoo
from cnnzoo.factory import count_params
from cnnzoo.registry import get_model_spec
from cnnzoo.errors import InputShapeError
from cnnzoo.models._skeleton import FeatureExtractor

# vgg13/16/19 (and _bn) are vgg11's builder with a longer table: 140M parameters each, built ~8 times here, they
# would add ~2 min; their counts and converters are still tested per variant (test_params, test_classic_models).
ALL = [n for n in cnnzoo.list_models() if n not in cnnzoo.list_models("vgg1[369]*")]
# Too slow to train-step at every size on 2 CPU cores; they run forward passes only.
FORWARD_ONLY = {"senet154", "resnet1202", "wide_resnet101_2", "resnext101_32x8d", "efficientnet_b4",
                "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "dpn131", "dpn107", "densenet_bc_190_k40",
                "resnext29_16x64d", "nasnetalarge", "inception_resnet_v2", "alexnet",
                *cnnzoo.list_models("vgg*")}


def small_size(name):
    """A non-square input the architecture accepts without collapsing below 1 pixel (at least its published
    minimum, for the nets whose unpadded convs and pools need more)."""
    spec = get_model_spec(name)
    if spec.size == "cifar":
        return (32, 24)
    floor = spec.reference.get("min_input_size", 0)
    return (max(72, floor + 8), max(56, floor))


_cache = {}


def build(name):
    if name not in _cache:
        _cache.clear()  # keep one model alive at a time
        _cache[name] = cnnzoo.create_model(name)
    return _cache[name]


@pytest.mark.parametrize("name", ALL)
def test_forward_default_size(name):
    model = build(name).eval()
    spec = get_model_spec(name)
    with torch.no_grad():
        out = model(torch.randn(1, *spec.input_size))
    assert out.shape == (1, spec.num_classes)
    assert torch.isfinite(out).all()
    assert model.pretrained_cfg["input_size"] == spec.input_size


@pytest.mark.parametrize("name", ALL)
def test_channels_last_by_default_same_logits(name):
    """create_model stores conv weights channels_last; the logits equal the NCHW layout's."""
    model = build(name).eval()
    convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    nchw = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    assert all(m.weight.is_contiguous() for m in nchw.modules() if isinstance(m, torch.nn.Conv2d))
    x = torch.randn(2, 3, *small_size(name))
    with torch.no_grad():
        a, b = model(x), nchw(x)
    assert (a - b).abs().max().item() <= 1e-4 * max(1.0, b.abs().max().item())


@pytest.mark.parametrize("name", ALL)
def test_train_step_non_square(name):
    model = build(name).train()
    h, w = small_size(name)
    x = torch.randn(2, 3, h, w)
    if name in FORWARD_ONLY:
        with torch.no_grad():
            assert model(x).shape == (2, model.num_classes)
        return
    out = model(x)
    assert out.shape == (2, model.num_classes)
    out.logsumexp(1).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("name", ALL)
def test_classifier_reset_and_pre_logits(name):
    model = build(name).eval()
    h, w = small_size(name)
    x = torch.randn(2, 3, h, w)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.shape[1] == model.num_features
        pooled = model.forward_head(feats, pre_logits=True)
        assert pooled.shape == (2, model.num_features)
        assert model.get_classifier().in_features == model.num_features
        model.reset_classifier(0)
        assert model(x).shape == (2, model.num_features)
        model.reset_classifier(7)
        assert model(x).shape == (2, 7)
    _cache.clear()


@pytest.mark.parametrize("name", ALL)
def test_features_only_agree_with_feature_info(name):
    model = build(name).eval()
    modules = dict(model.named_modules())
    assert all(f["module"] in modules for f in model.feature_info)
    reductions = [f["reduction"] for f in model.feature_info]
    assert reductions == sorted(set(reductions))  # one feature per output stride, as in timm
    assert model.feature_info[-1]["num_chs"] == model.stage_info[-1]["num_chs"]
    feats = FeatureExtractor(model)
    h, w = small_size(name)
    with torch.no_grad():
        maps = feats(torch.randn(1, 3, h, w))
    assert len(maps) == len(model.feature_info)
    # nets with a published minimum input (unpadded convs and pools: Inception, AlexNet, SqueezeNet) lose border
    # pixels at every such layer, so their maps are only bounded above
    shrinks = "min_input_size" in get_model_spec(name).reference
    for m, info in zip(maps, model.feature_info):
        assert m.shape[1] == info["num_chs"]
        # strided convs round odd sizes up, DenseNet's average-pool transitions (as in torchvision) round down
        r = info["reduction"]
        low_h, low_w = (1, 1) if shrinks else (h // r, w // r)
        assert low_h <= m.shape[2] <= math.ceil(h / r) and low_w <= m.shape[3] <= math.ceil(w / r)
    _cache.clear()


@pytest.mark.parametrize("name", ALL)
def test_in_chans_and_input_checks(name):
    h, w = small_size(name)
    for in_chans in (1, 4):
        model = cnnzoo.create_model(name, in_chans=in_chans, num_classes=3).eval()
        with torch.no_grad():
            assert model(torch.randn(1, in_chans, h, w)).shape == (1, 3)
    with pytest.raises(InputShapeError, match="expected 4 input channels, got 3"):
        model(torch.randn(1, 3, h, w))
    with pytest.raises(InputShapeError, match="4-D input"):
        model(torch.randn(4, h, w))


def test_features_only_via_create_model():
    """out_indices index feature_info, whose first entry is the stem's stride-2 map (timm's meaning)."""
    feats = cnnzoo.create_model("resnet50", features_only=True, out_indices=(0, 2, -1))
    assert feats.channels() == [64, 512, 2048] and feats.reductions() == [2, 8, 32]
    assert [f["module"] for f in feats.feature_info] == ["stem.conv", "stages.1", "stages.3"]
    maps = feats(torch.randn(1, 3, 64, 64))
    assert [tuple(m.shape) for m in maps] == [(1, 64, 32, 32), (1, 512, 8, 8), (1, 2048, 2, 2)]
    with pytest.raises(ValueError, match=r"out_indices entry 3 is not a feature of this model; valid: \[0, 1, 2\]"):
        cnnzoo.create_model("resnet20", features_only=True, out_indices=(3,))


def test_every_model_counts_parameters():
    assert all(count_params(cnnzoo.factory.build_on_meta(n)) > 1000 for n in ALL)
