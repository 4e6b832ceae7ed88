"""Fine-tuning helpers: freezing, BatchNorm handling, parameter groups, gradual unfreezing, for every family."""
import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.finetune import (FrozenBatchNorm2d, GradualUnfreezer, count_trainable, freeze, param_groups,
                             part_names, trainable_parameter_names, unfreeze)


def _smallest(family):
    return min(cnnzoo.list_models(family=family),
               key=lambda n: cnnzoo.factory.count_params(cnnzoo.factory.build_on_meta(n)))


FAMILY_MODELS = [_smallest(f) for f in cnnzoo.list_families()]
# those with BatchNorm (not AlexNet, VGG-11, SqueezeNet, nor BiT's GroupNorm ResNetV2)
BN_FAMILY_MODELS = [n for n in FAMILY_MODELS
                    if any(isinstance(m, nn.BatchNorm2d) for m in cnnzoo.factory.build_on_meta(n).modules())]


def _input(model):
    size = model.pretrained_cfg["input_size"][-1]
    return torch.randn(4, 3, min(size, 64), min(size, 64))


@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_freeze_backbone_leaves_only_head(name):
    model = cnnzoo.create_model(name, num_classes=6)
    freeze(model, "backbone")
    assert trainable_parameter_names(model) == ["head.fc.weight", "head.fc.bias"]
    assert count_trainable(model) == model.num_features * 6 + 6


@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_freeze_up_to_penultimate_stage(name):
    model = cnnzoo.create_model(name, num_classes=6)
    freeze(model, -2)
    last = f"stages.{len(model.stages) - 1}."
    expected = [n for n, _ in model.named_parameters() if n.startswith((last, "final.", "head."))]
    assert trainable_parameter_names(model) == expected and len(expected) > 2


@pytest.mark.parametrize("name", BN_FAMILY_MODELS)
def test_frozen_bn_keeps_statistics_in_train_mode(name):
    model = cnnzoo.create_model(name, num_classes=6)
    freeze(model, "backbone", bn="eval")
    before = {k: v.clone() for k, v in model.state_dict().items() if "running_" in k}
    model.train()
    model(_input(model)).sum().backward()
    after = model.state_dict()
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert changed == []
    # and a trainable stage's BN does update
    unfreeze(model, -1)
    model(_input(model))
    changed = [k for k, v in before.items() if not torch.equal(v, model.state_dict()[k])]
    assert changed and all(k.startswith((f"stages.{len(model.stages) - 1}.", "final.")) for k in changed)


@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_param_groups_cover_every_trainable_parameter_once(name):
    model = cnnzoo.create_model(name, num_classes=6)
    freeze(model, 0)
    groups = param_groups(model, lr=0.1, backbone_lr_mult=0.1, layer_decay=0.5, weight_decay=5e-4,
                          trainable_only=True)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in model.parameters() if p.requires_grad}
    head = [g for g in groups if g["part"] == "head"]
    assert {g["lr"] for g in head} == {0.1}
    last = f"stages.{len(model.stages) - 1}"
    assert {round(g["lr"], 8) for g in groups if g["part"] == last} == {round(0.1 * 0.1 * 0.5 ** 2, 8)}
    assert all(g["weight_decay"] == 0.0 for g in groups if all(p.ndim <= 1 for p in g["params"]))
    torch.optim.SGD(groups, lr=0.1)  # accepted by an optimizer as is


def test_frozen_batchnorm_conversion_matches_eval_bn():
    model = cnnzoo.create_model("resnet20").eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
        ref = model(x)
    freeze(model, "backbone", bn="frozen")
    frozen = [m for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert len(frozen) == 19  # stem + 2 per block
    with torch.no_grad():
        assert (model.train()(x) - ref).abs().max().item() < 1e-5


def test_gradual_unfreezing_schedule():
    model = cnnzoo.create_model("resnet20")
    unfreezer = GradualUnfreezer(model, every=2, start=1)
    seen = [unfreezer.step(epoch) for epoch in range(11)]
    assert seen == ["head", "final", "final", "stages.2", "stages.2", "stages.1", "stages.1", "stages.0",
                    "stages.0", "stem", "stem"]
    assert count_trainable(model) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("ref,message", [
    (3, r"stage 3 does not exist: this model has 3 stages"),
    ("stages.7", r"unknown stage 'stages.7'; valid: stem, stages.0"),
    ("middle", r"unknown stage 'middle'"),
])
def test_bad_stage_references(ref, message):
    with pytest.raises(InvalidArgumentError, match=message):
        freeze(cnnzoo.create_model("resnet20"), ref)


def test_part_names():
    assert part_names(cnnzoo.create_model("resnet50")) == ["stem", "stages.0", "stages.1", "stages.2",
                                                           "stages.3", "final", "head"]
