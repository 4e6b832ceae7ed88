"""Importing torchvision / timm ImageNet weights, offline from a local state_dict file."""
import pickle

import pytest
import torch

import cnnzoo
from cnnzoo.errors import UnknownTagError, UnsafeWeightsError, WeightIntegrityError, WeightsNotFoundError
from cnnzoo.hub.importers import imagenet

from helpers import randomize_
from hub_helpers import files_under, make_hub


@pytest.fixture
def hub(tmp_path, monkeypatch):
    return make_hub(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def tv_resnet18_file(tmp_path_factory):
    import torchvision

    ref = randomize_(torchvision.models.resnet18(), seed=3).eval()
    path = tmp_path_factory.mktemp("tv") / "resnet18-random.pth"
    torch.save(ref.state_dict(), path)
    return path, ref


def test_import_from_file_gives_torchvision_logits(hub, tv_resnet18_file):
    path, ref = tv_resnet18_file
    from cnnzoo.cli import main

    assert main(["import", "resnet18.tv_in1k", "--from", str(path)]) == 0
    assert files_under(hub.cache) == ["imagenet/resnet18.tv_in1k.json", "imagenet/resnet18.tv_in1k.safetensors"]
    model = cnnzoo.create_model("resnet18.tv_in1k", pretrained=True).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ours, theirs = model(x), ref(x)
    # relative: our channels_last layout sums in another order than torchvision's NCHW
    assert (ours - theirs).abs().max().item() < 1e-4 * max(1.0, theirs.abs().max().item())
    cfg = model.pretrained_cfg
    assert cfg["source"] == "cnnzoo cache (imported)" and cfg["labels"][0] == "tench" and len(cfg["labels"]) == 1000
    assert cfg["metrics"]["top1"] == 69.758 and cfg["metrics"]["top5"] == 89.078  # torchvision's published figures
    assert cfg["interpolation"] == "bilinear" and cfg["crop_pct"] == 0.875
    # and the cached file is verified on load like any indexed weight
    cached = hub.cache / "imagenet" / "resnet18.tv_in1k.safetensors"
    data = bytearray(cached.read_bytes())
    data[-3] ^= 0x01
    cached.write_bytes(bytes(data))
    with pytest.raises(WeightIntegrityError, match="sha256 mismatch"):
        cnnzoo.create_model("resnet18", pretrained="tv_in1k")


def test_wrong_checkpoint_is_refused_and_nothing_cached(hub, tmp_path):
    import torchvision

    path = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34().state_dict(), path)
    with pytest.raises(WeightIntegrityError, match=r"unexpected \(\d+\): stages\.0\.2\.conv1"):
        imagenet.import_weights("resnet18", "tv_in1k", source_file=path)
    assert files_under(hub.cache) == []


class _Payload:  # unpickling this would call a function: weights_only refuses it
    def __reduce__(self):
        return (print, ("code ran",))


def test_code_executing_pickle_is_refused(hub, tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": _Payload()}, f, protocol=2)
    with pytest.raises(UnsafeWeightsError, match="cannot be read without executing code"):
        imagenet.import_weights("resnet18", "tv_in1k", source_file=path)
    assert "code ran" not in capsys.readouterr().out and files_under(hub.cache) == []


def test_offline_without_cache_explains_how(hub):
    with pytest.raises(WeightsNotFoundError) as info:
        cnnzoo.create_model("resnet34.tv_in1k", pretrained=True)
    msg = str(info.value)
    assert "skipped (offline" in msg and "cnnzoo import resnet34.tv_in1k --from FILE" in msg
    assert "https://download.pytorch.org/models/resnet34-" in msg
    assert files_under(hub.cache) == []


def test_table_rows_exist_in_their_libraries():
    from torchvision.models import get_model_weights
    from timm.models import get_pretrained_cfg
    from cnnzoo.hub.importers.convert import find_equivalent

    names = imagenet.importable_names()
    for wanted in ("resnet50.tv_in1k", "resnext50_32x4d.tv2_in1k", "densenet121.tv_in1k", "efficientnet_b0.tv_in1k",
                   "seresnext50_32x4d.timm_in1k", "dpn92.timm_in1k"):
        assert wanted in names
    for name in names:
        src = imagenet.get_source(*name.split("."))
        eq = find_equivalent(src.arch, src.library)
        if src.library == "torchvision":
            assert src.weight in get_model_weights(eq.name).__members__, name
        else:
            assert get_pretrained_cfg(f"{eq.name}.{src.weight}") is not None, name
            assert 60 < src.top1 < 90 and src.top1 < src.top5 < 100
    with pytest.raises(UnknownTagError, match="resnet18.tv2_in1k is not an importable ImageNet weight; for resnet18: "
                                              "resnet18.tv_in1k"):
        imagenet.get_source("resnet18", "tv2_in1k")


def test_legacy_torchvision_densenet_keys_are_renamed():
    t = torch.zeros(1)
    state = {"features.denseblock1.denselayer2.norm.1.running_var": t,
             "features.denseblock1.denselayer2.conv.2.weight": t,
             "features.transition1.norm.weight": t, "features.denseblock3.denselayer1.norm1.bias": t}
    assert sorted(imagenet.undo_legacy_densenet_keys(state)) == [
        "features.denseblock1.denselayer2.conv2.weight", "features.denseblock1.denselayer2.norm1.running_var",
        "features.denseblock3.denselayer1.norm1.bias", "features.transition1.norm.weight"]
