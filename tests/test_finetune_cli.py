"""`cnnzoo finetune` end to end on a small real subset of Intel Image Classification (Kaggle layout), the
strategies' effect on the saved weight, and bad input (each error names the value and changes nothing on disk)."""
import json
import os

import pytest
import torch
from PIL import Image

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.errors import DataError, InvalidArgumentError
from cnnzoo.finetune import finetune
from cnnzoo.hub.files.io import read_metadata, save_weights, sha256_file

from conftest import require_data
from hub_helpers import make_hub

INTEL_CLASSES = ["buildings", "forest", "glacier", "mountain", "sea", "street"]


@pytest.fixture(scope="module")
def intel_kaggle(tmp_path_factory):
    """seg_train/seg_train/<class> (16 a class) and seg_test/seg_test/<class> (6 a class), linked from the real
    data."""
    src = require_data("intel_image")
    root = tmp_path_factory.mktemp("intel") / "intel-image-classification"
    for split, kaggle, n in (("train", "seg_train", 16), ("test", "seg_test", 6)):
        for cls in INTEL_CLASSES:
            folder = root / kaggle / kaggle / cls
            folder.mkdir(parents=True)
            for f in sorted(os.listdir(src / split / cls))[:n]:
                os.symlink(src / split / cls / f, folder / f)
    return root


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A private index with the random-init weight resnet20.testdata on $CNNZOO_WEIGHTS; caches in tmp."""
    h = make_hub(tmp_path, monkeypatch)
    monkeypatch.setenv("CNNZOO_WEIGHTS", str(h.store))
    return h


def _synthetic(root, classes, n=6, sizes=((20, 20),), modes=("RGB",)):
    """<root>/train/<class>/<i>.png with the given sizes and modes (cycled), a distinct colour per class."""
    for c, cls in enumerate(classes):
        folder = root / "train" / cls
        folder.mkdir(parents=True)
        for i in range(n):
            size, mode = sizes[i % len(sizes)], modes[i % len(modes)]
            img = Image.new("RGB", size, ((80 * c) % 256, (40 * i) % 256, 255 - 60 * c % 256)).convert(mode)
            img.save(folder / f"{i}.{'jpg' if mode == 'CMYK' else 'png'}")  # PNG has no CMYK
    return root


def _max_diff(a, b, prefix):
    keys = [k for k in a if k.startswith(prefix) and a[k].is_floating_point()]
    assert keys, prefix
    return max((a[k].double() - b[k].double()).abs().max().item() for k in keys)


def test_finetune_cli_writes_a_weight_that_loads_evaluates_and_predicts(intel_kaggle, hub, tmp_path, capsys):
    out = tmp_path / "ft"
    code = main(["finetune", "resnet20.testdata", "--data", str(intel_kaggle), "--strategy", "last-stage",
                 "--epochs", "1", "--img-size", "32", "--batch-size", "32", "--precision", "fp32", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "fine-tuned (last-stage)" in printed and "per-class test: buildings" in printed

    weight = out / "model.safetensors"
    meta = read_metadata(weight)
    assert meta["arch"] == "resnet20" and meta["labels"] == INTEL_CLASSES and meta["num_classes"] == 6
    assert meta["base_weight"]["name"] == "resnet20.testdata" and meta["base_weight"]["sha256"] == hub.sha256
    assert meta["input_size"] == [3, 32, 32] and meta["crop_pct"] == 1.0
    assert meta["dataset"]["counts"] == {"train": 77, "val": 19, "test": 36}  # 96 train: 20% carved, seeded
    assert meta["metrics"]["split"] == "test" and meta["metrics"]["n"] == 36
    sha = sha256_file(weight)
    card = (out / "README.md").read_text()
    assert f"file sha256: `{sha}`" in card and "base_model: resnet20.testdata" in card
    for name in ("loss.png", "accuracy.png", "confusion_val.png", "confusion_test.png", "per_class.csv"):
        assert (out / name).stat().st_size > 0, name
    rows = (out / "per_class.csv").read_text().splitlines()
    assert rows[0] == "split,class,images,correct,accuracy" and len(rows) == 1 + 2 * 6
    assert json.loads((out / "summary.json").read_text())["sha256"] == sha

    # the strategy froze stem .. stages.1 (weights and BN statistics) and trained stages.2 and the head
    model = cnnzoo.create_model("resnet20", pretrained=str(out))  # the folder works as well as the file
    state = model.state_dict()
    assert _max_diff(state, hub.state, "stem.") == 0.0 and _max_diff(state, hub.state, "stages.1.") == 0.0
    assert _max_diff(state, hub.state, "stages.2.") > 0.0
    assert model.num_classes == 6 and model.pretrained_cfg["labels"] == INTEL_CLASSES

    assert main(["eval", "resnet20", "--weights", str(weight), "--data", str(intel_kaggle), "--split", "test",
                 "--precision", "fp32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 36 and result["top1"] == pytest.approx(meta["metrics"]["top1"], abs=1e-9)

    image = sorted((intel_kaggle / "seg_test" / "seg_test" / "sea").iterdir())[0]
    assert main(["predict", "resnet20", str(image), "--weights", str(out), "--topk", "2", "--json"]) == 0
    (pred,) = json.loads(capsys.readouterr().out)
    assert len(pred["topk"]) == 2 and {label for label, _ in pred["topk"]} <= set(INTEL_CLASSES)


def test_head_strategy_trains_only_the_head_and_reads_odd_images(tmp_path, monkeypatch):
    """Mixed sizes and modes (L, RGBA, P, CMYK) and class names that are not identifiers work; frozen BN is saved
    under BatchNorm2d's keys, so the weight loads into a plain model; only head.fc differs from the start."""
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    classes = ["3 sea-side", "café", "forest (dense)"]
    data = _synthetic(tmp_path / "odd", classes, n=8, sizes=((20, 20), (40, 24), (17, 33)),
                      modes=("RGB", "L", "RGBA", "P", "CMYK"))
    start = cnnzoo.create_model("resnet20")
    base = tmp_path / "base.safetensors"
    save_weights(start.state_dict(), base, dict(arch="resnet20", tag="rand", num_classes=10,
                                               labels=[str(i) for i in range(10)], input_size=[3, 32, 32],
                                               mean=[0.5] * 3, std=[0.25] * 3))
    summary = finetune("resnet20", data, "head", pretrained=base, epochs=1, img_size=16, batch_size=8,
                       out=tmp_path / "run", precision="fp32", val_size=0.25)
    assert summary["classes"] == sorted(classes) and summary["counts"] == {"train": 18, "val": 6}
    assert summary["metrics"]["split"] == "val" and summary["finetune"]["trainable_params"] == 64 * 3 + 3
    model = cnnzoo.create_model("resnet20", pretrained=tmp_path / "run" / "model.safetensors")
    body = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    assert max((v.double() - start.state_dict()[k].double()).abs().max().item()
               for k, v in body.items() if v.is_floating_point()) == 0.0
    assert model.pretrained_cfg["mean"] == (0.5, 0.5, 0.5)  # the weight's normalisation, not the registry's
    from cnnzoo.engine.predict import predict

    (pred,) = predict(model, [next((data / "train" / "café").iterdir())], topk=3)
    assert sorted(label for label, _ in pred["topk"]) == sorted(classes)


