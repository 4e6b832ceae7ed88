"""The CLI explains itself: help with defaults everywhere, maintainer commands under `cnnzoo dev`, one-line errors
with exit code 2, weight details in `info`, shipped vs import-needed weights in `list`, no traceback into a closed
pipe, --overwrite for train and finetune, one test figure per finetune run, uniform run-folder permissions, export
names checked against the format, Imagenette labels by name, and a thread default that leaves busy cores alone."""
import argparse
import json
import os
import re
import subprocess
import sys

import pytest

from cnnzoo.cli import COMMANDS, DEV_COMMANDS, HelpFormatter, build_parser, main, one_line
from cnnzoo.data import sample_dir
from cnnzoo.hub.index import load_index
from cnnzoo.engine import threads

from conftest import SHIPPED_FILES


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNZOO_CACHE", str(tmp_path / "cache"))


def _subcommands(parser, prefix=""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + name, sub
                yield from _subcommands(sub, prefix + name + " ")


def test_every_option_has_help_with_its_default():
    parser = build_parser([], load_all=True)
    commands = dict(_subcommands(parser))
    assert set(commands) == {*COMMANDS, "dev", *(f"dev {n}" for n in DEV_COMMANDS)}
    missing = []
    for name, sub in commands.items():
        formatter = HelpFormatter(prog="cnnzoo")
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            text = formatter._get_help_string(action) if action.help else ""
            is_flag = isinstance(action, (argparse._StoreTrueAction, argparse._StoreConstAction,
                                          argparse._AppendAction))
            needs_default = action.option_strings and not is_flag and not action.required
            must_say_required = action.required and action.option_strings
            if not text or (needs_default and "default" not in text) or (must_say_required and "required" not in text):
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


def test_maintainer_commands_live_under_dev(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    top = capsys.readouterr().out
    assert re.search(r"^    dev ", top, re.M) and not re.search(r"^    (register|publish) ", top, re.M)
    with pytest.raises(SystemExit):
        main(["register", "--help"])
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: cnnzoo dev register")
    assert captured.err == ("cnnzoo: `cnnzoo register` is now `cnnzoo dev register`; the old spelling will be "
                            "removed in cnnzoo 0.3\n")
    assert main(["dev"]) == 2 and "register" in capsys.readouterr().out


def test_info_on_a_bad_tag_fails_and_on_a_weight_shows_it(capsys):
    assert main(["info", "resnet20.bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnzoo info: error: unknown weight tag 'bogus' for 'resnet20'; available tags: cifar10")
    assert err.count("\n") == 1
    assert main(["info", "resnet20.cifar10"]) == 0
    out = capsys.readouterr().out
    entry = load_index()["resnet20.cifar10"]
    m = entry["metrics"]
    for line in ("weight resnet20.cifar10  (ships with cnnzoo)",
                 f"  accuracy    top-1 {m['top1']:.2f} / top-5 {m['top5']:.2f} on test (n=10000, fp32)",
                 f"  sha256      {entry['sha256']}",
                 f"  size        {entry['size']:,} bytes", "  recipe      cnnzoo/recipes/cifar10_resnet20.yaml"):
        assert line in out.splitlines(), line
    assert re.search(r"^  licence     Apache-2.0", out, re.M) and "CIFAR-10 (JPEG q75 copy)" in out


def test_list_pretrained_marks_shipped_and_import(capsys):
    assert main(["list", "--pretrained"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    marks = {name: mark for name, mark in rows}
    # one "shipped" row per safetensors file in weights/, so publishing a weight keeps this test true
    assert sum(m == "shipped" for m in marks.values()) == len(SHIPPED_FILES) and marks["resnet20.cifar10"] == "shipped"
    assert marks["resnet50.tv_in1k"] == "import" and set(marks.values()) == {"shipped", "import"}
    assert main(["list", "--pretrained", "--shipped", "resnet*"]) == 0
    resnets = sorted(f.name.removesuffix(".safetensors") for f in SHIPPED_FILES if f.name.startswith("resnet"))
    assert {"resnet10.imagenette", "resnet20.cifar10", "resnet56.cifar10"} <= set(resnets)  # not resnext29_*
    assert capsys.readouterr().out.split() == [word for name in resnets for word in (name, "shipped")]


def test_closed_pipe_ends_quietly():
    done = subprocess.run(["bash", "-o", "pipefail", "-c", f"'{sys.executable}' -m cnnzoo.cli import --list | head -1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "resnet18.tv_in1k\n"


def test_export_name_must_match_the_format(tmp_path, capsys):
    assert main(["export", "resnet20", str(tmp_path / "model.pt"), "--format", "onnx"]) == 2
    assert capsys.readouterr().err == ("cnnzoo export: error: 'model.pt' does not look like a onnx file; name it "
                                       "model.onnx, or choose the format its extension names\n")
    assert main(["export", "resnet20", str(tmp_path / "model.bin")]) == 2
    assert "cannot tell the export format from 'model.bin'; name the file model.onnx or model.pt" in \
        capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(["export", "resnet20", str(tmp_path / "model.pt")]) == 0  # the format follows the extension
    assert "(torchscript," in capsys.readouterr().out


def test_errors_are_one_line():
    assert one_line(ValueError("state_dict does not match:\n  missing (1): a\n  unexpected (1): b")) == \
        "state_dict does not match:; missing (1): a; unexpected (1): b"


def test_finetune_overwrite_one_figure_and_uniform_permissions(tmp_path, capsys):
    out = tmp_path / "ft"
    args = ["finetune", "resnet20.cifar10", "--data", "sample", "--strategy", "head", "--epochs", "1",
            "--subset", "100", "--out", str(out)]  # precision auto: bf16 autocast on a CPU that has it
    old_umask = os.umask(0o022)
    try:
        assert main(args) == 0
    finally:
        os.umask(old_umask)
    printed = capsys.readouterr().out
    figures = re.findall(r"test top-1 (\d+\.\d+)%", printed)
    assert len(figures) == 2 and figures[0] == figures[1], printed  # the engine's line and the summary agree
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()}
    assert set(modes.values()) == {"0o644"}, modes
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--overwrite to start it afresh" in err
    assert main(args + ["--overwrite"]) == 0
    epochs = [line for line in (out / "metrics.jsonl").read_text().splitlines() if '"kind": "epoch"' in line]
    assert len(epochs) == 1


def test_imagenette_labels_are_names(capsys):
    image = sorted((sample_dir() / "test" / "cat").iterdir())[0]
    assert main(["predict", "resnet10.imagenette", str(image), "--topk", "10", "--json"]) == 0
    (pred,) = json.loads(capsys.readouterr().out)
    assert sorted(label for label, _ in pred["topk"]) == sorted(
        ["tench", "English springer", "cassette player", "chain saw", "church", "French horn", "garbage truck",
         "gas pump", "golf ball", "parachute"])


def test_default_threads_leave_busy_cores_alone(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for load, expected in ((0.1, 2), (0.7, 1), (1.2, 1), (3.5, 1)):
        monkeypatch.setattr(threads.os, "getloadavg", lambda load=load: (load, load, load))
        assert threads.default_threads() == expected, load
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert threads.default_threads() == 13  # 3.5 of 16 cores busy: 12.5 rounds to 13
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.default_threads() == threads.torch.get_num_threads()
