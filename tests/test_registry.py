"""Registry, create_model arguments and their errors, model_info, the CLI's list/info, torch.hub."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.errors import InvalidArgumentError, UnknownModelError

REPO = Path(__file__).resolve().parents[1]


def test_list_models_wildcards():
    assert cnnzoo.list_models("resnet5*") == ["resnet50", "resnet56"]
    assert "resnext29_8x64d" in cnnzoo.list_models("resnext29_*")
    assert set(cnnzoo.list_models(["resnet18", "wrn*"])) == {"resnet18", "wrn16_8", "wrn28_10"}
    assert all("." not in n and n == n.lower() for n in cnnzoo.list_models())
    cifar = cnnzoo.list_models(size="cifar")
    assert "resnet20" in cifar and "resnet50" not in cifar


def test_unknown_model_suggests_closest():
    with pytest.raises(UnknownModelError, match=r"unknown model 'resnet51'; closest: .*resnet50"):
        cnnzoo.create_model("resnet51")
    with pytest.raises(KeyError):  # also a KeyError
        cnnzoo.model_info("no_such_net")


@pytest.mark.parametrize("kwargs,message", [
    (dict(num_classes=-1), "num_classes must be an integer >= 0 .* got -1"),
    (dict(num_classes=2.5), "num_classes must be an integer >= 0 .* got 2.5"),
    (dict(in_chans=0), "in_chans must be an integer >= 1, got 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        cnnzoo.create_model("resnet20", **kwargs)


def test_create_model_arguments():
    m = cnnzoo.create_model("resnet20", num_classes=100, drop_rate=0.3, drop_path_rate=0.1)
    assert m.num_classes == 100 and m.head.drop.p == 0.3
    rates = [b.drop_path.drop_prob for s in m.stages for b in s if hasattr(b.drop_path, "drop_prob")]
    assert rates[-1] == pytest.approx(0.1) and rates == sorted(rates)
    assert m.pretrained_cfg["input_size"] == (3, 32, 32)


def test_model_info():
    info = cnnzoo.model_info("resnet56")
    assert info["family"] == "resnet" and info["size"] == "cifar"
    assert info["params"] == 853_018
    assert info["input_size"] == (3, 32, 32)
    assert info["reference"]["top1_cifar10"] == 93.03
    assert info["gmacs"] == pytest.approx(0.126, abs=0.002)  # 125.75M MACs (pytorchcv reports 125.49M)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cnnzoo.cli", *args], capture_output=True, text=True, cwd=REPO)


def test_cli_list_and_info():
    r = _cli("list", "wrn*")
    assert r.returncode == 0 and r.stdout.split() == ["wrn16_8", "wrn28_10"]
    r = _cli("info", "resnet20")
    assert r.returncode == 0 and "269,722" in r.stdout


def test_cli_errors_without_traceback():
    r = _cli("info", "resnet2000")
    assert r.returncode == 2
    assert "unknown model 'resnet2000'" in r.stderr and "Traceback" not in r.stderr


def test_torch_hub_local():
    model = torch.hub.load(str(REPO), "resnet20", source="local", num_classes=10)
    assert sum(p.numel() for p in model.parameters()) == 269_722
    import importlib.util

    spec = importlib.util.spec_from_file_location("hubconf", REPO / "hubconf.py")
    hubconf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hubconf)
    entries = {n for n in dir(hubconf) if not n.startswith("_") and callable(getattr(hubconf, n))}
    assert set(cnnzoo.list_models()) == entries


def test_import_is_light():
    code = ("import sys, cnnzoo; cnnzoo.list_models(); "
            "heavy = [m for m in ('timm', 'torchvision', 'matplotlib', 'huggingface_hub', 'onnx') if m in sys.modules];"
            "print(','.join(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""
