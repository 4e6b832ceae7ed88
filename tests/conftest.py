import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


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


torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
