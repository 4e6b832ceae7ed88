"""The model API timm's users and tools expect: pretrained_cfg / default_cfg, global_pool, grad checkpointing,
group_matcher with timm's layer decay beside cnnzoo's own, list_pretrained / is_model / model_entrypoint,
checkpoint_path, pretrained_cfg_overlay, and unknown keyword arguments named in the error."""
import copy

import pytest
import timm.optim
import torch

import cnnzoo
from cnnzoo.errors import InvalidArgumentError, UnknownModelError
from cnnzoo.finetune.freeze import param_groups
from cnnzoo.hub.files.io import save_weights
from cnnzoo.hub.index import get_entry

from conftest import SHIPPED_FILES

# one small model per family
FAMILY_MODELS = ["resnet20", "se_resnet20", "preact_resnet20", "wrn16_8", "resnext29_8x4d_w128", "res2net50_26w_4s",
                 "densenet_bc_52_k12", "dpn29", "mobilenetv2_050_cifar", "efficientnet_b0_cifar"]


def _input(name, batch=2):
    side = 32 if cnnzoo.registry.get_model_spec(name).size == "cifar" else 64
    return torch.randn(batch, 3, side, side, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("pool", ["avg", "max", "avgmax", "catavgmax", ""])
def test_global_pool_types(pool):
    model = cnnzoo.create_model("resnet20", global_pool=pool, num_classes=0).eval()
    x = _input("resnet20")
    with torch.no_grad():
        feats = model.forward_features(x)
        out = model(x)
    expected = {"avg": feats.mean((2, 3)), "max": feats.amax((2, 3)),
                "avgmax": 0.5 * (feats.mean((2, 3)) + feats.amax((2, 3))),
                "catavgmax": torch.cat([feats.mean((2, 3)), feats.amax((2, 3))], 1), "": feats}[pool]
    assert out.shape == expected.shape and (out - expected).abs().max().item() == 0.0


def test_global_pool_classifier_width_and_errors():
    model = cnnzoo.create_model("resnet20", global_pool="catavgmax", num_classes=5)
    assert model.get_classifier().in_features == 2 * model.num_features == 128
    model.reset_classifier(3, "max")
    assert model.get_classifier().in_features == 64 and model(_input("resnet20")).shape == (2, 3)
    with pytest.raises(InvalidArgumentError) as err:
        cnnzoo.create_model("resnet20", global_pool="", num_classes=10)
    assert str(err.value) == ("global_pool='' (no pooling) leaves a feature map that a linear classifier cannot take; "
                              "use num_classes=0 with it, or a pool type ('avg', 'max', 'avgmax', 'catavgmax')")
    with pytest.raises(InvalidArgumentError, match=r"unknown global_pool 'mean'; valid: 'avg', 'max', 'avgmax', "
                                                   r"'catavgmax', ''"):
        cnnzoo.create_model("resnet20", global_pool="mean")


def test_global_pool_keeps_a_pretrained_classifier_of_the_same_width():
    plain = cnnzoo.create_model("resnet20.cifar10", pretrained=True)
    pooled = cnnzoo.create_model("resnet20.cifar10", pretrained=True, global_pool="max")
    assert torch.equal(plain.get_classifier().weight, pooled.get_classifier().weight)
    x = _input("resnet20")
    with torch.no_grad():
        assert (pooled(x) - plain.get_classifier()(plain.forward_features(x).amax((2, 3)))).abs().max() < 1e-5


@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_grad_checkpointing_changes_nothing_but_memory(name):
    """Outputs, gradients and BatchNorm statistics equal to the plain model (dropout and drop-path on)."""
    torch.manual_seed(0)
    kwargs = dict(drop_rate=0.2) if name.startswith("densenet") else dict(drop_rate=0.2, drop_path_rate=0.1)
    plain = cnnzoo.create_model(name, **kwargs).train()
    ckpt = copy.deepcopy(plain)
    ckpt.set_grad_checkpointing()
    x = _input(name, batch=4)
    outs = []
    for model in (plain, ckpt):
        torch.manual_seed(1)
        out = model(x)
        out.square().mean().backward()
        outs.append(out)
    assert (outs[0] - outs[1]).abs().max().item() == 0.0
    assert max((p.grad - q.grad).abs().max().item() for p, q in zip(plain.parameters(), ckpt.parameters())) == 0.0
    assert all(torch.equal(a, b) for a, b in zip(plain.buffers(), ckpt.buffers()))


def _lr_by_param(model, groups):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: g["lr"] * g.get("lr_scale", 1.0) if "lr_scale" in g and g["lr"] == 1.0 else g["lr"]
            for g in groups for p in g["params"]}


