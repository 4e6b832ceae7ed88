"""Published figures a weight is compared with: paper, best public weight, leaderboard, or a note that none exists;
they reach the model card."""
from cnnzoo.hub.publishing.comparisons import NO_PAPER, comparison
from cnnzoo.hub.publishing.model_card import model_card


def test_resnet20_cifar10_has_paper_and_best_public_figure():
    comp = comparison("resnet20", "cifar10")
    assert comp["paper"] == dict(top1=91.25, source="He et al. 2015")
    assert comp["public"] == dict(top1=94.03, source="pytorchcv resnet20_cifar10")
    assert "note" not in comp and "leaderboard" not in comp


def test_small_variant_says_no_paper_figure_exists():
    assert comparison("dpn29", "cifar10") == dict(note=NO_PAPER)
    # a public weight's figure in the registry is not a paper's
    assert comparison("mobilenetv2_050_cifar", "cifar10") == dict(
        note=NO_PAPER, public=dict(top1=92.88, source="chenyaofo/pytorch-cifar-models cifar10_mobilenetv2_x0_5"))


def test_imagenette_weights_are_anchored_on_the_fastai_leaderboard():
    comp = comparison("resnet18", "imagenette")
    assert [c["top1"] for c in comp["leaderboard"]] == [91.57, 93.55]
    assert comp["note"] == NO_PAPER


def test_model_card_lists_the_comparison():
    info = dict(architecture="resnet20", input_size=[3, 32, 32], mean=[0.5] * 3, std=[0.25] * 3, num_classes=10, labels=list("abcdefghij"),
                sha256="0" * 64, metrics=dict(top1=91.0, split="test", n=10000),
                comparison=comparison("resnet20", "cifar10"))
    card = model_card("resnet20.cifar10", "org/resnet20.cifar10", "resnet", info)
    assert "- paper (He et al. 2015): 91.25%" in card
    assert "- best public weight (pytorchcv resnet20_cifar10): 94.03%" in card
    card = model_card("dpn29.cifar10", "org/dpn29.cifar10", "dpn", dict(info, comparison=comparison("dpn29", "cifar10")))
    assert f"- {NO_PAPER}" in card
