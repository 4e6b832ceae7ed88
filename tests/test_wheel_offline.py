"""``pip install cnnzoo`` without the internet: the wheel built from this tree, installed into a fresh virtual
environment in a temporary folder, finds every published weight in a Hugging Face cache laid out as the Hub
leaves it (HF_HUB_OFFLINE=1), checks its sha256, reproduces the indexed top-1 on the sample the package ships,
refuses a cache with one changed byte, and falls back to the URL (a server on 127.0.0.1).

The environment is made with ``--system-site-packages``: installing torch into it from the local wheels is 55
packages and 2.9 GB of wheels (torch + CUDA libraries), minutes on two cores; here the wheel is installed with
``--no-index`` so pip still checks that every dependency it declares is satisfied, by the machine's packages.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cnnzoo.hub.publishing.publish import FILES, publish

from hub_helpers import fill_hf_cache, serve_folder

REPO = Path(__file__).resolve().parents[1]
INDEX = json.loads((REPO / "weights" / "index.json").read_text())["weights"]

LOAD_ALL = """
import json, sys
import cnnzoo
from cnnzoo.engine import evaluate
from cnnzoo.hub.index import store
out = {"package": cnnzoo.__file__, "checkout": str(store.checkout_weights_dir()), "weights": {}}
for name in cnnzoo.list_pretrained(importable=False):
    model = cnnzoo.create_model(name, pretrained=True)
    cfg = model.pretrained_cfg
    row = {k: cfg[k] for k in ("source", "sha256", "file")}
    if name.endswith(".cifar10"):
        row["sample_top1"] = evaluate(model, "sample", "test", precision="fp32", device="cpu")["top1"]
    out["weights"][name] = row
print(json.dumps(out))
"""


def run(args: list[str], env: dict, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """(venv python, wheel, HF_HOME filled with every published repo, the folder to run in)."""
    tmp = tmp_path_factory.mktemp("fresh")
    src = tmp / "src"  # a copy, so the build leaves nothing in the checkout; the index symlink becomes a file
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "cnnzoo", src / "cnnzoo", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(tmp / "dist"),
                str(src)], env, tmp)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next((tmp / "dist").glob("cnnzoo-*.whl"))
    venv = tmp / "venv"
    done = run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], env, tmp)
    assert done.returncode == 0, done.stderr[-2000:]
    python = venv / "bin" / "python"
    done = run([*pip, "--python", str(python), "install", "--no-index", "-q", str(wheel)], env, tmp)
    assert done.returncode == 0, done.stderr[-2000:]

    hf_home, published = tmp / "hf", tmp / "published"
    for name in INDEX:  # what `cnnzoo dev publish NAME --push` uploads, in the cache as a download leaves it
        done = publish(name, out=published / name)
        commit = hashlib.sha1(f"{done.repo_id}@{done.revision}".encode()).hexdigest()
        fill_hf_cache(hf_home / "hub", done.repo_id, {f: done.folder / f for f in FILES}, tags=(done.revision,),
                      commit=commit)
    work = tmp / "work"
    work.mkdir()
    return python, wheel, hf_home, work


def user_env(python: Path, work: Path, hf_home: Path, offline: bool = True) -> dict:
    """A user's shell: no cnnzoo variable, caches in the temporary folder, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNNZOO_", "HF_", "TORCH_"))}
    env.update(PATH=f"{python.parent}:/usr/bin:/bin", HOME=str(work), OMP_NUM_THREADS="1", HF_HOME=str(hf_home),
               TORCH_HOME=str(work / "torch"), CNNZOO_CACHE=str(work / "cnnzoo-cache"))
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def test_wheel_is_small_and_carries_the_index_not_the_weights(fresh):
    _, wheel, _, _ = fresh
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.stat().st_size < 1 << 20, wheel.stat().st_size
    assert not [n for n in names if n.endswith(".safetensors")]
    with zipfile.ZipFile(wheel) as z:
        assert z.read("cnnzoo/hub/index/index.json") == (REPO / "weights" / "index.json").read_bytes()


