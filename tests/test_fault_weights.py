"""Fault suite, areas "weights", "imports" and "network" (issue 24): a weight is loaded only as the bytes that
were hashed, and only when those bytes are the published ones (by name, or by path when the file claims a
published name), its tensors are the model's kind of number, finite, of the model's shapes and keys, and its
classifier is the one it declares; a foreign checkpoint is converted only from tensors, never by running code,
and two processes importing it at once leave a cache entry that verifies; a silent host costs one timeout.

Each case builds its own private hub in ``tmp`` (hub_helpers.make_hub: a random resnet20 indexed as
``resnet20.testdata``) with the environment patched only while it runs.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.errors import (InvalidArgumentError, UnsafeWeightsError, WeightIntegrityError,
                           WeightsNotFoundError)
from cnnzoo.hub import index as hub_index
from cnnzoo.hub.files import weight_file
from cnnzoo.hub.files.io import read_header, save_weights
from cnnzoo.hub.importers import imagenet
from cnnzoo.hub.importers.convert import convert_state_dict
from cnnzoo.hub.pretrained import load_weights, resolve_weights

from fault_cases import CliRefusal, FaultCase, SilentLoad, outcome, run_cli
from hub_helpers import LABELS, make_entry, make_hub, max_abs_diff, metadata

REPO = Path(__file__).resolve().parents[1]
NAME = "resnet20.testdata"


# -- a private hub for one case ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _hub(tmp: Path, weights_env: bool = True):
    """make_hub's hub in ``tmp``, its environment set only inside the block (cases run outside pytest too)."""
    with pytest.MonkeyPatch.context() as mp:
        hub = make_hub(tmp, mp)
        if weights_env:
            mp.setenv("CNNZOO_WEIGHTS", str(hub.store))
        yield hub


def _accepted(model: torch.nn.Module, hub, what: str) -> None:
    """A load went through: it is silent unless the model holds exactly the published tensors."""
    if set(model.state_dict()) != set(hub.state) or max_abs_diff(model.state_dict(), hub.state) != 0.0:
        raise SilentLoad(f"{what}: loaded tensors that are not the published ones")
    cfg = model.pretrained_cfg
    if list(cfg.get("labels") or []) != LABELS or tuple(cfg.get("mean", ())) != tuple(hub.entry["mean"]):
        raise SilentLoad(f"{what}: loaded with labels/preprocessing that are not the published ones")


