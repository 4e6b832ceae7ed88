"""Where the project's own weights live online, set here and nowhere else.

Every entry of weights/index.json names its remote home with three fields that :func:`remote_home` derives
from the entry's name and sha256: ``hf_repo_id`` (a Hugging Face Hub repo under :data:`HF_ORGANIZATION`),
``hf_revision`` (a Hub tag named after the file's sha256, created by ``cnnzoo dev publish --push`` on the commit
that holds exactly that file, so a re-trained weight gets a new tag and an older cnnzoo keeps loading the old
file) and ``url`` (a release asset whose name carries the sha256 too, the fallback when the Hub cannot be used).
"""
from __future__ import annotations

HF_ORGANIZATION = "cnnzoo"
RELEASE_URL = "https://github.com/cnnzoo/cnnzoo/releases/download/weights"
HF_FILENAME = "model.safetensors"


def revision_tag(sha256: str) -> str:
    return f"sha256-{sha256[:16]}"


def asset_name(name: str, sha256: str) -> str:
    """Release asset of weight ``name``: torchvision's convention of a hash prefix in the file name."""
    return f"{name}-{sha256[:8]}.safetensors"


def remote_home(name: str, sha256: str) -> dict[str, str]:
    """The ``hf_repo_id``, ``hf_revision`` and ``url`` fields of the project's weight ``name`` (``arch.tag``)."""
    return {"hf_repo_id": f"{HF_ORGANIZATION}/{name}", "hf_revision": revision_tag(sha256),
            "url": f"{RELEASE_URL}/{asset_name(name, sha256)}"}
