"""torch.hub from a clone of the repository (source="local", as torch.hub.load("OWNER/cnnzoo", ...) uses its
download): the clone's own package is imported, its weights/ resolve first, and without them the weight comes
from the Hugging Face cache offline, sha256 checked either way. hubconf.py's ``dependencies`` names every
third-party module that this imports and that no other listed dependency brings in."""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

from cnnzoo.hub.publishing.publish import FILES, publish

from hub_helpers import fill_hf_cache

REPO = Path(__file__).resolve().parents[1]
ENTRY = json.loads((REPO / "weights" / "index.json").read_text())["weights"]["resnet20.cifar10"]

# Loads through torch.hub, then reports what it loaded and every third-party top-level module that the cnnzoo
# modules it ran import (anywhere in their body) and that is now imported.
LOAD = """
import ast, json, sys
import torch
model = torch.hub.load(sys.argv[1], "resnet20", source="local", pretrained=True)
import cnnzoo
hubconf = sys.argv[1] + "/hubconf.py"  # torch.hub runs it without keeping it in sys.modules
names = set()
for path in [hubconf] + [m.__file__ for m in list(sys.modules.values()) if m.__name__.split(".")[0] == "cnnzoo"]:
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split(".")[0])
third_party = sorted(n for n in names if n in sys.modules and n not in sys.stdlib_module_names
                     and n not in ("cnnzoo", "hubconf", "__future__"))
cfg = model.pretrained_cfg
print(json.dumps(dict(package=cnnzoo.__file__, source=cfg["source"], sha256=cfg["sha256"], file=cfg["file"],
                      imported=third_party)))
"""


def load_from_clone(clone: Path, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", LOAD, str(clone)], cwd=clone.parent, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = tmp_path_factory.mktemp("torchhub")
    done = subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO), str(root / "cnnzoo")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "cnnzoo"


def clean_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNNZOO_", "HF_", "TORCH_"))}
    return dict(env, OMP_NUM_THREADS="1", HF_HOME=str(tmp / "hf"), HF_HUB_OFFLINE="1",
                TORCH_HOME=str(tmp / "torch"), CNNZOO_CACHE=str(tmp / "cache"))


@pytest.fixture(scope="module")
def loads(clone, tmp_path_factory):
    """What torch.hub.load reported: from the clone's weights/, then with that file gone, from the HF cache."""
    tmp = tmp_path_factory.mktemp("torchhub-env")
    env = clean_env(tmp)
    from_clone = load_from_clone(clone, env)
    done = publish("resnet20.cifar10", out=tmp / "published")
    fill_hf_cache(tmp / "hf" / "hub", done.repo_id, {f: done.folder / f for f in FILES}, tags=(done.revision,))
    (clone / "weights" / ENTRY["file"]).unlink()
    return from_clone, load_from_clone(clone, env), tmp


def test_clone_resolves_its_own_weights_then_the_hub_cache(clone, loads):
    from_clone, from_cache, tmp = loads
    assert Path(from_clone["package"]).is_relative_to(clone)  # the clone's code, not the installed cnnzoo
    assert (from_clone["source"], from_clone["file"], from_clone["sha256"]) == (
        "checkout weights/", str(clone / "weights" / ENTRY["file"]), ENTRY["sha256"])
    assert (from_cache["source"], from_cache["sha256"]) == ("Hugging Face cache", ENTRY["sha256"])
    assert Path(from_cache["file"]).is_relative_to(tmp / "hf" / "hub" / "models--cnnzoo--resnet20.cifar10")
    assert hashlib.sha256(Path(from_cache["file"]).read_bytes()).hexdigest() == ENTRY["sha256"]


def _distribution(module: str) -> str:
    return packages_distributions()[module][0].lower().replace("_", "-")


def _closure(dists: set[str]) -> set[str]:
    """The distributions that installing ``dists`` brings in (their requirements, recursively)."""
    seen, todo = set(), list(dists)
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        try:
            reqs = requires(dist) or []
        except PackageNotFoundError:
            continue
        todo += [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs
                 if "extra ==" not in r]
    return seen


def test_hubconf_dependencies_name_everything_it_needs(loads):
    from_clone, from_cache, _ = loads
    tree = ast.parse((REPO / "hubconf.py").read_text())
    assigned = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "dependencies"]
    listed = ast.literal_eval(assigned[0].value)
    imported = set(from_clone["imported"]) | set(from_cache["imported"])
    assert "huggingface_hub" in from_cache["imported"]  # the Hub cache route needs it
    brought = _closure({_distribution(m) for m in listed}) - {_distribution(m) for m in listed}
    missing = sorted(m for m in imported if m not in listed and _distribution(m) not in brought)
    assert missing == []
    # each listed name is an importable module (what torch.hub checks) that pyproject.toml requires
    pyproject = (REPO / "pyproject.toml").read_text()
    for module in listed:
        assert re.search(rf'"{re.escape(_distribution(module))}[<>=!~ ,"]', pyproject.lower().replace("_", "-")), \
            module
