"""The classic CNNs of the survey (issue 25): exact sizes against their references, the layers they brought
(Inception branches, Fire, NASNet cells with TF "SAME" padding, weight standardisation, the FC layers as convs),
and their ImageNet import entries. The contract, equivalence and parameter tests over every model cover them too."""
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision

import cnnzoo
from cnnzoo.factory import build_on_meta, count_params
from cnnzoo.hub.importers import imagenet
from cnnzoo.hub.importers.convert import convert_state_dict, create_reference_model, equivalents
from cnnzoo.layers.nasnet_cells import CellStage
from cnnzoo.layers.std_conv import StdConv2d
from cnnzoo.layers.tf_same import Conv2dSame, MaxPool2dSame, tf_same_pad
from cnnzoo.registry import get_model_spec

from helpers import randomize_
from hub_helpers import make_hub

# Exact counts at the default number of classes: torchvision's / timm's num_params where they have the network,
# else the reference implementation's (kuangliu/pytorch-cifar, Coderx7/SimpleNet_Pytorch, Cadene's NASNet-A Mobile).
EXACT = {
    "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248, "googlenet": 6_624_904, "inception_v3": 23_834_568, "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496, "mobilenetv1_100": 4_231_976, "nasnetalarge": 88_753_150, "nasnetamobile": 5_289_978,
    "inception_resnet_v2": 55_843_464, "resnetv2_50x1_bit": 25_549_352,
    "senet18_cifar": 11_260_354, "preact_resnet18_cifar": 11_171_146, "mobilenetv1_100_cifar": 3_217_226,
    "simplenet": 5_498_378, "res2next29_6cx24wx4scale": 23_613_482, "res2next29_8cx25wx4scale": 32_865_186,
}


@pytest.mark.parametrize("name,exact", EXACT.items())
def test_exact_parameter_counts(name, exact):
    assert count_params(build_on_meta(name)) == exact


@pytest.mark.parametrize("name", ["res2next29_6cx24wx4scale", "res2next29_8cx25wx4scale"])
def test_res2next29_matches_its_cifar100_figure(name):
    """Gao et al. report CIFAR-100 models; with 100 classes the count rounds to the reproduction's 23.71M /
    32.96M."""
    published = get_model_spec(name).reference["params_m_cifar100"]
    assert round(count_params(build_on_meta(name, num_classes=100)) / 1e6, 2) == published