def test_timm_layer_decay_gives_every_block_its_own_rate():
    model = cnnzoo.create_model("resnet20")
    opt = timm.optim.create_optimizer_v2(model, "sgd", lr=1.0, layer_decay=0.5)
    scale = {cnnzoo_name: g["lr_scale"] for g in opt.param_groups
             for cnnzoo_name, p in model.named_parameters() if any(p is q for q in g["params"])}
    # stem, 9 blocks (final joins the last), head: 11 depths, 0.5 ** (10 - depth)
    assert scale["stem.conv.weight"] == 0.5 ** 10
    assert scale["stages.0.0.conv1.conv.weight"] == 0.5 ** 9
    assert scale["stages.1.2.conv2.bn.weight"] == 0.5 ** 4
    assert scale["stages.2.2.conv2.conv.weight"] == 0.5 ** 1
    assert scale["head.fc.weight"] == scale["head.fc.bias"] == 1.0
    assert sorted(set(scale.values())) == [0.5 ** k for k in range(10, -1, -1)]


def test_group_matcher_names_densenet_parts():
    """Stage children with names (transition, block) are matched too: nothing but the head is left over."""
    model = cnnzoo.create_model("densenet_bc_52_k12")
    opt = timm.optim.create_optimizer_v2(model, "sgd", lr=1.0, layer_decay=0.5)
    scale = {n: g["lr_scale"] for g in opt.param_groups for n, p in model.named_parameters()
             if any(p is q for q in g["params"])}
    # stem, block 0, (transition, block) 1, (transition, block) 2 with final: 6 depths + head
    assert scale["stem.weight"] == 0.5 ** 6 and scale["stages.1.transition.conv.weight"] == 0.5 ** 4
    assert scale["stages.2.block.layers.0.conv1.weight"] == scale["final.bn.weight"] == 0.5 ** 1
    assert sorted(set(scale.values())) == [0.5 ** k for k in range(6, -1, -1)]


def test_cnnzoo_layer_decay_rates_per_part():
    model = cnnzoo.create_model("resnet20")
    groups = param_groups(model, lr=1.0, backbone_lr_mult=1.0, layer_decay=0.5)
    lr = {g["part"]: g["lr"] for g in groups}
    assert lr == {"stem": 0.5 ** 5, "stages.0": 0.5 ** 4, "stages.1": 0.5 ** 3, "stages.2": 0.5 ** 2, "head": 1.0}