def test_fresh_install_loads_every_published_weight_offline(fresh):
    python, _, hf_home, work = fresh
    done = run([str(python), "-c", LOAD_ALL], user_env(python, work, hf_home), work)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["package"].startswith(str(python.parents[1])) and out["checkout"] == "None"
    assert sorted(out["weights"]) == sorted(INDEX)
    for name, row in out["weights"].items():
        entry = INDEX[name]
        snapshot_file = Path(row["file"])
        assert (row["source"], row["sha256"]) == ("Hugging Face cache", entry["sha256"]), name
        assert snapshot_file.parts[-4:-2] == (f"models--{entry['hf_repo_id'].replace('/', '--')}", "snapshots")
        assert (snapshot_file.parents[2] / "refs" / entry["hf_revision"]).read_text() == snapshot_file.parent.name
        if "sample_metrics" in entry:
            assert row["sample_top1"] == entry["sample_metrics"]["top1"], name
    # the loop above compared at least the CIFAR-10 weights' shipped-sample top-1 with their index figure
    assert sum("sample_metrics" in INDEX[n] for n in out["weights"]) >= 2


def test_one_changed_byte_in_the_cache_is_refused(fresh, tmp_path):
    python, _, hf_home, work = fresh
    damaged = tmp_path / "hf"
    shutil.copytree(hf_home, damaged, symlinks=True)
    entry = INDEX["resnet20.cifar10"]
    blob = damaged / "hub" / "models--cnnzoo--resnet20.cifar10" / "blobs" / entry["sha256"]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    done = run([str(python.parent / "cnnzoo"), "eval", "resnet20.cifar10", "--data", "sample"],
               user_env(python, work, damaged), work)
    commit = hashlib.sha1(f"{entry['hf_repo_id']}@{entry['hf_revision']}".encode()).hexdigest()
    file = damaged / "hub" / "models--cnnzoo--resnet20.cifar10" / "snapshots" / commit / "model.safetensors"
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"cnnzoo eval: error: weight resnet20.cifar10 {file} is damaged or not the published "
                           f"file: sha256 mismatch; expected {entry['sha256']}; actual   "
                           f"{hashlib.sha256(bytes(data)).hexdigest()}; Delete it and fetch it again (or pass the "
                           f"right file).\n")


def test_url_fallback_into_the_torch_hub_cache(fresh, tmp_path):
    """No Hub cache; the Hub endpoint and the release URL are a server on 127.0.0.1 that has only the asset."""
    python, _, _, work = fresh
    entry = INDEX["resnet20.cifar10"]
    asset = entry["url"].rsplit("/", 1)[1]
    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(REPO / "weights" / entry["file"], site / asset)
    with serve_folder(site) as (base, requests):
        index = json.loads((REPO / "weights" / "index.json").read_text())
        index["weights"]["resnet20.cifar10"]["url"] = f"{base}/{asset}"
        (tmp_path / "index.json").write_text(json.dumps(index))
        env = dict(user_env(python, work, tmp_path / "empty-hf", offline=False), HF_ENDPOINT=base,
                   CNNZOO_INDEX=str(tmp_path / "index.json"), TORCH_HOME=str(tmp_path / "torch"))
        code = ("import cnnzoo; m = cnnzoo.create_model('resnet20.cifar10', pretrained=True); "
                "print(m.pretrained_cfg['source'], m.pretrained_cfg['sha256'], m.pretrained_cfg['file'])")
        done = run([str(python), "-c", code], env, work)
    assert done.returncode == 0, done.stderr[-3000:]
    kept = tmp_path / "torch" / "hub" / "checkpoints" / asset
    assert done.stdout.split() == ["URL", entry["sha256"], str(kept)]
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == entry["sha256"]
    assert f"/cnnzoo/resnet20.cifar10/resolve/{entry['hf_revision']}/model.safetensors" in requests
    assert requests[-1] == f"/{asset}"