def test_simplenet_conv_weights_are_the_papers_count():
    convs = [m for m in build_on_meta("simplenet").modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13 and sum(m.weight.numel() for m in convs) == 5_482_176  # the paper's 5.48M


def test_every_survey_architecture_is_registered_with_its_input_size():
    sizes = {n: get_model_spec(n).input_size[1:] for n in EXACT}
    assert sizes["inception_v3"] == sizes["inception_resnet_v2"] == (299, 299)
    assert sizes["nasnetalarge"] == (331, 331) and sizes["nasnetamobile"] == (224, 224)
    assert {n for n, s in sizes.items() if s == (32, 32)} == {
        "senet18_cifar", "preact_resnet18_cifar", "mobilenetv1_100_cifar", "simplenet", "res2next29_6cx24wx4scale",
        "res2next29_8cx25wx4scale"}


def test_tf_same_padding_puts_the_odd_pixel_last():
    x = torch.randn(1, 2, 7, 8)
    conv = Conv2dSame(2, 3, 3, 2, bias=False)
    # 7 rows: ceil(7/2)=4 outputs need 2 pad rows (1 + 1); 8 columns need 1, all on the right
    assert tf_same_pad(x, 3, 2).shape[-2:] == (9, 9)
    expected = F.conv2d(F.pad(x, (0, 1, 1, 1)), conv.weight, stride=2)
    assert torch.equal(conv(x), expected) and conv(x).shape[-2:] == (4, 4)
    assert MaxPool2dSame(3, 2)(-x.abs() - 1).max().item() < 0  # -inf padding never wins


def test_weight_standardisation_normalises_each_filter():
    conv = StdConv2d(4, 6, 3, eps=0.0)
    w = conv.standardized_weight().flatten(1)
    assert w.mean(1).abs().max().item() < 1e-6 and (w.var(1, unbiased=False) - 1).abs().max().item() < 1e-5


def test_nasnet_stage_needs_the_map_its_previous_stage_carries():
    model = cnnzoo.create_model("nasnetamobile").eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        s0 = model.stages[0](model.stem(x))
        assert s0.shape == (1, 44, 16, 16)
        assert model.stages[1](s0).shape == (1, 264, 8, 8)  # the stage-0 output carries the stem map
        with pytest.raises(RuntimeError, match="needs the map its previous stage carries"):
            model.stages[1](s0.clone())
    assert all(isinstance(s, CellStage) for s in model.stages)


def test_squeezenet_head_is_relu_of_pixel_logits_then_mean_and_pools_without_classes():
    model = randomize_(cnnzoo.create_model("squeezenet1_1", num_classes=5)).eval()
    feats = torch.randn(2, 512, 3, 3)
    with torch.no_grad():
        logits = model.forward_head(feats)
        conv = F.conv2d(feats, model.head.fc.weight[:, :, None, None], model.head.fc.bias)
        assert (logits - F.relu(conv).mean((2, 3))).abs().max().item() < 1e-5
        model.reset_classifier(0)
        assert torch.allclose(model.forward_head(feats), feats.mean((2, 3)))


@pytest.mark.parametrize("name,grid", [("vgg11", 7), ("alexnet", 6)])
def test_fully_connected_layers_see_a_fixed_grid_at_any_input_size(name, grid):
    model = build_on_meta(name)
    assert model.final.mlp.fc1.kernel_size == (grid, grid) and model.num_features == 4096
    assert model.final.mlp.pool.output_size == grid


@pytest.mark.parametrize("name", cnnzoo.list_models("vgg1[369]*"))
def test_deeper_vgg_converters_map_every_tensor(name):
    """Names and shapes of torchvision's state_dict, converted, are the model's (on the meta device: these are
    140M parameters each; vgg11 / vgg11_bn's logits are compared in test_equivalence.py with the same rules)."""
    eq = equivalents(name, "torchvision")[0]
    with torch.device("meta"):
        ref = create_reference_model(eq)
    converted = convert_state_dict(ref.state_dict(), name, "torchvision", model=build_on_meta(name))
    assert len(converted) == len(ref.state_dict())


def test_imagenet_import_entries_of_the_survey():
    names = imagenet.importable_names()
    wanted = {"alexnet.tv_in1k", "googlenet.tv_in1k", "inception_v3.tv_in1k", "squeezenet1_0.tv_in1k",
              "squeezenet1_1.tv_in1k", "inception_resnet_v2.timm_in1k", "nasnetalarge.timm_in1k",
              "resnetv2_50x1_bit.timm_in1k", *[f"vgg{d}{bn}.tv_in1k" for d in (11, 13, 16, 19) for bn in ("", "_bn")]}
    assert wanted <= set(names)
    googlenet = imagenet.describe_source(imagenet.get_source("googlenet", "tv_in1k"))
    assert googlenet["mean"] == googlenet["std"] == [0.5, 0.5, 0.5] and googlenet["metrics"]["top1"] == 69.778
    bit = imagenet.describe_source(imagenet.get_source("resnetv2_50x1_bit", "timm_in1k"))
    assert bit["input_size"] == [3, 448, 448] and bit["metrics"]["top1"] == 80.340


def test_googlenet_import_reproduces_torchvision_with_its_input_transform(tmp_path, monkeypatch):
    """torchvision's ImageNet GoogLeNet re-normalises its input inside (transform_input=True); the imported
    weight asks for (x - 0.5) / 0.5 instead, which gives the same logits on the same image."""
    make_hub(tmp_path, monkeypatch)
    ref = randomize_(torchvision.models.googlenet(aux_logits=True, transform_input=True, init_weights=False)).eval()
    path = tmp_path / "googlenet.pth"
    torch.save(ref.state_dict(), path)  # with aux1/aux2, as torchvision's file
    imagenet.import_weights("googlenet", "tv_in1k", source_file=path)
    model = cnnzoo.create_model("googlenet.tv_in1k", pretrained=True).eval()
    cfg = model.pretrained_cfg
    image = torch.rand(2, 3, 64, 80)
    imagenet_mean, imagenet_std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    with torch.no_grad():
        theirs = ref((image - imagenet_mean[:, None, None]) / imagenet_std[:, None, None])
        ours = model((image - torch.tensor(cfg["mean"])[:, None, None]) / torch.tensor(cfg["std"])[:, None, None])
    assert (ours - theirs).abs().max().item() < 1e-4 * max(1.0, theirs.abs().max().item())
    assert math.isclose(cfg["metrics"]["top1"], 69.778)
