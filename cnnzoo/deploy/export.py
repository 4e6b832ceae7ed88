"""Export to ONNX (run it with onnxruntime) or TorchScript.

The model is exported in eval mode with a fixed image size and a dynamic batch dimension. The format follows
the file name (``.onnx``; ``.pt``/``.pth``/``.ts``/``.torchscript``): a name that says another format is refused
before anything is built, so a ``.onnx`` file never holds TorchScript. The input check of
``ZooModel`` is skipped while tracing, so the graph holds only the network. Files are written under a temporary
name and renamed, so a failed export leaves nothing behind.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import InvalidArgumentError
from .optimize import optimize_for_inference

FORMATS = ("onnx", "torchscript")
DEFAULT_OPSET = 17
EXTENSIONS = {"onnx": (".onnx",), "torchscript": (".pt", ".pth", ".ts", ".torchscript")}


def format_for(out: str | os.PathLike) -> str:
    """The export format a file name asks for (``.onnx`` -> onnx, ``.pt`` -> torchscript, ...)."""
    suffix = Path(out).suffix.lower()
    for fmt, suffixes in EXTENSIONS.items():
        if suffix in suffixes:
            return fmt
    raise InvalidArgumentError(f"cannot tell the export format from {Path(out).name!r}; name the file "
                               f"{_names(Path(out))} or pass the format")


def _names(out: Path, fmt: str | None = None) -> str:
    suffixes = EXTENSIONS[fmt] if fmt else [s for group in EXTENSIONS.values() for s in group]
    return " or ".join(out.with_suffix(s).name for s in suffixes)


def check_extension(out: str | os.PathLike, fmt: str) -> None:
    """A file named for another format (``model.pt`` as ONNX) would be opened with the wrong reader later."""
    suffix = Path(out).suffix.lower()
    if suffix not in EXTENSIONS[fmt]:
        raise InvalidArgumentError(f"{Path(out).name!r} does not look like a {fmt} file; name it "
                                   f"{_names(Path(out), fmt)}, or choose the format its extension names")


def _example_input(model: nn.Module, img_size: int | None, batch: int = 1) -> torch.Tensor:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    c, h, w = cfg.get("input_size", (getattr(model, "in_chans", 3), 224, 224))
    if img_size is not None:
        if img_size < 8:
            raise InvalidArgumentError(f"img_size must be >= 8, got {img_size}")
        h = w = img_size
    param = next(model.parameters())
    return torch.randn(batch, c, h, w, device=param.device, dtype=param.dtype)


def _atomic_target(out: str | os.PathLike):
    """A temporary path beside ``out``; the caller renames it into place."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the export should get the usual permissions
    return out, Path(tmp)


def export_onnx(model: nn.Module, out: str | os.PathLike, img_size: int | None = None,
                opset: int = DEFAULT_OPSET, dynamic_batch: bool = True, dynamo: bool = False) -> Path:
    """Write ``model`` as an ONNX file with input ``input`` (N, C, H, W) and output ``output``.

    ``dynamo=False`` uses the TorchScript-based exporter, which needs only ``onnx``; ``dynamo=True`` uses the
    torch.export-based one, which also needs ``onnxscript``.
    """
    check_extension(out, "onnx")  # the format follows the file name, whichever function writes it
    model = model.eval()
    x = _example_input(model, img_size, batch=2)
    out, tmp = _atomic_target(out)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning, UserWarning))
            if dynamo:
                shapes = {"x": {0: torch.export.Dim("batch")}} if dynamic_batch else None
                program = torch.onnx.export(model, (x,), dynamo=True, opset_version=opset, dynamic_shapes=shapes,
                                            input_names=["input"], output_names=["output"])
                program.save(str(tmp))
            else:
                axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
                torch.onnx.export(model, (x,), str(tmp), dynamo=False, opset_version=opset, dynamic_axes=axes,
                                  input_names=["input"], output_names=["output"], do_constant_folding=True)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def export_torchscript(model: nn.Module, out: str | os.PathLike, img_size: int | None = None) -> Path:
    """Trace ``model`` into a TorchScript module (control flow is fixed at trace time; the batch size is not)."""
    check_extension(out, "torchscript")
    model = model.eval()
    x = _example_input(model, img_size, batch=2)
    out, tmp = _atomic_target(out)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
            traced = torch.jit.trace(model, x, check_trace=False)  # callers compare outputs themselves
            traced.save(str(tmp))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def export_model(model: nn.Module, out: str | os.PathLike, format: str = "onnx", img_size: int | None = None,
                 optimize: bool = False, **kwargs) -> Path:
    """Export to ``format`` ("onnx" or "torchscript"); ``optimize`` folds BatchNorm first."""
    if format not in FORMATS:
        raise InvalidArgumentError(f"unknown export format {format!r}; valid: {', '.join(FORMATS)}")
    check_extension(out, format)
    if optimize:
        model = optimize_for_inference(model, channels_last=False)
    if format == "onnx":
        return export_onnx(model, out, img_size, **kwargs)
    return export_torchscript(model, out, img_size)
