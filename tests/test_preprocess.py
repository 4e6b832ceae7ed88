"""cnnzoo.data's preprocessing for a weight gives the tensor timm's gives: resolve_data_config, create_transform and
the one-call prepare_image, on non-square images, for CIFAR-size, Imagenette and ImageNet configurations."""
import pytest
import timm.data
import torch
from PIL import Image

import cnnzoo
from cnnzoo.data import create_transform, prepare_image, resolve_data_config
from cnnzoo.errors import InvalidArgumentError
from cnnzoo.hub.index import get_entry

CONFIGS = {  # name -> create_model arguments
    "resnet20.cifar10": dict(pretrained=False),  # the data config of the architecture: 32 px, crop_pct 1
    "resnet10.imagenette": dict(pretrained=False),
    "resnet50": dict(pretrained=False),
    "mobilenetv2_100": dict(pretrained=False, pretrained_cfg_overlay=dict(interpolation="bilinear", crop_pct=0.95,
                                                                          crop_mode="squash")),
}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A 203 x 150 RGB image with structure in both directions (resizing and cropping both matter)."""
    g = torch.Generator().manual_seed(0)
    pixels = (torch.rand(150, 203, 3, generator=g) * 255).to(torch.uint8)
    pixels[:, :101] //= 2
    path = tmp_path_factory.mktemp("img") / "wide.png"
    Image.fromarray(pixels.numpy()).save(path)
    return path


@pytest.mark.parametrize("name", CONFIGS)
def test_same_tensor_as_timm(name, image):
    model = cnnzoo.create_model(name, **CONFIGS[name])
    ours_cfg = resolve_data_config(model=model)
    assert ours_cfg == timm.data.resolve_data_config(model=model)
    pil = Image.open(image).convert("RGB")
    theirs = timm.data.create_transform(**timm.data.resolve_data_config(model=model))(pil)
    ours = create_transform(**ours_cfg)(pil)
    assert ours.shape == theirs.shape == (3, *model.pretrained_cfg["input_size"][1:])
    assert (ours - theirs).abs().max().item() == 0.0
    batch = prepare_image(image, model)
    assert batch.shape == (1, *theirs.shape) and (batch[0] - theirs).abs().max().item() == 0.0


def test_weight_config_and_overrides():
    model = cnnzoo.create_model("resnet10.imagenette", pretrained=True)
    side = get_entry("resnet10.imagenette")["input_size"][-1]  # the published weight's input size
    assert resolve_data_config(model=model) == dict(input_size=(3, side, side), interpolation="bicubic",
                                                    mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                                                    crop_pct=0.875, crop_mode="center")
    args = dict(img_size=96, mean=(0.5,), crop_pct=1.0)
    assert resolve_data_config(args, model=model) == timm.data.resolve_data_config(args, model=model)
    with pytest.raises(InvalidArgumentError, match=r"std needs 1 or 3 values \(one per input channel\), got "
                                                   r"\(0.5, 0.5\)"):
        resolve_data_config(dict(std=(0.5, 0.5)), model=model)


def test_prepare_image_feeds_the_model():
    model = cnnzoo.create_model("resnet20.cifar10", pretrained=True).eval()
    path = cnnzoo.data.sample_dir() / "test/cat/0016.jpg"
    with torch.no_grad():
        probs = model(prepare_image(path, model)).softmax(1)[0]
    assert model.pretrained_cfg["labels"][int(probs.argmax())] == "cat"
