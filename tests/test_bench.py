"""The benchmark harness (figures it reports, not timings: those belong to benchmarks/) and the startup cost."""
import json
import subprocess
import sys

import pytest
import torch

import cnnzoo
from cnnzoo.factory import count_params
from cnnzoo.deploy.benchmark import BenchConfig, SideSpec, measure_cpu_memory_in_child, run_benchmark
from cnnzoo.cli import main as cli_main

HEAVY_MODULES = ["timm", "torchvision", "matplotlib", "huggingface_hub", "onnx", "onnxruntime"]


def bn_channels(model):
    return sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_side_by_side_with_torchvision_counts_the_same_network():
    cfg = BenchConfig("resnet18", compare="torchvision", batch=2, img_size=64, warmup=1, iters=3, rounds=2,
                      optimized=True, memory=False)
    result = run_benchmark(cfg)
    built, opt, tv = (result.side(s) for s in ("cnnzoo", "cnnzoo+opt", "torchvision"))
    reference = cnnzoo.create_model("resnet18")
    assert built.params == tv.params == count_params(reference) == 11_689_512
    # folding removes each BN's weight and bias and gives its conv a bias: one parameter per BN channel less
    assert opt.params == built.params - bn_channels(reference)
    assert built.gmacs == tv.gmacs == opt.gmacs
    assert abs(built.gmacs - 1.814 * (64 / 224) ** 2) < 0.01  # 1.814 GMACs at 224, scaling with the area
    assert [len(s.latencies_ms) for s in result.sides] == [3, 3, 3]
    assert all(s.p90_ms >= s.median_ms > 0 for s in result.sides)
    assert result.ratio("cnnzoo") == pytest.approx(tv.median_ms / built.median_ms)
    assert "cnnzoo / torchvision:" in result.format() and "folded 20 of 20" in result.format()


def test_cpu_peak_memory_probe_sees_the_activations():
    cfg = BenchConfig("resnet20", compare=None, batch=128, img_size=32)
    mb = measure_cpu_memory_in_child(SideSpec("cnnzoo", "resnet20"), cfg, 32)
    # The first stage alone holds 128 x 16 x 32 x 32 float32 maps of 8 MB each; less would mean a blind probe.
    one_map = 128 * 16 * 32 * 32 * 4 / 2 ** 20
    assert 2 * one_map <= mb < 40 * one_map


def test_json_cli_reports_the_model_alone(capsys):
    assert cli_main(["benchmark", "resnet20", "--compare", "none", "--batch", "4", "--warmup", "0",
                     "--iters", "2", "--rounds", "1", "--no-memory", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [s["label"] for s in record["sides"]] == ["cnnzoo"]
    assert record["sides"][0]["params"] == count_params(cnnzoo.create_model("resnet20"))
    assert record["sides"][0]["images_per_s"] == pytest.approx(4 / (record["sides"][0]["median_ms"] / 1000))
    assert record["img_size"] == 32 and record["machine"]["torch"] == torch.__version__


def test_bad_requests_name_the_value(capsys):
    with pytest.raises(cnnzoo.InvalidArgumentError, match="valid for inference only"):
        run_benchmark(BenchConfig("resnet18", mode="train", optimized=True))
    assert cli_main(["benchmark", "resnet20", "--compare", "timm"]) == 2
    err = capsys.readouterr().err
    assert "no timm equivalent is registered for 'resnet20'" in err and "resnet18" in err
    with pytest.raises(cnnzoo.InvalidArgumentError, match="batch must be an integer >= 1, got 0"):
        run_benchmark(BenchConfig("resnet20", batch=0))


@pytest.mark.parametrize("code", ["import cnnzoo", "from cnnzoo.cli import main; main(['list'])"])
def test_startup_imports_no_heavy_module(code):
    probe = f"import sys; {code}; print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
