"""DenseNet and DPN: exact parameter counts, the memory-efficient dense layer, dual-path channel bookkeeping."""
import copy

import pytest
import torch

import cnnzoo
from cnnzoo.factory import build_on_meta, count_params
from cnnzoo.registry import get_model_spec
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.layers.dense import DenseLayer, set_memory_efficient
from cnnzoo.layers.dual_path import DualPathBlock
from cnnzoo.models.densenet import build_densenet


@pytest.mark.parametrize("name,exact", [
    ("densenet121", 7_978_856), ("densenet161", 28_681_000),   # torchvision's weight metadata
    ("densenet_bc_100_k12", 769_162),                           # pytorchcv
    ("densenet40_k12", 1_019_722),                              # Huang et al. 2017: 1.0M
    ("dpn68", 12_611_602), ("dpn92", 37_668_392),               # timm
])
def test_exact_counts(name, exact):
    assert count_params(build_on_meta(name)) == exact


def test_small_cifar_nets_are_within_resnet56_compute():
    for name in ("densenet_bc_52_k12", "dpn29"):
        assert cnnzoo.model_info(name)["gmacs"] <= 0.13, name


# -------------------------------------------------------------------------------------------------- DenseNet
def _tiny_densenet(bn_size):
    # small enough for a unit test, but with transitions and several layers per block
    return build_densenet([4, 4, 4], 12, stem_type="cifar", bn_size=bn_size, compression=0.5 if bn_size else 1.0,
                          num_classes=10)


def _train_step(model, x):
    model.train()
    model.zero_grad(set_to_none=True)
    out = model(x)
    out.logsumexp(1).mean().backward()
    return out


@pytest.mark.parametrize("bn_size", [4, None], ids=["bottleneck", "no_bottleneck"])
def test_memory_efficient_gradients_equal_plain(bn_size):
    plain = _tiny_densenet(bn_size)
    efficient = set_memory_efficient(copy.deepcopy(plain), True)
    assert all(m.memory_efficient for m in efficient.modules() if isinstance(m, DenseLayer))
    x = torch.randn(4, 3, 32, 32)
    out_p, out_e = _train_step(plain, x), _train_step(efficient, x)
    assert (out_p - out_e).abs().max().item() < 1e-5
    grads_e = dict(efficient.named_parameters())
    worst = max((p.grad - grads_e[n].grad).abs().max().item() for n, p in plain.named_parameters())
    assert worst < 1e-5
    # the recomputation must not update the BN running statistics a second time
    buffers_e = dict(efficient.named_buffers())
    for n, b in plain.named_buffers():
        assert torch.allclose(b.float(), buffers_e[n].float(), atol=1e-6), n


def _saved_bytes(model, x):
    """Bytes autograd keeps for the backward pass, outside checkpointed regions (each storage counted once)."""
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum().backward()
    return sum(storages.values())


def test_memory_efficient_keeps_less_for_backward():
    model = cnnzoo.create_model("densenet_bc_52_k12")
    x = torch.randn(8, 3, 32, 32)
    plain = _saved_bytes(model, x)
    efficient = _saved_bytes(set_memory_efficient(model, True), x)
    assert efficient < 0.6 * plain, f"{efficient / plain:.2f}x"


def test_memory_efficient_via_create_model_and_eval_mode():
    model = cnnzoo.create_model("densenet40_k12", memory_efficient=True).eval()
    assert sum(isinstance(m, DenseLayer) and m.memory_efficient for m in model.modules()) == 36
    with torch.no_grad():  # no checkpoint without autograd; same output as the plain mode
        a = model(torch.ones(1, 3, 32, 32))
        b = set_memory_efficient(model, False)(torch.ones(1, 3, 32, 32))
    assert torch.equal(a, b)


def test_densenet_stage_layout():
    model = cnnzoo.create_model("densenet121")
    assert [(f["num_chs"], f["reduction"]) for f in model.stage_info] == \
        [(256, 4), (512, 8), (1024, 16), (1024, 32)]
    assert not hasattr(model.stages[0], "transition") and model.stages[1].transition.conv.out_channels == 128
    cifar = cnnzoo.create_model("densenet40_k12")  # no compression: 16 + 3 * 12 * 12 channels at the end
    assert cifar.num_features == 16 + 36 * 12 and cifar.stages[1].transition.conv.out_channels == 16 + 12 * 12


