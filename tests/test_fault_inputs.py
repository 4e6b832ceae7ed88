"""Fault suite, bad inputs (issue 24 item 4): every value a user can type and every file a user can hand over
ends in a one-line error naming the option or the file, or is coped with (an unreadable image left out and
counted with --skip-bad, a symlinked class folder followed with the right label). Never a traceback, never
nonsense accepted: ``--epochs 0`` must not write an untrained model, a YAML Python tag must not run.

Areas: "cli values", "recipes", "images", "index", "export". Most CLI cases call ``cnnzoo.cli.main`` in this
process (a subprocess costs seconds); a few run the real console script to prove the exit path.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnzoo.cli import main
from cnnzoo.data import build_data, scan_folder
from cnnzoo.engine.config import TrainConfig, build_config
from cnnzoo.errors import CnnzooError
from cnnzoo.hub.index import load_index

from fault_cases import CliRefusal, FaultCase, SilentLoad, outcome, run_cli

REPO = Path(__file__).resolve().parents[1]
COMMITTED_INDEX = REPO / "weights" / "index.json"
DATA_CFG = dict(input_size=(3, 16, 16), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), crop_pct=1.0,
                interpolation="bicubic")


class WrongReason(Exception):
    """Refused, but not for the fault the case made: the case did not test what it says (a defect)."""


# -- helpers ---------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _env(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cli(*args: str) -> str:
    """``cnnzoo ARGS`` in this process: stdout on success; a clean error exit raises CliRefusal (as run_cli)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # main() installs a filter; keep it inside this case
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    text = err.getvalue()
    if "Traceback (most recent call last)" in text:
        raise RuntimeError(f"traceback from cnnzoo {' '.join(args)}:\n{text[-2000:]}")
    if code == 0:
        return out.getvalue()
    if code in (1, 2) and ": error:" in text:
        raise CliRefusal(text.strip().splitlines()[-1])
    raise RuntimeError(f"cnnzoo {' '.join(args)} exited {code}: {text[-2000:]}")


def _refused(fn, *words: str):
    """Run ``fn()``; it must be refused with a message holding every one of ``words`` (the option, the file)."""
    try:
        fn()
    except (CliRefusal, CnnzooError) as exc:
        missing = [w for w in words if w not in str(exc)]
        if missing:
            raise WrongReason(f"refused without naming {missing}: {exc}") from exc
        raise
    raise SilentLoad("accepted")


