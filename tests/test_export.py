"""Exported ONNX (run by onnxruntime) and TorchScript models give the eager model's outputs."""
import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.cli import main as cli_main
from cnnzoo.deploy.export import export_model
from helpers import randomize_

# One model per family that exists, at a small input (name -> image size).
CANDIDATES = {"resnet20": 32, "seresnet18": 64, "preact_resnet20": 32, "densenet_bc_52_k12": 32,
              "dpn26": 32, "mobilenetv2_050_cifar": 32, "efficientnet_b0": 64}
MODELS = [(n, s) for n, s in CANDIDATES.items() if cnnzoo.is_model(n)]


def eager(name):
    model = randomize_(cnnzoo.create_model(name)).eval()
    return model


@pytest.mark.parametrize("name,size", MODELS)
def test_onnx_matches_eager(name, size, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = eager(name)
    path = export_model(model, tmp_path / f"{name}.onnx", "onnx", img_size=size)
    x = torch.randn(3, 3, size, size)  # batch 3: exported with 2, so the batch axis must be dynamic
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() / max(1.0, np.abs(expected).max()) < 1e-4


@pytest.mark.parametrize("name,size", MODELS)
def test_torchscript_matches_eager(name, size, tmp_path):
    model = eager(name)
    path = export_model(model, tmp_path / f"{name}.pt", "torchscript", img_size=size)
    x = torch.randn(3, 3, size, size)
    loaded = torch.jit.load(str(path))
    # the profiling executor would re-optimise over the first calls (slow, and not what is being tested)
    with torch.no_grad(), torch.jit.optimized_execution(False):
        diff = (loaded(x) - model(x)).abs().max() / model(x).abs().max().clamp_min(1.0)
    assert diff.item() < 1e-4


def test_onnx_of_optimized_model_matches(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = eager("resnet20")
    path = export_model(model, tmp_path / "r20.onnx", "onnx", optimize=True)
    import onnx

    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "BatchNormalization" not in ops  # folded before export
    x = torch.randn(2, 3, 32, 32)
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.abs(got - expected).max() / max(1.0, np.abs(expected).max()) < 1e-4


def test_cli_export_writes_file_and_rejects_bad_format(tmp_path, capsys):
    out = tmp_path / "sub" / "resnet20.onnx"
    assert cli_main(["export", "resnet20", str(out), "--format", "onnx"]) == 0
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(str(out)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert (graph.input[0].name, dims) == ("input", ["batch", 3, 32, 32])  # the model's size, dynamic batch
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(SystemExit):
        cli_main(["export", "resnet20", str(tmp_path / "x"), "--format", "tflite"])
    assert "invalid choice: 'tflite'" in capsys.readouterr().err


def test_unknown_format_error_names_the_valid_ones(tmp_path):
    with pytest.raises(cnnzoo.InvalidArgumentError, match=r"unknown export format 'tflite'; valid: onnx, torchscript"):
        export_model(cnnzoo.create_model("resnet20"), tmp_path / "x", "tflite")
    assert list(tmp_path.iterdir()) == []
