"""The README's main job runs as written (after its pip install): it evaluates the published resnet20.cifar10 on
the shipped sample and classifies one image."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnzoo.engine import evaluate
from cnnzoo.hub.index import load_index

REPO = Path(__file__).resolve().parents[1]


def main_job_command() -> str:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    main_job = next(b for b in blocks if "pip install" in b and "[test]" not in b)
    install, _, job = main_job.partition(" && ")
    assert install.startswith("pip install torch==2.14.1 torchvision==0.29.1 -e .")
    return job


def test_readme_main_job_runs_and_reports_the_published_weight(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNZOO_INDEX", raising=False)
    if "resnet20.cifar10" not in load_index():
        pytest.fail("the README's main job needs the published resnet20.cifar10 weight")
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "OMP_NUM_THREADS": "1",
           "CNNZOO_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(["bash", "-c", main_job_command()], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = evaluate("resnet20.cifar10", "sample", "test", precision="auto", device="cpu")  # as `cnnzoo eval`
    assert f"{expected['top1']:.2f}" in done.stdout, done.stdout
    assert re.search(r"\bcat\b", done.stdout), done.stdout  # the predicted classes are named
