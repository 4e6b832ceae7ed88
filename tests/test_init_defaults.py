"""Initialisation defaults: CIFAR-size 6n+2 ResNets start their blocks' last BN at 1, ImageNet-size at 0."""
import cnnzoo


def _last_bn_scales(model) -> set[float]:
    return {round(block.conv2.bn.weight.abs().max().item(), 6) for stage in model.stages for block in stage}


def test_cifar_resnets_do_not_zero_init_the_last_bn():
    # zero-init cost ResNet-20 2.5 points after 15 epochs (docs/experiments/resnet20_ablation.jsonl)
    assert _last_bn_scales(cnnzoo.create_model("resnet20")) == {1.0}
    assert _last_bn_scales(cnnzoo.create_model("se_resnet20")) == {1.0}
    assert _last_bn_scales(cnnzoo.create_model("resnet20", zero_init_last=True)) == {0.0}
    # 600 blocks overflow an untrained eval-mode forward without it
    assert _last_bn_scales(cnnzoo.create_model("resnet1202")) == {0.0}


def test_imagenet_resnets_keep_timms_zero_init():
    assert _last_bn_scales(cnnzoo.create_model("resnet18")) == {0.0}