def _png(path: Path, size: int = 16, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def _dataset(tmp: Path, per_class: int = 4) -> Path:
    """``tmp/data/{train,test}/{a,b}/N.png``: 16x16 images, ``per_class`` a class and split."""
    root = tmp / "data"
    for split in ("train", "test"):
        for c, cls in enumerate(("a", "b")):
            for i in range(per_class):
                _png(root / split / cls / f"{i}.png", seed=100 * len(split) + 10 * c + i)
    return root


def _bomb_png(path: Path, side: int) -> Path:
    """A PNG whose header claims ``side`` x ``side`` grey pixels: a few hundred bytes on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    return path


def _jpeg_bytes(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def _bundle(root: Path, **cfg):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = build_data(TrainConfig(data=str(root), batch_size=2, **cfg), DATA_CFG)
    return bundle, " ".join(str(w.message) for w in caught)


def _no_run(out: Path) -> None:
    if (out / "model.safetensors").exists():
        raise SilentLoad(f"a model was written to {out}")


# -- cli values ------------------------------------------------------------------------------------------------

def _train(tmp: Path, *args: str, words: tuple = ()) -> None:
    data, out = _dataset(tmp), tmp / "run"
    try:
        _refused(lambda: _cli("train", "resnet20", "--data", str(data), "--out", str(out), "--epochs", "1",
                              "--batch-size", "4", "--precision", "fp32", *args), *words)
    finally:
        _no_run(out)


def _finetune(tmp: Path, *args: str, words: tuple = ()) -> None:
    data, out = _dataset(tmp), tmp / "run"
    try:
        _refused(lambda: _cli("finetune", "resnet20", "--scratch", "--data", str(data), "--out", str(out),
                              "--epochs", "1", "--batch-size", "4", *args), *words)
    finally:
        _no_run(out)


def _eval(tmp: Path, *args: str, words: tuple = ()) -> None:
    data = _dataset(tmp)
    _refused(lambda: _cli("eval", "resnet20.cifar10", "--data", str(data), "--precision", "fp32", *args), *words)


def _train_subprocess(tmp: Path) -> None:
    data, out = _dataset(tmp), tmp / "run"
    try:
        _refused(lambda: run_cli("train", "resnet20", "--data", str(data), "--out", str(out), "--epochs", "0"),
                 "epochs", "got 0")
    finally:
        _no_run(out)


def _finetune_subprocess(tmp: Path) -> None:
    data, out = _dataset(tmp), tmp / "run"
    _refused(lambda: run_cli("finetune", "resnet20", "--scratch", "--data", str(data), "--out", str(out),
                             "--batch-size", "0"), "batch_size", "got 0")
    _no_run(out)


def _batch_larger_than_data(tmp: Path) -> None:
    _train(tmp, "--batch-size", "64", words=("batch_size 64", "8 training images"))


def _predict(tmp: Path, *images: str, words: tuple = ()) -> None:
    _refused(lambda: _cli("predict", "resnet20.cifar10", *images), *words)


def _predict_topk(tmp: Path) -> None:
    _predict(tmp, str(_png(tmp / "x.png")), "--topk", "0", words=("topk",))


def _predict_missing(tmp: Path) -> None:
    _predict(tmp, str(tmp / "nope.png"), words=("nope.png",))


CLI_CASES = [
    FaultCase("cli values", "train --epochs 0", lambda t: _train(t, "--epochs", "0", words=("epochs", "got 0"))),
    FaultCase("cli values", "train --epochs -1", lambda t: _train(t, "--epochs", "-1", words=("epochs", "got -1"))),
    FaultCase("cli values", "train --epochs 0 (console script)", _train_subprocess),
    FaultCase("cli values", "train --epochs abc", lambda t: _train(t, "--epochs", "abc", words=("--epochs",))),
    FaultCase("cli values", "train --batch-size 0", lambda t: _train(t, "--batch-size", "0", words=("batch_size",))),
    FaultCase("cli values", "train --batch-size larger than the data", _batch_larger_than_data),
    FaultCase("cli values", "train --lr -0.1", lambda t: _train(t, "--lr", "-0.1", words=("lr", "-0.1"))),
    FaultCase("cli values", "train --lr nan", lambda t: _train(t, "--lr", "nan", words=("lr", "finite"))),
    FaultCase("cli values", "train --label-smoothing 2",
              lambda t: _train(t, "--label-smoothing", "2", words=("label_smoothing", "[0, 1)"))),
    FaultCase("cli values", "train --val-size -1", lambda t: _train(t, "--val-size", "-1", words=("val_size",))),
    FaultCase("cli values", "train --val-size 2.5 (neither fraction nor count)",
              lambda t: _train(t, "--val-size", "2.5", words=("val_size", "whole count"))),
    FaultCase("cli values", "train ema_decay=1.5",
              lambda t: _train(t, "--ema", "--set", "ema_decay=1.5", words=("ema_decay", "(0, 1)"))),
    FaultCase("cli values", "train momentum=-0.5", lambda t: _train(t, "--set", "momentum=-0.5", words=("momentum",))),
    FaultCase("cli values", "train warmup_epochs > epochs",
              lambda t: _train(t, "--set", "warmup_epochs=5", words=("warmup_epochs", "epochs (1)"))),
    FaultCase("cli values", "train min_lr > lr",
              lambda t: _train(t, "--lr", "0.1", "--set", "min_lr=1", words=("min_lr", "lr"))),
    FaultCase("cli values", "train unknown key", lambda t: _train(t, "--set", "lerning_rate=0.1",
                                                                 words=("lerning_rate", "valid keys"))),
    FaultCase("cli values", "train lr=abc (a string for a number)",
              lambda t: _train(t, "--set", "lr=abc", words=("lr", "abc"))),
    FaultCase("cli values", "train epochs=2.5", lambda t: _train(t, "--set", "epochs=2.5", words=("epochs", "2.5"))),
    FaultCase("cli values", "train lr=[ (broken YAML in --set)", lambda t: _train(t, "--set", "lr=[", words=("lr",))),
    FaultCase("cli values", "train hflip=maybe", lambda t: _train(t, "--set", "hflip=maybe", words=("hflip",))),
    FaultCase("cli values", "train extra=x (not a mapping)", lambda t: _train(t, "--set", "extra=x", words=("extra",))),
    FaultCase("cli values", "train schedule=linear",
              lambda t: _train(t, "--set", "schedule=linear", words=("schedule", "cosine"))),
    FaultCase("cli values", "train --precision fp8",
              lambda t: _train(t, "--precision", "fp8", words=("precision", "bf16"))),
    FaultCase("cli values", "train --loader magic", lambda t: _train(t, "--loader", "magic", words=("loader",))),
    FaultCase("cli values", "train --seed -1", lambda t: _train(t, "--seed", "-1", words=("seed",))),
    FaultCase("cli values", "train --workers -2", lambda t: _train(t, "--workers", "-2", words=("workers",))),
    FaultCase("cli values", "train image_size=2", lambda t: _train(t, "--set", "image_size=2", words=("image_size",))),
    FaultCase("cli values", "finetune --epochs 0", lambda t: _finetune(t, "--epochs", "0", words=("epochs",))),
    FaultCase("cli values", "finetune --batch-size 0 (console script)", _finetune_subprocess),
    FaultCase("cli values", "finetune --lr -1", lambda t: _finetune(t, "--lr", "-1", words=("lr",))),
    FaultCase("cli values", "finetune --label-smoothing 2",
              lambda t: _finetune(t, "--label-smoothing", "2", words=("label_smoothing",))),
    FaultCase("cli values", "finetune --val-size -0.5", lambda t: _finetune(t, "--val-size", "-0.5",
                                                                           words=("val_size",))),
    FaultCase("cli values", "finetune --img-size 4", lambda t: _finetune(t, "--img-size", "4", words=("img_size",))),
    FaultCase("cli values", "finetune --warmup-epochs 9 --epochs 2",
              lambda t: _finetune(t, "--warmup-epochs", "9", "--epochs", "2", words=("warmup_epochs",))),
    FaultCase("cli values", "eval --batch-size 0", lambda t: _eval(t, "--batch-size", "0", words=("batch_size",))),
    FaultCase("cli values", "eval --subset -1", lambda t: _eval(t, "--subset", "-1", words=("subset",))),
    FaultCase("cli values", "eval --precision fp8", lambda t: _eval(t, "--precision", "fp8", words=("precision",))),
    FaultCase("cli values", "predict --topk 0", _predict_topk),
    FaultCase("cli values", "predict a file that does not exist", _predict_missing),
]


# -- recipes ---------------------------------------------------------------------------------------------------

def _recipe(tmp: Path, text: str | bytes, *words: str) -> None:
    path = tmp / "recipe.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    _refused(lambda: build_config(path), str(path), *words)


def _python_tag(tmp: Path) -> None:
    marker = tmp / "ran"
    try:
        _recipe(tmp, f'lr: !!python/object/apply:os.system ["touch {marker}"]\n', "python/object/apply")
    finally:
        if marker.exists():
            raise SilentLoad("a YAML tag ran a shell command")


def _python_tag_cli(tmp: Path) -> None:
    marker, path = tmp / "ran", tmp / "recipe.yaml"
    path.write_text(f'epochs: !!python/object/new:os.system ["touch {marker}"]\n')
    data = _dataset(tmp)
    try:
        _refused(lambda: _cli("train", "resnet20", "--data", str(data), "--config", str(path)), "recipe.yaml")
    finally:
        if marker.exists():
            raise SilentLoad("a YAML tag ran a shell command")


def _base_cycle(tmp: Path) -> None:
    (tmp / "a.yaml").write_text(f"base: {tmp / 'b.yaml'}\nlr: 0.1\n")
    (tmp / "b.yaml").write_text(f"base: {tmp / 'a.yaml'}\nlr: 0.2\n")
    _refused(lambda: build_config(tmp / "a.yaml"), "base chain")


def _recipe_folder(tmp: Path) -> None:
    (tmp / "recipe.yaml").mkdir()
    _refused(lambda: build_config(tmp / "recipe.yaml"), "not a file")


RECIPE_CASES = [
    FaultCase("recipes", "YAML syntax error", lambda t: _recipe(t, "lr: [0.1\nepochs: 3\n", "not valid YAML", "line")),
    FaultCase("recipes", "a list where the mapping goes", lambda t: _recipe(t, "- lr\n- 0.1\n", "mapping")),
    FaultCase("recipes", "a bare string", lambda t: _recipe(t, "just words\n", "mapping")),
    FaultCase("recipes", "!!python/object/apply:os.system never runs", _python_tag),
    FaultCase("recipes", "!!python/object/new tag via --config never runs", _python_tag_cli),
    FaultCase("recipes", "a mapping where a number goes", lambda t: _recipe(t, "epochs: {a: 1}\n", "epochs")),
    FaultCase("recipes", "epochs: null", lambda t: _recipe(t, "epochs: null\n", "epochs")),
    FaultCase("recipes", "epochs: 0", lambda t: _recipe(t, "epochs: 0\n", "epochs")),
    FaultCase("recipes", "unknown key (with a suggestion)", lambda t: _recipe(t, "warmup: 2\n", "warmup_epochs")),
    FaultCase("recipes", "a key that is not a name", lambda t: _recipe(t, "1: 2\n", "must be names")),
    FaultCase("recipes", "bytes that are not UTF-8", lambda t: _recipe(t, b"lr: \xff\xfe0.1\n", "not valid YAML")),
    FaultCase("recipes", "nested 10000 deep", lambda t: _recipe(t, "lr: " + "[" * 10000 + "]" * 10000 + "\n")),
    FaultCase("recipes", "base: 3", lambda t: _recipe(t, "base: 3\nlr: 0.1\n", "base")),
    FaultCase("recipes", "base chain that loops", _base_cycle),
    FaultCase("recipes", "a folder named recipe.yaml", _recipe_folder),
]


# -- images ----------------------------------------------------------------------------------------------------

def _first_image_text(tmp: Path, skip_bad: bool = False) -> None:
    root = _dataset(tmp)
    bad = root / "train" / "a" / "-first.jpg"  # sorts first: the image the loader is chosen from
    bad.write_text("this is not an image")
    if not skip_bad:
        _refused(lambda: _bundle(root), "-first.jpg")
        return
    bundle, said = _bundle(root, skip_bad=True)
    if bundle.counts["train"] != 8 or "left out 1 of 9 files" not in said or "-first.jpg" not in said:
        raise SilentLoad(f"the text file was not left out and counted: {bundle.counts}, {said!r}")


def _truncated(tmp: Path, cut: slice, skip_bad: bool = False) -> None:
    root = _dataset(tmp)
    (root / "train" / "b" / "cut.jpg").write_bytes(_jpeg_bytes()[cut])
    if not skip_bad:
        _refused(lambda: _bundle(root), "cut.jpg")
        return
    bundle, said = _bundle(root, skip_bad=True)
    if bundle.counts["train"] != 8 or "cut.jpg" not in said:
        raise SilentLoad(f"the truncated JPEG was used or not counted: {bundle.counts}, {said!r}")


def _bomb(tmp: Path, side: int, skip_bad: bool = False) -> None:
    root = _dataset(tmp)
    _bomb_png(root / "train" / "a" / "bomb.png", side)
    if not skip_bad:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's own warning below twice its limit; the refusal is ours
            _refused(lambda: _bundle(root), "bomb.png", "decompression bomb")
        return
    bundle, said = _bundle(root, skip_bad=True)
    if bundle.counts["train"] != 8 or "bomb.png" not in said:
        raise SilentLoad(f"the bomb was not left out: {bundle.counts}, {said!r}")


def _empty_file(tmp: Path) -> None:
    root = _dataset(tmp)
    (root / "train" / "a" / "empty.png").write_bytes(b"")
    _refused(lambda: _bundle(root), "empty.png")


def _folder_loader_bad_image(tmp: Path) -> None:
    """The per-image path decodes in DataLoader workers: the error must come back as one line naming the file."""
    root = _dataset(tmp)
    (root / "train" / "b" / "cut.jpg").write_bytes(_jpeg_bytes()[:200])
    bundle, _ = _bundle(root, loader="folder", workers=1, val_size=0)

    def epoch():
        for _ in bundle.train:
            pass

    _refused(epoch, "cut.jpg")


def _non_utf8_file(tmp: Path) -> None:
    root = _dataset(tmp)
    os.rename(root / "train" / "a" / "1.png", os.fsencode(root / "train" / "a") + b"/caf\xe9.png")
    bundle, _ = _bundle(root)
    if bundle.counts["train"] != 8:
        raise SilentLoad(f"the image with a Latin-1 name was lost: {bundle.counts}")


def _non_utf8_class(tmp: Path) -> None:
    """A class folder named in Latin-1 bytes: trained end to end (cache, weight metadata, summary, plots)."""
    root = _dataset(tmp)
    for split in ("train", "test"):
        os.rename(root / split / "b", os.fsencode(root / split) + b"/caf\xe9")
    out = tmp / "run"
    _cli("train", "resnet20", "--data", str(root), "--out", str(out), "--epochs", "1", "--batch-size", "4",
         "--precision", "fp32")
    classes = json.loads((out / "summary.json").read_text())["classes"]
    if classes != ["a", "caf\\xe9"]:
        raise SilentLoad(f"labels {classes}")


def _linked_class(tmp: Path) -> None:
    root = _dataset(tmp)
    elsewhere = tmp / "elsewhere" / "pictures_of_b"
    elsewhere.parent.mkdir()
    os.rename(root / "train" / "b", elsewhere)
    os.symlink(elsewhere, root / "train" / "b")
    index = scan_folder(root / "train")
    labels = {p.name: index.classes[y] for p, y in index.samples if p.parent.name == "b"}
    if index.classes != ["a", "b"] or len(index) != 8 or set(labels.values()) != {"b"}:
        raise SilentLoad(f"a symlinked class folder was not followed with its own label: {index.classes}, {labels}")


def _dangling_class(tmp: Path, skip_bad: bool = False) -> None:
    root = _dataset(tmp)
    os.symlink(tmp / "gone", root / "train" / "c")
    if not skip_bad:
        _refused(lambda: scan_folder(root / "train"), "train/c", "does not exist")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = scan_folder(root / "train", skip_bad=True)
    if index.classes != ["a", "b"] or not any("train/c" in str(w.message) for w in caught):
        raise SilentLoad(f"a dangling class link was not left out with a warning: {index.classes}")


def _two_names_one_folder(tmp: Path) -> None:
    root = _dataset(tmp)
    os.symlink(root / "train" / "a", root / "train" / "c")
    _refused(lambda: scan_folder(root / "train"), "'a'", "'c'", "same folder")


def _class_links_to_split(tmp: Path) -> None:
    root = _dataset(tmp)
    os.symlink(root / "train", root / "train" / "c")
    _refused(lambda: scan_folder(root / "train"), "train/c", "split")


def _loop_inside_class(tmp: Path) -> None:
    root = _dataset(tmp)
    os.symlink(root / "train" / "a", root / "train" / "a" / "again")
    index = scan_folder(root / "train")
    if len(index) != 8:
        raise SilentLoad(f"a link loop inside a class folder gave {len(index)} images, not 8")


def _predict_image(tmp: Path, make, name: str) -> None:
    path = tmp / name
    make(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _predict(tmp, str(path), words=(name,))


IMAGE_CASES = [
    FaultCase("images", "text file named .jpg as the first image", _first_image_text),
    FaultCase("images", "text file named .jpg, --skip-bad", lambda t: _first_image_text(t, True), "recovered"),
    FaultCase("images", "JPEG cut in half", lambda t: _truncated(t, slice(0, 300))),
    FaultCase("images", "JPEG without its last 2 bytes", lambda t: _truncated(t, slice(0, -2))),
    FaultCase("images", "JPEG cut in half, --skip-bad", lambda t: _truncated(t, slice(0, 300), True), "recovered"),
    FaultCase("images", "PNG claiming 40000x40000 pixels", lambda t: _bomb(t, 40000)),
    FaultCase("images", "PNG claiming 10000x10000 pixels (PIL only warns)", lambda t: _bomb(t, 10000)),
    FaultCase("images", "PNG claiming 40000x40000, --skip-bad", lambda t: _bomb(t, 40000, True), "recovered"),
    FaultCase("images", "empty .png file", _empty_file),
    FaultCase("images", "unreadable image in a DataLoader worker", _folder_loader_bad_image),
    FaultCase("images", "image file name not UTF-8", _non_utf8_file, "recovered"),
    FaultCase("images", "class folder name not UTF-8, trained end to end", _non_utf8_class, "recovered"),
    FaultCase("images", "class folder that is a symlink", _linked_class, "recovered"),
    FaultCase("images", "class folder symlink to nothing", _dangling_class),
    FaultCase("images", "class folder symlink to nothing, --skip-bad", lambda t: _dangling_class(t, True),
              "recovered"),
    FaultCase("images", "two class folders that are one folder", _two_names_one_folder),
    FaultCase("images", "class folder linking back to its split", _class_links_to_split),
    FaultCase("images", "symlink loop inside a class folder", _loop_inside_class, "recovered"),
    FaultCase("images", "predict: a text file named .png",
              lambda t: _predict_image(t, lambda p: p.write_text("hello"), "x.png")),
    FaultCase("images", "predict: a decompression bomb",
              lambda t: _predict_image(t, lambda p: _bomb_png(p, 40000), "bomb.png")),
]


# -- index -----------------------------------------------------------------------------------------------------

def _good_entry() -> dict:
    return json.loads(COMMITTED_INDEX.read_text())["weights"]["resnet20.cifar10"]


def _index(tmp: Path, content, *words: str, via_cli: bool = False) -> None:
    path = tmp / "index.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
    with _env(CNNZOO_INDEX=str(path)):
        if via_cli:
            _refused(lambda: _cli("info", "resnet20.cifar10"), str(path), *words)
        else:
            _refused(load_index, str(path), *words)


def _entry(**changes) -> dict:
    entry = {k: v for k, v in _good_entry().items() if changes.get(k, 0) is not None}
    entry.update({k: v for k, v in changes.items() if v is not None})
    return {"format": 1, "weights": {"resnet20.cifar10": entry}}


def _deep_cli(tmp: Path) -> None:
    path = tmp / "index.json"
    path.write_text('{"format": 1, "weights": ' + "[" * 100000 + "]" * 100000 + "}")
    with _env(CNNZOO_INDEX=str(path)):
        _refused(lambda: run_cli("info", "resnet20.cifar10"), "nests too deeply")


def _truncated_index(tmp: Path) -> None:
    data = COMMITTED_INDEX.read_bytes()
    _index(tmp, data[: len(data) // 2], "not valid JSON")


def _nested_in_entry(tmp: Path) -> None:
    deep: object = "x"
    for _ in range(800):
        deep = [deep]
    _index(tmp, _entry(dataset={"name": "cifar10", "note": deep}), "nests deeper", via_cli=True)


INDEX_CASES = [
    FaultCase("index", "not JSON at all", lambda t: _index(t, "hello", "not valid JSON")),
    FaultCase("index", "empty file", lambda t: _index(t, "", "not valid JSON")),
    FaultCase("index", "binary bytes", lambda t: _index(t, b"\xff\xfe\x00\x01", "not valid JSON")),
    FaultCase("index", "cut in half", _truncated_index),
    FaultCase("index", "a list at the top", lambda t: _index(t, [1, 2], '"format"')),
    FaultCase("index", "format 2", lambda t: _index(t, {"format": 2, "weights": {}}, '"format"')),
    FaultCase("index", "weights is a list", lambda t: _index(t, {"format": 1, "weights": []}, '"weights"')),
    FaultCase("index", "entry missing keys (was KeyError)",
              lambda t: _index(t, _entry(file=None, tag=None), "missing fields: tag, file", via_cli=True)),
    FaultCase("index", "entry with wrong types (was TypeError)",
              lambda t: _index(t, _entry(file=3, num_classes="ten"), "file must be", "num_classes", via_cli=True)),
    FaultCase("index", "entry is a string", lambda t: _index(t, {"format": 1, "weights": {"resnet20.cifar10": "x"}},
                                                             "entry must be an object", via_cli=True)),
    FaultCase("index", "file name climbing out of the folder",
              lambda t: _index(t, _entry(file="../../etc/passwd.safetensors"), "bare", via_cli=True)),
    FaultCase("index", "labels not matching num_classes", lambda t: _index(t, _entry(labels=["cat"]), "labels")),
    FaultCase("index", "labels that are not strings", lambda t: _index(t, _entry(labels=list(range(10))), "labels")),
    FaultCase("index", "sha256 not hex", lambda t: _index(t, _entry(sha256="z" * 64), "sha256")),
    FaultCase("index", "100000 nested arrays (was RecursionError), console script", _deep_cli),
    FaultCase("index", "800 nested arrays inside an entry", _nested_in_entry),
]


# -- export ----------------------------------------------------------------------------------------------------

def _export(tmp: Path, name: str, *args: str, words: tuple = ()) -> None:
    out = tmp / name
    try:
        _refused(lambda: _cli("export", "resnet20", str(out), *args), *words)
    finally:
        if out.exists():
            raise SilentLoad(f"{name} was written")


def _export_api(tmp: Path, fmt: str, name: str) -> None:
    import cnnzoo
    from cnnzoo.deploy.export import export_onnx, export_torchscript

    write = export_onnx if fmt == "onnx" else export_torchscript
    out = tmp / name
    try:
        _refused(lambda: write(cnnzoo.create_model("resnet20"), out), name)
    finally:
        if out.exists():
            raise SilentLoad(f"{fmt} was written into {name}")


def _export_subprocess(tmp: Path) -> None:
    out = tmp / "model.onnx"
    _refused(lambda: run_cli("export", "resnet20", str(out), "--format", "torchscript"), "model.onnx")
    if out.exists():
        raise SilentLoad("TorchScript was written into model.onnx")


def _export_follows_suffix(tmp: Path) -> None:
    out = tmp / "model.pt"
    _cli("export", "resnet20", str(out))
    if out.read_bytes()[:2] != b"PK":  # TorchScript is a zip archive; ONNX is protobuf
        raise SilentLoad("model.pt does not hold TorchScript")


EXPORT_CASES = [
    FaultCase("export", "TorchScript into model.onnx", lambda t: _export(t, "model.onnx", "--format", "torchscript",
                                                                         words=("model.onnx", "torchscript"))),
    FaultCase("export", "TorchScript into model.onnx (console script)", _export_subprocess),
    FaultCase("export", "ONNX into model.pt", lambda t: _export(t, "model.pt", "--format", "onnx",
                                                                words=("model.pt", "onnx"))),
    FaultCase("export", "no format and an unknown suffix", lambda t: _export(t, "model.bin", words=("model.bin",))),
    FaultCase("export", "export_torchscript(model, 'model.onnx')", lambda t: _export_api(t, "torchscript",
                                                                                         "model.onnx")),
    FaultCase("export", "export_onnx(model, 'model.pt')", lambda t: _export_api(t, "onnx", "model.pt")),
    FaultCase("export", "--img-size 4", lambda t: _export(t, "model.onnx", "--img-size", "4", words=("img_size",))),
    FaultCase("export", "--num-classes -3", lambda t: _export(t, "model.onnx", "--num-classes", "-3",
                                                              words=("num_classes",))),
    FaultCase("export", "format follows the suffix (.pt -> TorchScript)", _export_follows_suffix, "recovered"),
]


def _isolated(case: FaultCase) -> FaultCase:
    """The case with its own cache folder (the runner gives each case an empty ``tmp``)."""
    def run(tmp: Path):
        with _env(CNNZOO_CACHE=str(tmp / "cache")):
            return case.run(tmp)

    return FaultCase(case.area, case.name, run, case.expect)


CASES = [_isolated(c) for c in CLI_CASES + RECIPE_CASES + IMAGE_CASES + INDEX_CASES + EXPORT_CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, tmp_path):
    result, detail = outcome(case, tmp_path)
    assert result == case.expect, detail


def test_case_names_are_unique_and_areas_known():
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.area for c in CASES} == {"cli values", "recipes", "images", "index", "export"}
    assert len(CASES) >= 40
