import os
from pathlib import Path

# One intra-op thread: the tests use small tensors, and two OpenMP threads on a loaded 2-core machine wait on
# each other at every op (measured: resnet20 forward+backward of 2 images 10 ms with 1 thread, ~1 s with 2
# while other processes ran). Subprocesses (CLI, torchrun) inherit it through the environment.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SHIPPED_FILES = sorted((REPO / "weights").glob("*.safetensors"))  # the weights the repository ships


def data_root() -> Path:
    return Path(os.environ.get("CNNZOO_DATA", SHARED_DATA))


def require_data(*parts: str) -> Path:
    """Path under the real data root; skip (or fail under CI=true) when it is missing."""
    path = data_root().joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"real data missing in CI: {path}")
        pytest.skip(f"real data not found at {path} (set CNNZOO_DATA)")
    return path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