def test_gradual_strategy_releases_stages_on_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))
    data = _synthetic(tmp_path / "d", ["a", "b"], n=8)
    start = cnnzoo.create_model("resnet20")
    base = tmp_path / "base.safetensors"
    save_weights(start.state_dict(), base, dict(arch="resnet20", tag="rand", num_classes=10,
                                               labels=[str(i) for i in range(10)], input_size=[3, 32, 32],
                                               mean=[0.5] * 3, std=[0.25] * 3))
    # epoch 0: head; 1: final (parameter-free in resnet20); 2: stages.2
    finetune("resnet20", data, "gradual", pretrained=base, epochs=3, img_size=16, batch_size=8, out=tmp_path / "run",
             precision="fp32", val_size=4)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["trainable_from"] for r in records if r.get("kind") == "epoch"] == ["head", "final", "stages.2"]
    state = cnnzoo.create_model("resnet20", pretrained=tmp_path / "run").state_dict()
    assert _max_diff(state, start.state_dict(), "stages.1.") == 0.0
    assert _max_diff(state, start.state_dict(), "stages.2.") > 0.0


def test_bad_input_names_the_value_and_writes_nothing(hub, tmp_path, capsys):
    one = _synthetic(tmp_path / "one", ["only"], n=2)
    empty = _synthetic(tmp_path / "empty", ["full"], n=2)
    (empty / "train" / "hollow").mkdir()
    good = _synthetic(tmp_path / "good", ["a", "b"], n=4)
    cases = [
        (["--data", str(one)], "has 1 class (only); classification needs at least 2"),
        (["--data", str(empty)], f"empty class folder {empty / 'train' / 'hollow'}"),
        (["--data", str(good), "--strategy", "everything"],
         "unknown strategy 'everything'; valid: head, last-stage, full, gradual"),
        (["--data", str(good), "--strategy", "last-stage", "--freeze-up-to", "stages.5"],
         "unknown stage 'stages.5'; valid: stem, stages.0, stages.1, stages.2, final, head"),
        (["--data", str(good), "--strategy", "last-stage", "--freeze-up-to", "4"],
         "stage 4 does not exist: this model has 3 stages"),
        (["--data", str(good), "--freeze-up-to", "stages.1"], "applies to the last-stage strategy only"),
        (["--data", str(good), "--strategy", "gradual", "--bn", "frozen"], "cannot be released"),
        (["--data", str(tmp_path / "missing")], "does not exist"),
        (["--data", str(good), "--crop-scale", "1.5"], "crop_scale must be a finite number in (0, 1], got 1.5"),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert main(["finetune", "resnet20.testdata", "--out", str(out), "--epochs", "1", *extra]) == 2, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
        assert not out.exists(), extra
    with pytest.raises(InvalidArgumentError, match="epochs must be an integer >= 1, got 0"):
        finetune("resnet20.testdata", good, epochs=0, out=tmp_path / "out")
    with pytest.raises(DataError, match="has 1 class"):
        finetune("resnet20.testdata", one, out=tmp_path / "out")


def test_augmentation_flags_reach_the_engine_as_its_keys(tmp_path, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("cnnzoo.finetune.finetune", lambda model, data, **kw: seen.update(kw) or {"ok": 1})
    assert main(["finetune", "resnet20", "--scratch", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--crop-scale", "0.35", "--randaugment", "rand-m9-mstd0.5", "--json"]) == 0
    assert seen["crop_scale"] == 0.35 and seen["randaugment"] == "rand-m9-mstd0.5" and seen["pretrained"] is False
    assert json.loads(capsys.readouterr().out) == {"ok": 1}


SHIPPED = {"intel_resnet50_head": ("resnet50.tv_in1k", "head"),
           "intel_resnet50_last_block": ("resnet50.tv_in1k", "last-stage"),
           "intel_densenet201": ("densenet201.tv_in1k", "full"),
           "intel_resnext50": ("resnext50_32x4d.tv_in1k", "full"),
           "intel_efficientnet_b0": ("efficientnet_b0.tv_in1k", "full")}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_recipe_names_an_imagenet_weight_and_the_seeds_setup(name):
    from cnnzoo.finetune.shipped import load_finetune_recipe

    recipe = load_finetune_recipe(name)
    assert (recipe["model"], recipe["strategy"]) == SHIPPED[name]
    assert (recipe["img_size"], recipe["epochs"]) == (224, 10)
    assert cnnzoo.is_model(recipe["model"].split(".")[0])


def test_finetune_recipe_runs_offline_from_a_local_torchvision_state_dict(intel_kaggle, hub, tmp_path, capsys):
    """`cnnzoo finetune --recipe intel_resnet50_head` with a random torchvision ResNet-50 standing in for the
    download; flags override the recipe (1 epoch at 32 px) and the recipe's strategy holds."""
    import torchvision

    from helpers import randomize_

    path = tmp_path / "resnet50-random.pth"
    torch.save(randomize_(torchvision.models.resnet50(), seed=5).state_dict(), path)
    assert main(["import", "resnet50.tv_in1k", "--from", str(path)]) == 0
    capsys.readouterr()
    out = tmp_path / "run"
    assert main(["finetune", "--recipe", "intel_resnet50_head", "--data", str(intel_kaggle), "--out", str(out),
                 "--epochs", "1", "--img-size", "32", "--batch-size", "16", "--threads", "1"]) == 0
    assert "resnet50.tv_in1k fine-tuned (head)" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 1
    meta = read_metadata(out / "model.safetensors")
    assert (meta["arch"], meta["num_classes"]) == ("resnet50", 6)
    assert summary["finetune"]["trainable_params"] == 2048 * 6 + 6  # head only, as the recipe says


def test_finetune_without_model_or_recipe_is_refused(tmp_path, capsys):
    assert main(["finetune", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert "finetune needs a MODEL (e.g. resnet20.cifar10) or a --recipe that names one" in capsys.readouterr().err


def test_finetune_recipe_with_an_unknown_key_names_it(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: resnet50.tv_in1k\nlearning_rate: 0.1\n")
    assert main(["finetune", "--recipe", str(bad), "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert f"fine-tuning recipe {bad}: unknown keys learning_rate" in capsys.readouterr().err
