"""The published figures a cnnzoo weight is compared with: the architecture's paper, and the best public weight
or leaderboard entry for the same data. Quoted from their sources (test top-1 on the original CIFAR-10 pixels,
or Imagenette validation top-1). Paper figures are the registry's (a model's ``reference``, ``top1_<dataset>``);
the public weights and leaderboards are listed here. ``register`` copies them into the weight's index entry, from which the model
card and docs/model_zoo.md are generated. Where no paper reports the architecture on the dataset (cnnzoo's own
small variants, or architectures whose papers evaluate on ImageNet only) the entry says so.
"""
from __future__ import annotations

from ...registry import get_model_spec

BEST_PUBLIC = {
    ("resnet20", "cifar10"): [(92.60, "chenyaofo/pytorch-cifar-models cifar10_resnet20"),
                              (94.03, "pytorchcv resnet20_cifar10")],
    ("resnet56", "cifar10"): [(94.37, "chenyaofo/pytorch-cifar-models cifar10_resnet56"),
                              (95.48, "pytorchcv resnet56_cifar10")],
    ("se_resnet20", "cifar10"): [(93.99, "pytorchcv seresnet20_cifar10")],
    ("mobilenetv2_050_cifar", "cifar10"): [(92.88, "chenyaofo/pytorch-cifar-models cifar10_mobilenetv2_x0_5")],
}
# fast.ai's Imagenette leaderboard at 128 px (random init, imagenette2 split, full-size images resized): the
# anchor for any Imagenette weight, whatever its architecture.
LEADERBOARDS = {
    "imagenette": [(91.57, "fast.ai Imagenette leaderboard, 128 px, 20 epochs (mean of 5)"),
                   (93.55, "fast.ai Imagenette leaderboard, 128 px, 80 epochs")],
}
NO_PAPER = "no paper reports this architecture on this dataset"


def comparison(arch: str, dataset: str) -> dict:
    """``{paper, public, leaderboard, note}`` for a weight of ``arch`` trained on the named ``dataset``."""
    out: dict = {}
    ref = get_model_spec(arch).reference
    if f"top1_{dataset}" in ref:
        out["paper"] = dict(top1=ref[f"top1_{dataset}"], source=ref["source"])
    else:
        out["note"] = NO_PAPER
    public = BEST_PUBLIC.get((arch, dataset))
    if public:
        top1, source = max(public)
        out["public"] = dict(top1=top1, source=source)
    if dataset in LEADERBOARDS:
        out["leaderboard"] = [dict(top1=t, source=s) for t, s in LEADERBOARDS[dataset]]
    return out