def test_pretrained_cfg_is_complete_and_default_cfg_is_it():
    model = cnnzoo.create_model("resnet10.imagenette", pretrained=True)
    cfg = model.pretrained_cfg
    side = get_entry("resnet10.imagenette")["input_size"][-1]  # the published weight's input size
    assert model.default_cfg is cfg
    assert {k: cfg[k] for k in ("architecture", "tag", "input_size", "crop_mode", "first_conv", "classifier",
                                "pool_size", "num_classes", "fixed_input_size")} == dict(
        architecture="resnet10", tag="imagenette", input_size=(3, side, side), crop_mode="center",
        first_conv="stem.conv.conv", classifier="head.fc", pool_size=(side // 32, side // 32), num_classes=10,
        fixed_input_size=False)
    assert cfg["label_names"][:3] == ["tench", "English springer", "cassette player"]
    assert cfg["labels"][0] == "n01440764" and cfg["license"].startswith("Apache-2.0")


def test_listing_and_entrypoints():
    assert cnnzoo.list_pretrained("resnet20.*") == ["resnet20.cifar10"]
    shipped = cnnzoo.list_pretrained(importable=False)
    assert sorted(shipped) == sorted(f.name.removesuffix(".safetensors") for f in SHIPPED_FILES) and "resnet50.tv_in1k" in cnnzoo.list_pretrained() and "resnet50.tv_in1k" not in shipped
    assert cnnzoo.list_pretrained("resnet50.*", exclude="*tv2*") == ["resnet50.tv_in1k"]
    assert cnnzoo.is_model("resnet20") and cnnzoo.is_model("resnet20.cifar10") and not cnnzoo.is_model("resnet21")
    assert cnnzoo.model_entrypoint("resnet20") is cnnzoo.registry.get_model_spec("resnet20").fn
    assert cnnzoo.model_entrypoint("resnet20.cifar10")(num_classes=10).num_features == 64
    with pytest.raises(UnknownModelError, match="closest: .*resnet20"):
        cnnzoo.model_entrypoint("resnet21")


def test_checkpoint_path_and_pretrained_cfg_overlay(tmp_path):
    torch.manual_seed(0)
    mine = cnnzoo.create_model("resnet20", num_classes=3)
    path = tmp_path / "mine.safetensors"
    save_weights(mine.state_dict(), path, dict(arch="resnet20", tag="mine", num_classes=3, labels=["a", "b", "c"],
                                               input_size=[3, 32, 32], mean=[0.5] * 3, std=[0.25] * 3))
    loaded = cnnzoo.create_model("resnet20", checkpoint_path=path)
    assert loaded.num_classes == 3 and loaded.pretrained_cfg["labels"] == ["a", "b", "c"]
    assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(), loaded.state_dict().values()))
    overlaid = cnnzoo.create_model("resnet20", pretrained=True, pretrained_cfg_overlay=dict(file=str(path),
                                                                                             crop_pct=0.9))
    assert overlaid.num_classes == 3 and overlaid.pretrained_cfg["crop_pct"] == 0.9
    assert overlaid.pretrained_cfg["mean"] == (0.5, 0.5, 0.5)
    assert torch.equal(overlaid.get_classifier().weight, mine.get_classifier().weight)


def test_unknown_keyword_names_the_accepted_ones():
    with pytest.raises(InvalidArgumentError) as err:
        cnnzoo.create_model("resnet20", stem_widht=32)
    assert str(err.value) == (
        "create_model('resnet20') got an unknown keyword argument 'stem_widht'; it takes pretrained, num_classes, "
        "in_chans, drop_rate, drop_path_rate, act_layer, global_pool, features_only, out_indices, channels_last, "
        "pretrained_cfg_overlay, checkpoint_path and, for resnet20, attn_layer, base_width, depth, down_kernel_size, "
        "groups, reduce_first, strides, zero_init_last")
    with pytest.raises(InvalidArgumentError, match="for dpn29, final_act_layer, stem_kernel, strides$"):
        cnnzoo.create_model("dpn29", foo=1)


class _Branches(torch.nn.Sequential):
    """A stage whose children are not a chain (as NASNet's cells read two earlier outputs)."""

    def forward(self, x):
        return sum(child(x) for child in self)


def test_grad_checkpointing_keeps_a_stage_with_its_own_forward_whole():
    from cnnzoo.models._skeleton import ZooModel

    torch.manual_seed(0)
    conv = lambda: torch.nn.Conv2d(8, 8, 3, padding=1)  # noqa: E731
    model = ZooModel(torch.nn.Conv2d(3, 8, 3, padding=1), [_Branches(conv(), conv())],
                     [dict(num_chs=8, reduction=1)], num_features=8, num_classes=2)
    ckpt = copy.deepcopy(model)
    ckpt.set_grad_checkpointing()
    x = _input("resnet20")
    assert (model(x) - ckpt(x)).abs().max().item() == 0.0
