"""Checkpoints of other libraries (torchvision / timm ``.pth``, ``.bin`` or safetensors) read as a flat
``{name: tensor}`` dict, never executing code."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import torch

from ...errors import UnsafeWeightsError, WeightIntegrityError, WeightsNotFoundError
from ..files.io import load_tensors, refuse_pickle

_WRAPPERS = ("state_dict", "model", "module")


def read_foreign_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A torchvision / timm checkpoint file as a flat ``{name: tensor}`` dict, never executing code.

    safetensors is read directly; anything else with ``torch.load(weights_only=True)``, which refuses
    pickles that would need arbitrary code.
    """
    import pickle

    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint {path} does not exist")
    try:
        refuse_pickle(path)
        return load_tensors(path)
    except UnsafeWeightsError:
        pass  # a pickle: read it the safe way below
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UnsafeWeightsError(f"{path} cannot be read without executing code, so cnnzoo refuses it "
                                 f"(torch.load weights_only=True said: {first[:300]})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise WeightIntegrityError(f"{path} is not a readable checkpoint: {exc}") from None
    while isinstance(obj, Mapping) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        key = next((k for k in _WRAPPERS if k in obj), None)
        if key is None:
            break
        obj = obj[key]
    if not isinstance(obj, Mapping) or not obj:
        raise WeightIntegrityError(f"{path} holds no state_dict (got {type(obj).__name__})")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightIntegrityError(f"{path}: entries that are not tensors: {', '.join(map(str, bad[:5]))}")
    # nn.DataParallel / DDP checkpoints prefix every key with "module."
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return undo_legacy_densenet_keys(dict(obj))


# torchvision's published DenseNet files predate its current names: "denselayer1.norm.1.weight" for
# "denselayer1.norm1.weight" (torchvision renames them on load; so must we).
_LEGACY_DENSE = re.compile(r"(.*denselayer\d+\.(?:norm|relu|conv))\.([12])\.(weight|bias|running_mean|running_var)")


def undo_legacy_densenet_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {_LEGACY_DENSE.sub(r"\1\2.\3", k) if _LEGACY_DENSE.fullmatch(k) else k: v for k, v in state.items()}
