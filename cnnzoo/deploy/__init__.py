"""Deployment: side-by-side benchmark harness (``benchmark``), BatchNorm folding and inference optimisation
(``optimize``), ONNX / TorchScript export (``export``)."""