def _flip(path: Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


# Places in a safetensors file, as functions of (file bytes, header length n): the subtlest change (the lowest bit)
# at each; a digit stays a digit ('3' -> '2'), so the JSON stays valid and only the meaning changes.
def _find(token: bytes, skip: int = 0):
    return lambda data, n: data.index(token) + skip


PLACES = {
    "header length, low byte": lambda data, n: 0,
    "header length, high byte": lambda data, n: 7,
    "JSON opening brace": lambda data, n: 8,
    "a dtype": _find(b'"dtype":"F32"', 10),
    "a shape digit": _find(b'"shape":[16,3,3,3]', 10),
    "a data offset digit": _find(b'"data_offsets":[', 17),
    "a tensor name": _find(b'"stem.conv.weight"', 3),
    "the tag value": _find(b'"tag":"testdata"', 8),
    "a label": _find(b"class_3", 6),
    "the mean": _find(b"0.4914", 5),
    "the architecture": _find(b'"arch":"resnet20"', 15),
    "first tensor byte": lambda data, n: 8 + n,
    "middle tensor byte": lambda data, n: (8 + n + len(data)) // 2,
    "last byte": lambda data, n: len(data) - 1,
}


def _offset(path: Path, place: str) -> int:
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    return PLACES[place](data, n)


def flip_by_name(place: str):
    def run(tmp: Path):
        with _hub(tmp) as hub:
            _flip(hub.file, _offset(hub.file, place))
            _accepted(cnnzoo.create_model(NAME, pretrained=True), hub, f"flip in {place}")
    return run


def flip_by_path(place: str, rename: str | None = None):
    """The published file copied elsewhere (under its own name, or ``rename``) and handed over by path."""
    def run(tmp: Path):
        with _hub(tmp, weights_env=False) as hub:
            copy = tmp / "elsewhere" / (rename or hub.file.name)
            copy.parent.mkdir()
            shutil.copyfile(hub.file, copy)
            _flip(copy, _offset(copy, place))
            model = cnnzoo.create_model("resnet20", pretrained=copy)
            if rename is not None and place == "the tag value":
                # no longer claims the published name: a loose file, whose tensors must still be the right ones
                _accepted(model, hub, f"flip in {place} of {rename}")
                if model.pretrained_cfg["tag"] == "testdata":
                    raise SilentLoad("a file whose header lost its tag still claims the published tag")
                return
            _accepted(model, hub, f"flip in {place} (by path)")
    return run


def truncate(keep: str, by_path: bool):
    def run(tmp: Path):
        with _hub(tmp, weights_env=not by_path) as hub:
            data = hub.file.read_bytes()
            n = int.from_bytes(data[:8], "little")
            size = {"4 bytes": 4, "half the header": 8 + n // 2, "all but the last byte": len(data) - 1}[keep]
            hub.file.write_bytes(data[:size])
            model = (cnnzoo.create_model("resnet20", pretrained=hub.file) if by_path
                     else cnnzoo.create_model(NAME, pretrained=True))
            _accepted(model, hub, f"truncated to {keep}")
    return run


# -- the file swapped between the hash and the parse -------------------------------------------------------------

def swapped_after_read(tmp: Path):
    """The moment after the bytes are read (and before anything else happens), another process replaces the file
    with NaN-free but different tensors under the same header: what loads must be what was hashed."""
    with _hub(tmp) as hub:
        evil = {k: (v + 1.0 if v.is_floating_point() else v) for k, v in hub.state.items()}
        swapped = tmp / "swapped.safetensors"
        save_weights(evil, swapped, metadata())
        reads = []
        original = weight_file.read_bytes

        def read_then_swap(path):
            data = original(path)
            reads.append(str(path))
            os.replace(shutil.copyfile(swapped, Path(path).with_suffix(".tmp")), path)
            return data

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(weight_file, "read_bytes", read_then_swap)
            model = cnnzoo.create_model(NAME, pretrained=True)
        if reads != [str(hub.file)]:
            raise AssertionError(f"the weight file was read {len(reads)} times: {reads}")
        if hub.file.read_bytes() != swapped.read_bytes():
            raise AssertionError("the swap did not happen")
        _accepted(model, hub, "file swapped after it was read")


# -- bad tensors ---------------------------------------------------------------------------------------------------

def _loose_file(tmp: Path, hub, change, tag: str = "mine", **meta) -> Path:
    """A file with the published tensors changed by ``change(state)``, under a tag of its own (not indexed)."""
    state = {k: v.clone() for k, v in hub.state.items()}
    change(state)
    path = tmp / "mine.safetensors"
    save_weights(state, path, dict(metadata(tag=tag), **meta))
    return path


def bad_tensors(change, what: str):
    def run(tmp: Path):
        with _hub(tmp) as hub:
            path = _loose_file(tmp, hub, change)
            model = cnnzoo.create_model("resnet20", pretrained=path)
            raise SilentLoad(f"{what} loaded (max |diff| {max_abs_diff(model.state_dict(), hub.state):.3g})")
    return run


def _set(key: str, fn):
    def change(state):
        state[key] = fn(state[key])
    return change


def _nan(t):
    t = t.contiguous().clone()  # the model's conv weights are channels_last
    t.view(-1)[3] = float("nan")
    return t


def _inf(t):
    t = t.contiguous().clone()
    t.view(-1)[0] = float("-inf")
    return t


def _drop(key):
    def change(state):
        del state[key]
    return change


def _extra(state):
    state["stages.0.0.extra.weight"] = torch.zeros(4)


def strict_false_is_explicit(tmp: Path):
    """With strict=False asked for, a missing key is left as initialised and reported; it is never the default."""
    with _hub(tmp) as hub:
        path = _loose_file(tmp, hub, _drop("stages.1.0.conv1.bn.weight"))
        model = cnnzoo.create_model("resnet20")
        report = load_weights(model, path, strict=False)
        if report.missing != ["stages.1.0.conv1.bn.weight"]:
            raise AssertionError(f"strict=False report: {report}")
        kept = [k for k in hub.state if k != "stages.1.0.conv1.bn.weight"]
        if max_abs_diff(model.state_dict(), hub.state, kept) != 0.0:
            raise SilentLoad("strict=False loaded other tensors than the file's")


# -- the classifier --------------------------------------------------------------------------------------------

def index_classes_disagree(tmp: Path):
    """The index says 5 classes, the file's classifier has 10 rows: refused (it used to drop the head)."""
    with _hub(tmp) as hub:
        hub_index.upsert_entry(make_entry(hub.file, hub.sha256, num_classes=5, labels=LABELS[:5]), hub.index)
        model = cnnzoo.create_model(NAME, pretrained=True)
        raise SilentLoad(f"loaded with a {model.num_classes}-class head that the file does not have")


def header_classes_disagree(tmp: Path):
    """A loose file whose header says 10 classes over a 5-row classifier, no num_classes asked: refused."""
    with _hub(tmp) as hub:
        path = _loose_file(tmp, hub, lambda s: s.update({"head.fc.weight": s["head.fc.weight"][:5],
                                                          "head.fc.bias": s["head.fc.bias"][:5]}))
        model = cnnzoo.create_model("resnet20", pretrained=path)
        raise SilentLoad(f"loaded; model has {model.num_classes} classes, labels {model.pretrained_cfg.get('labels')}")


def head_mismatch_without_num_classes(tmp: Path):
    """load_weights into a model with another class count, no reset asked for: refused, nothing replaced."""
    with _hub(tmp):
        model = cnnzoo.create_model("resnet20", num_classes=7)
        load_weights(model, resolve_weights("resnet20", "testdata"))
        raise SilentLoad("a 10-class weight went into a 7-class model without reset_classifier")


def head_reset_when_asked(tmp: Path):
    """num_classes=5 asked for: every other tensor loads, the head is new and the weight's labels are not claimed."""
    with _hub(tmp) as hub:
        model = cnnzoo.create_model(NAME, pretrained=True, num_classes=5)
        kept = [k for k in hub.state if not k.startswith("head.fc.")]
        if max_abs_diff(model.state_dict(), hub.state, kept) != 0.0 or model.head.fc.weight.shape != (5, 64):
            raise SilentLoad("num_classes=5: backbone not loaded as published, or head not 5-way")
        if model.pretrained_cfg.get("labels") is not None:
            raise SilentLoad("a new 5-way head claims the weight's 10 labels")


# -- imports (foreign checkpoints) ---------------------------------------------------------------------------------

IMPORT_ARCH, IMPORT_TAG = "squeezenet1_1", "tv_in1k"  # the smallest importable weight (1.2 M parameters)


def _tv_file(tmp: Path) -> Path:
    import torchvision

    path = tmp / "squeezenet1_1-random.pth"
    torch.save(torchvision.models.squeezenet1_1().state_dict(), path)
    return path


@contextlib.contextmanager
def _cache(tmp: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNNZOO_CACHE", str(tmp / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield tmp / "cache"


def _cli(*args: str) -> str:
    """``cnnzoo ARGS`` in this process: stdout on success, CliRefusal on a one-line error."""
    from cnnzoo.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    if code == 0:
        return out.getvalue()
    lines = err.getvalue().strip().splitlines()
    if code in (1, 2) and len(lines) == 1 and ": error:" in lines[0]:
        raise CliRefusal(lines[0])
    raise RuntimeError(f"cnnzoo {' '.join(args)} exited {code}: {err.getvalue()[-1000:]}")


def import_from(content: bytes | None, name: str, writer=None):
    def run(tmp: Path):
        path = tmp / name
        if writer is not None:
            writer(path)
        else:
            path.write_bytes(content)
        with _cache(tmp) as cache:
            _cli("import", f"{IMPORT_ARCH}.{IMPORT_TAG}", "--from", str(path))
            raise SilentLoad(f"{name} was imported: {sorted(p.name for p in cache.rglob('*'))}")
    return run


class _Payload:  # unpickling this would create a file: weights_only must refuse before
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def import_code_pickle(tmp: Path):
    """A pickle whose loading would run code, handed to the real CLI in its own process: refused, nothing ran."""
    marker = tmp / "code-ran"
    path = tmp / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": {"w": _Payload(str(marker))}}, f, protocol=2)
    env = dict(os.environ, CNNZOO_CACHE=str(tmp / "cache"), HF_HUB_OFFLINE="1")
    try:
        run_cli("import", f"{IMPORT_ARCH}.{IMPORT_TAG}", "--from", str(path), env=env, cwd=REPO)
    finally:
        if marker.exists():
            raise SilentLoad("unpickling ran code")
    raise SilentLoad("a code-executing pickle was imported")


def truncated_sidecar(then: str):
    def run(tmp: Path):
        with _cache(tmp) as cache:
            source = _tv_file(tmp)
            imagenet.import_weights(IMPORT_ARCH, IMPORT_TAG, source_file=source)
            sidecar = cache / "imagenet" / f"{IMPORT_ARCH}.{IMPORT_TAG}.json"
            sidecar.write_bytes(sidecar.read_bytes()[: sidecar.stat().st_size // 2])
            if then == "import again":
                _cli("import", f"{IMPORT_ARCH}.{IMPORT_TAG}", "--from", str(source))
            model = cnnzoo.create_model(f"{IMPORT_ARCH}.{IMPORT_TAG}", pretrained=True)
            ref = convert_state_dict(torch.load(source, weights_only=True), IMPORT_ARCH, "torchvision")
            if max_abs_diff(model.state_dict(), ref) != 0.0:
                raise SilentLoad("the re-imported weight is not the source's")
    return run


_IMPORTER = """
import sys, time
from pathlib import Path
from cnnzoo.hub.importers import imagenet  # the slow part (torch, cnnzoo) before the start signal
Path(sys.argv[2]).touch()
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
path, entry = imagenet.import_weights("{arch}", "{tag}", source_file=sys.argv[1])
print(entry["sha256"])
"""


def concurrent_first_import(tmp: Path):
    """Two real processes import the same foreign weight for the first time at once; the cache entry left behind
    verifies, and both computed the same sha256."""
    source = _tv_file(tmp)
    go = tmp / "go"
    env = dict(os.environ, CNNZOO_CACHE=str(tmp / "cache"), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    script = _IMPORTER.format(arch=IMPORT_ARCH, tag=IMPORT_TAG)
    ready = [tmp / f"ready{i}" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(source), str(r), str(go)], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 180
    while not all(r.exists() for r in ready) and time.monotonic() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.02)
    go.touch()  # both start converting and writing at the same moment
    results = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, results):
        if p.returncode != 0:
            raise RuntimeError(f"importer exited {p.returncode}: {err[-1500:]}")
    digests = {out.strip() for out, _ in results}
    if len(digests) != 1:
        raise AssertionError(f"two processes wrote different files for the same weight: {digests}")
    with _cache(tmp) as cache:
        w = resolve_weights(IMPORT_ARCH, IMPORT_TAG)  # the sidecar's sha256 checked on the bytes loaded
        if w.sha256 not in digests:
            raise AssertionError(f"cache holds {w.sha256}, the importers wrote {digests}")
        leftovers = [p.name for p in (cache / "imagenet").iterdir() if p.name.endswith(".tmp")]
        if leftovers:
            raise AssertionError(f"temporary files left: {leftovers}")


# -- network -------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def silent_server():
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (a hung host, a black hole)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def hanging_host(tmp: Path):
    """The Hub endpoint and the URL both on a host that never answers: one clear WeightsNotFoundError within a few
    timeouts, naming the host and what to do offline."""
    with _hub(tmp, weights_env=False) as hub, silent_server() as base, pytest.MonkeyPatch.context() as mp:
        from huggingface_hub import constants as hf_constants

        mp.delenv("HF_HUB_OFFLINE")
        # huggingface_hub reads HF_HUB_OFFLINE once, at its import, which an earlier case may have done offline
        mp.setattr(hf_constants, "HF_HUB_OFFLINE", False)
        mp.setenv("HF_ENDPOINT", base)
        mp.setenv("HF_HUB_ETAG_TIMEOUT", "1")
        mp.setenv("CNNZOO_DOWNLOAD_TIMEOUT", "1")
        hub_index.upsert_entry(dict(hub.entry, hf_repo_id="cnnzoo-test/silent", url=f"{base}/w.safetensors"),
                               hub.index)
        start = time.monotonic()
        try:
            cnnzoo.create_model(NAME, pretrained=True)
        finally:
            if time.monotonic() - start > 20:
                raise AssertionError(f"a silent host took {time.monotonic() - start:.0f} s")
        raise SilentLoad("loaded from a host that never answered")


def bad_timeout_value(tmp: Path):
    with _hub(tmp, weights_env=False) as hub, pytest.MonkeyPatch.context() as mp:
        mp.delenv("HF_HUB_OFFLINE")
        mp.setenv("CNNZOO_DOWNLOAD_TIMEOUT", "soon")
        hub_index.upsert_entry(dict(hub.entry, url="http://127.0.0.1:9/w.safetensors"), hub.index)
        cnnzoo.create_model(NAME, pretrained=True)
        raise SilentLoad("a timeout of 'soon' was accepted")


CASES = [
    *[FaultCase("weights", f"flip {place} (by name)", flip_by_name(place)) for place in PLACES],
    *[FaultCase("weights", f"flip {place} (by path)", flip_by_path(place)) for place in PLACES],
    FaultCase("weights", "flip the tag value (by path, renamed file)", flip_by_path("the tag value", "x.safetensors"),
              expect="recovered"),
    FaultCase("weights", "flip the middle tensor byte (by path, renamed file)",
              flip_by_path("middle tensor byte", "x.safetensors")),
    *[FaultCase("weights", f"truncate to {keep} ({'by path' if p else 'by name'})", truncate(keep, p))
      for keep in ("4 bytes", "half the header", "all but the last byte") for p in (False, True)],
    FaultCase("weights", "file swapped right after it was read", swapped_after_read, expect="recovered"),
    FaultCase("weights", "NaN in a conv weight", bad_tensors(_set("stem.conv.weight", _nan), "a NaN weight")),
    FaultCase("weights", "-Inf in a BN running_var", bad_tensors(_set("stages.0.0.conv1.bn.running_var", _inf),
                                                                   "an Inf statistic")),
    FaultCase("weights", "int32 conv weight", bad_tensors(_set("stem.conv.weight", lambda t: (t * 100).to(torch.int32)),
                                                          "an int32 weight")),
    FaultCase("weights", "bool BN weight", bad_tensors(_set("stem.bn.weight", lambda t: t > 0), "a bool weight")),
    FaultCase("weights", "float64 conv weight (a float: converted)",
              lambda tmp: _float64(tmp), expect="recovered"),
    FaultCase("weights", "wrong shape", bad_tensors(_set("stages.0.0.conv1.conv.weight", lambda t: t[:, :8]),
                                                    "a wrongly shaped tensor")),
    FaultCase("weights", "missing key", bad_tensors(_drop("stages.1.0.conv1.bn.weight"), "a file missing a key")),
    FaultCase("weights", "unexpected key", bad_tensors(_extra, "a file with an extra key")),
    FaultCase("weights", "strict=False asked for", strict_false_is_explicit, expect="recovered"),
    FaultCase("weights", "index num_classes disagrees with the file", index_classes_disagree),
    FaultCase("weights", "header num_classes disagrees with the file", header_classes_disagree),
    FaultCase("weights", "head mismatch without num_classes", head_mismatch_without_num_classes),
    FaultCase("weights", "head replaced when num_classes asked", head_reset_when_asked, expect="recovered"),
    FaultCase("imports", "text file to import --from", import_from(b"not a checkpoint\n", "notes.txt")),
    FaultCase("imports", "text file named .pth to import --from", import_from(b"hello world\n", "weights.pth")),
    FaultCase("imports", "empty file to import --from", import_from(b"", "empty.pth")),
    FaultCase("imports", "plain pickle to import --from",
              import_from(None, "plain.pkl", lambda p: p.write_bytes(pickle.dumps({"w": [1, 2]}, protocol=4)))),
    FaultCase("imports", "truncated torch.save file to import --from",
              import_from(None, "cut.pth", lambda p: p.write_bytes(_tv_bytes(p.parent)[:5000]))),
    FaultCase("imports", "code-executing pickle to import --from (real CLI)", import_code_pickle),
    FaultCase("imports", "truncated import sidecar, then load offline", truncated_sidecar("load")),
    FaultCase("imports", "truncated import sidecar, then import again", truncated_sidecar("import again"),
              expect="recovered"),
    FaultCase("imports", "two processes import the same weight at once", concurrent_first_import,
              expect="recovered"),
    FaultCase("network", "Hub endpoint and URL on a host that never answers", hanging_host),
    FaultCase("network", "CNNZOO_DOWNLOAD_TIMEOUT=soon", bad_timeout_value),
]


def _float64(tmp: Path):
    with _hub(tmp) as hub:
        path = _loose_file(tmp, hub, _set("stem.conv.weight", lambda t: t.double()))
        _accepted(cnnzoo.create_model("resnet20", pretrained=path), hub, "a float64 tensor")


def _tv_bytes(folder: Path) -> bytes:
    return _tv_file(folder).read_bytes()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fault(case, tmp_path):
    result, detail = outcome(case, tmp_path)
    assert result == case.expect, detail


# -- the messages ----------------------------------------------------------------------------------------------------

def test_altered_copy_by_path_names_file_and_hashes(tmp_path):
    with _hub(tmp_path, weights_env=False) as hub:
        copy = tmp_path / "copy.safetensors"
        shutil.copyfile(hub.file, copy)
        _flip(copy, copy.stat().st_size - 1)
        with pytest.raises(WeightIntegrityError) as info:
            cnnzoo.create_model("resnet20", pretrained=copy)
    msg = str(info.value)
    assert msg.startswith(f"{copy} claims to be the published weight {NAME} (by its header or file name) but its "
                          f"bytes differ: sha256 mismatch\n  expected {hub.sha256}\n")
    assert "save it under another tag" in msg


def test_nan_and_dtype_messages(tmp_path):
    with _hub(tmp_path) as hub:
        path = _loose_file(tmp_path, hub, _set("stem.conv.weight", _nan))
        with pytest.raises(WeightIntegrityError, match=r"mine.safetensors: 1 tensor\(s\) hold NaN or Inf values, "
                                                       r"which would make every prediction NaN: stem.conv.weight "
                                                       r"\(1 NaN, 0 Inf of 432\)"):
            cnnzoo.create_model("resnet20", pretrained=path)
        path = _loose_file(tmp_path, hub, _set("stem.conv.weight", lambda t: t.to(torch.int64)))
        with pytest.raises(WeightIntegrityError, match=r"stem.conv.weight: int64 \(the model's is float32\)"):
            cnnzoo.create_model("resnet20", pretrained=path)


def test_head_messages(tmp_path):
    with _hub(tmp_path) as hub:
        with pytest.raises(WeightIntegrityError, match=r"create_model\(..., num_classes=7\) or "
                                                       r"load_weights\(..., reset_classifier=True\)"):
            load_weights(cnnzoo.create_model("resnet20", num_classes=7), resolve_weights("resnet20", "testdata"))
        hub_index.upsert_entry(make_entry(hub.file, hub.sha256, num_classes=5, labels=LABELS[:5]), hub.index)
        with pytest.raises(WeightIntegrityError, match=r"its index entry says num_classes=5 but the file's "
                                                       r"classifier head.fc.weight has 10 rows"):
            cnnzoo.create_model(NAME, pretrained=True)


def test_vouching_for_exact_bytes_loads_a_retrained_file_under_a_published_tag(tmp_path):
    """One's own run saved under an indexed tag with the published size is refused by path, and loads when the
    caller names its sha256 (what `dev register` knows about the file it has just written)."""
    with _hub(tmp_path, weights_env=False) as hub:
        retrained = {k: (v * 0.5 if v.is_floating_point() else v) for k, v in hub.state.items()}
        path = tmp_path / "run" / "model.safetensors"
        sha = save_weights(retrained, path, metadata())
        assert path.stat().st_size == hub.entry["size"]
        with pytest.raises(WeightIntegrityError, match="claims to be the published weight"):
            cnnzoo.create_model("resnet20", pretrained=path)
        model = cnnzoo.create_model("resnet20", pretrained_cfg_overlay={"file": str(path), "sha256": sha},
                                    pretrained=True)
        assert max_abs_diff(model.state_dict(), retrained) == 0.0 and model.pretrained_cfg["sha256"] == sha
        with pytest.raises(WeightIntegrityError, match="sha256 mismatch"):
            cnnzoo.create_model("resnet20", pretrained_cfg_overlay={"file": str(path), "sha256": hub.sha256},
                                pretrained=True)


def test_save_weights_is_deterministic_across_processes(tmp_path):
    """The same tensors and metadata give the same bytes in two processes (safetensors alone orders the header
    metadata by a per-process hash), which is what keeps concurrent imports consistent."""
    script = ("import sys, torch; from cnnzoo.hub.files.io import save_weights; "
              "from hub_helpers import metadata; "
              "print(save_weights({'a': torch.arange(6.0), 'b': torch.ones(2, 2)}, sys.argv[1], "
              "dict(metadata(), dataset={'name': 'x', 'split': 'train'}, metrics={'top1': 1.0, 'top5': 2.0})))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "tests"), str(REPO)]))
    digests = {subprocess.run([sys.executable, "-c", script, str(tmp_path / f"{i}.safetensors")], env=env,
                              capture_output=True, text=True, check=True).stdout.strip() for i in range(2)}
    assert len(digests) == 1
    assert (tmp_path / "0.safetensors").read_bytes() == (tmp_path / "1.safetensors").read_bytes()
    header = read_header(tmp_path / "0.safetensors")
    assert list(header["__metadata__"]) == sorted(header["__metadata__"])
    assert json.loads(header["__metadata__"]["metrics"]) == {"top1": 1.0, "top5": 2.0}


def test_text_and_pickle_messages(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello world\n")
    with pytest.raises(WeightIntegrityError, match=r"notes.txt is not a checkpoint: neither safetensors nor a "
                                                   r"torch.save file \(it starts with b'hello world\\n'\)"):
        imagenet.import_weights(IMPORT_ARCH, IMPORT_TAG, source_file=text, root=tmp_path / "cache")
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"w": [1, 2]}, protocol=4))
    with pytest.raises(UnsafeWeightsError, match=r"plain.pkl cannot be read without executing code, so cnnzoo "
                                                 r"refuses it \(torch.load weights_only=True said: Unsupported"):
        imagenet.import_weights(IMPORT_ARCH, IMPORT_TAG, source_file=plain, root=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_truncated_sidecar_offline_message(tmp_path):
    with _cache(tmp_path) as cache:
        imagenet.import_weights(IMPORT_ARCH, IMPORT_TAG, source_file=_tv_file(tmp_path))
        sidecar = cache / "imagenet" / f"{IMPORT_ARCH}.{IMPORT_TAG}.json"
        sidecar.write_text(sidecar.read_text()[:100])
        with pytest.raises(WeightsNotFoundError) as info:
            cnnzoo.create_model(f"{IMPORT_ARCH}.{IMPORT_TAG}", pretrained=True)
        assert cnnzoo.model_info(f"{IMPORT_ARCH}.{IMPORT_TAG}", macs=False)["weight"].get("sha256") is None
    msg = str(info.value)
    assert f"({IMPORT_ARCH}.{IMPORT_TAG}.json is unusable: JSONDecodeError" in msg.replace("its record ", "")
    assert f"cnnzoo import {IMPORT_ARCH}.{IMPORT_TAG} --from FILE" in msg


def test_hanging_host_message(tmp_path):
    with pytest.raises(WeightsNotFoundError) as info:
        hanging_host(tmp_path)
    msg = str(info.value)
    assert "did not answer (timed out; waited at most 1 s); without a network set HF_HUB_OFFLINE=1" in msg
    assert "w.safetensors: URLError" in msg or "w.safetensors: TimeoutError" in msg
    assert "To use it offline: put resnet20.testdata.safetensors in a folder and set CNNZOO_WEIGHTS" in msg


def test_bad_timeout_names_the_variable(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"CNNZOO_DOWNLOAD_TIMEOUT='soon' must be a number of seconds > 0"):
        bad_timeout_value(tmp_path)