def test_densenet_rejects_drop_path():
    with pytest.raises(InvalidArgumentError, match="drop_path_rate=0.1: a DenseNet has no residual branch"):
        cnnzoo.create_model("densenet_bc_52_k12", drop_path_rate=0.1)


# ------------------------------------------------------------------------------------------------------- DPN
def test_dual_path_block_channel_bookkeeping():
    bw, inc = 64, 16
    first = DualPathBlock(48, 32, bw, inc, groups=8, stride=2, project=True).eval()
    second = DualPathBlock(first.out_chs, 32, bw, inc, groups=8).eval()
    assert first.out_chs == bw + 3 * inc and second.out_chs == bw + 4 * inc
    x = torch.randn(2, 48, 16, 16)
    with torch.no_grad():
        y1 = first(x)
        y2 = second(y1)
        body = second.conv3(second.conv2(second.conv1(y1)))
    assert y1.shape == (2, bw + 3 * inc, 8, 8) and y2.shape == (2, bw + 4 * inc, 8, 8)
    # residual path: added to
    assert (y2[:, :bw] - (y1[:, :bw] + body[:, :bw])).abs().max().item() < 1e-5
    # dense path: the old channels pass unchanged, the new ones are appended at the end
    assert torch.equal(y2[:, bw:bw + 3 * inc], y1[:, bw:])
    assert torch.equal(y2[:, -inc:], body[:, bw:])


def test_dpn_stage_outputs_match_timm_feature_info():
    import timm

    for name in ("dpn68", "dpn92", "dpn107"):
        ours = build_on_meta(name)
        with torch.device("meta"):
            theirs = timm.create_model(name)
        assert [(f["num_chs"], f["reduction"]) for f in ours.stage_info] == \
            [(f["num_chs"], f["reduction"]) for f in theirs.feature_info[1:]], name
    # dpn92: stage i outputs bw_i + (blocks_i + 2) * inc_i channels
    assert [f["num_chs"] for f in build_on_meta("dpn92").stage_info] == \
        [256 + 5 * 16, 512 + 6 * 32, 1024 + 22 * 24, 2048 + 5 * 128]


def test_cifar_dpn_features_are_plain_tensors():
    feats = cnnzoo.create_model("dpn29", features_only=True)
    maps = feats(torch.randn(2, 3, 32, 32))
    assert [tuple(m.shape) for m in maps] == [(2, 64 + 5 * 8, 32, 32), (2, 128 + 5 * 16, 16, 16),
                                              (2, 256 + 5 * 16, 8, 8)]


def test_dpn_drop_path_drops_whole_block_contribution():
    torch.manual_seed(3)
    block = DualPathBlock(96, 32, 64, 16, groups=8, drop_path=0.5).train()
    x = torch.randn(64, 96, 4, 4)
    with torch.no_grad():
        y = block(x)
    dropped = (y[:, -16:].flatten(1).abs().sum(1) == 0)
    assert 10 < dropped.sum().item() < 54  # about half of 64 samples
    # a dropped sample: residual path unchanged, old dense channels unchanged, new channels zero
    assert torch.equal(y[dropped, :96], x[dropped])


# kuangliu/pytorch-cifar's counts at 10 classes (DenseNet121 / densenet_cifar); the narrow SENet-18s follow
# SENet18 (11,260,354) with every width scaled.
@pytest.mark.parametrize("name,exact", {
    "densenet121_cifar": 6_956_298, "densenet121_k12_cifar": 1_000_618,
    "senet18_w050_cifar": 2_819_046, "senet18_w025_cifar": 706_744}.items())
def test_activation_study_cifar_models_have_the_reference_counts(name, exact):
    model = build_on_meta(name)
    assert count_params(model) == exact
    assert get_model_spec(name).input_size == (3, 32, 32)


def test_densenet121_cifar_ends_at_4x4():
    model = cnnzoo.create_model("densenet121_k12_cifar", features_only=True)
    assert [f.shape[-1] for f in model(torch.randn(1, 3, 32, 32))] == [32, 16, 8, 4]
