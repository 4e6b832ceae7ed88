"""Engine: config, schedule, weight-decay groups, a real 1-epoch run on the shipped sample, exact resume,
non-finite loss, evaluation figures."""
import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import cnnzoo
from cnnzoo.engine import build_config, evaluate, find_recipe, train
from cnnzoo.engine import trainer as trainer_mod
from cnnzoo.engine.checkpoint import load_checkpoint
from cnnzoo.engine.optim import lr_factor, param_groups
from cnnzoo.errors import ConfigError, TrainingError

# 200 train / 200 test real CIFAR-10 images shipped in cnnzoo/sample; fp32 avoids oneDNN's bf16 warm-up
TINY = dict(model="resnet20", data="sample", epochs=1, batch_size=50, precision="fp32", log_every=1)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))


def test_unknown_config_key_names_it_and_lists_valid_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'learning_rate'.*valid keys: model, data"):
        build_config(dict(learning_rate=0.1))
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 3\nwarmup: 1\n")
    with pytest.raises(ConfigError, match=r"'warmup' in .*bad.yaml \(did you mean warmup_epochs"):
        build_config(bad)
    with pytest.raises(ConfigError, match="'epochs' expects int, got 'many'"):
        build_config(None, epochs="many")


def test_recipe_and_overrides_resolve():
    cfg = build_config(find_recipe("cifar10_resnet20"), lr="0.2", ema="false", epochs=3)
    assert (cfg.model, cfg.lr, cfg.ema, cfg.epochs, cfg.val_size) == ("resnet20", 0.2, False, 3, 5000.0)
    with pytest.raises(ConfigError, match="unknown recipe 'nope'.*cifar10_resnet20"):
        find_recipe("nope")


def test_every_shipped_recipe_is_a_valid_config_of_a_registered_model():
    recipes = sorted((Path(cnnzoo.__file__).parent / "recipes").glob("*.yaml"))
    assert len(recipes) >= 9
    for path in recipes:
        cfg = build_config(path)
        assert cfg.model in cnnzoo.list_models(), path.name
        stem = f"{cfg.data}_{cfg.model}"  # named <data>_<model>.yaml, or <data>_<model>_<variant>.yaml
        assert path.stem == stem or path.stem.startswith(stem + "_"), path.name
        assert cfg.val_size > 0 and cfg.tag == cfg.data, path.name  # choices on a held-out split


def test_recipe_base_is_loaded_first_and_overridden(tmp_path):
    dpn = build_config(find_recipe("cifar10_dpn29")).to_dict()
    resnet = build_config(find_recipe("cifar10_resnet20")).to_dict()
    assert {k for k in dpn if dpn[k] != resnet[k]} == {"model", "epochs", "compile"}
    assert (dpn["model"], dpn["epochs"], dpn["lr"], dpn["weight_decay"]) == ("dpn29", 40, 0.1, 5e-4)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(f"base: {b}\nepochs: 2\n")
    b.write_text(f"base: {a}\n")
    with pytest.raises(ConfigError, match="base chain returns to"):
        build_config(a)


def test_lr_schedule_figures():
    assert lr_factor(0, 1000, 100, "cosine", 0.0) == pytest.approx(0.01)
    assert lr_factor(99, 1000, 100, "cosine", 0.0) == pytest.approx(1.0)
    assert lr_factor(550, 1000, 100, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_factor(1000, 1000, 100, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(0, 1000, 0, "onecycle", 0.0) == pytest.approx(1 / 25)
    assert lr_factor(300, 1000, 0, "onecycle", 0.0) == pytest.approx(1.0)


def test_no_weight_decay_on_norm_bias_and_trainable_activations():
    model = cnnzoo.create_model("resnet20", act_layer="tact")
    decay, no_decay = param_groups(model, 5e-4)
    n_bn = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    n_tact = sum(p.numel() for n, p in model.named_parameters() if n.endswith((".a", ".b")))
    n_bias = model.head.fc.bias.numel()
    assert n_tact > 0
    assert sum(p.numel() for p in no_decay["params"]) == n_bn + n_tact + n_bias
    assert sum(p.numel() for p in decay["params"]) + n_bn + n_tact + n_bias == sum(p.numel() for p in model.parameters())
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0.0


def test_train_one_epoch_writes_a_complete_run(tmp_path):
    out = tmp_path / "run"
    summary = train(**TINY, out=str(out), ema=True)
    for name in ("config.yaml", "metrics.jsonl", "checkpoint.pt", "loss.png", "accuracy.png", "confusion.png",
                 "model.safetensors", "summary.json"):
        assert (out / name).is_file(), name
    assert summary["test"]["n"] == 200 and summary["counts"] == {"train": 200, "test": 200}
    assert 0 <= summary["test"]["top1"] <= 100 and summary["test"]["top5"] >= summary["test"]["top1"]
    assert math.isfinite(summary["train_loss"]) and summary["hardware"]["cores"] >= 1
    assert summary["precision"] == "fp32" and summary["final_weights"] == "ema"
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1] and records[0]["images_per_s"] > 0
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        meta = f.metadata()
    assert meta["arch"] == "resnet20" and json.loads(meta["labels"])[3] == "cat"
    # the saved weight, loaded back and evaluated, gives the summary's test figure
    model = cnnzoo.create_model("resnet20", pretrained=str(out / "model.safetensors"))
    again = evaluate(model, "sample", "test", precision="fp32")
    assert again["top1"] == pytest.approx(summary["test"]["top1"], abs=1e-6)
    assert sum(again["per_class"].values()) / 10 == pytest.approx(again["top1"], abs=1e-3)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(**TINY, out=str(out))


def test_resume_after_a_kill_is_exact(tmp_path, monkeypatch):
    cfg = dict(TINY, epochs=2, subset=100, ema=True, drop_rate=0.2)
    straight = train(**cfg, out=str(tmp_path / "a"))
    real_save = trainer_mod.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # killed right after the epoch-1 checkpoint

    monkeypatch.setattr(trainer_mod, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(**cfg, out=str(tmp_path / "b"))
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["epoch"] == 1
    monkeypatch.setattr(trainer_mod, "save_checkpoint", real_save)
    resumed = train(**cfg, out=str(tmp_path / "b"), resume=True)
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "model.safetensors"))
    assert max((a[k].float() - b[k].float()).abs().max().item() for k in a) == 0.0
    assert resumed["test"]["top1"] == straight["test"]["top1"]
    assert len((tmp_path / "b" / "metrics.jsonl").read_text().splitlines()) == 2


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real = trainer_mod.create_scheduler

    def exploding(optimizer, cfg, steps_per_epoch):  # the lr turns nan in epoch 2
        sched = real(optimizer, cfg, steps_per_epoch)
        base = sched.lr_lambdas[0]
        sched.lr_lambdas[0] = lambda s: base(s) if s < steps_per_epoch else float("nan")
        return sched

    monkeypatch.setattr(trainer_mod, "create_scheduler", exploding)
    out = tmp_path / "nan"
    with pytest.raises(TrainingError, match=r"non-finite .* epoch 2 .*last good checkpoint is kept"):
        train(**dict(TINY, epochs=3, subset=100), out=str(out))
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (out / "model.safetensors").exists()


def test_channels_last_auto_is_on_for_cpu_in_every_precision_and_can_be_turned_off():
    from cnnzoo.engine.precision import resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision(cpu, "fp32").memory_format() == torch.channels_last
    assert resolve_precision(cpu, "bf16").memory_format() == torch.channels_last
    assert resolve_precision(cpu, "fp32", channels_last=False).memory_format() == torch.contiguous_format


def test_compiled_training_matches_eager_and_saves_a_plain_weight(tmp_path):
    """compile: true (used by the DenseNet / DPN recipes) trains the same network: the first epoch's loss equals
    eager's, and the weight file has the plain model's keys (no torch.compile prefix)."""
    eager = train(**TINY, out=str(tmp_path / "eager"), seed=3)
    compiled = train(**TINY, out=str(tmp_path / "compiled"), seed=3, compile=True)
    assert compiled["train_loss"] == pytest.approx(eager["train_loss"], rel=2e-3)
    state = load_file(str(tmp_path / "compiled" / "model.safetensors"))
    assert set(state) == set(cnnzoo.create_model("resnet20").state_dict())
