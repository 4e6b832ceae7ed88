"""Checkpoints of other libraries (torchvision / timm ``.pth``, ``.bin`` or safetensors) read as a flat
``{name: tensor}`` dict, never executing code."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import torch

from ...errors import UnsafeWeightsError, WeightIntegrityError, WeightsNotFoundError
from ..files.io import load_tensors, looks_like_pickle, starts_like_safetensors

_WRAPPERS = ("state_dict", "model", "module")


def _load_weights_only(path: Path):
    """``torch.load(weights_only=True)``; every failure becomes one line (no code runs, none is suggested)."""
    import pickle
    import warnings

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing; the refusal says it all
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message opens with advice to pass weights_only=False, i.e. to run the file's code: only the
        # reason after "WeightsUnpickler error:" is repeated
        text = str(exc)
        after = text.partition("WeightsUnpickler error:")[2] or text
        reason = " ".join(ln.strip() for ln in after.splitlines()
                          if ln.strip() and not ln.strip().startswith("Check the documentation"))
        raise UnsafeWeightsError(f"{path} cannot be read without executing code, so cnnzoo refuses it "
                                 f"(torch.load weights_only=True said: {reason[:300]})") from None
    except Exception as exc:  # noqa: BLE001 - a damaged zip, a truncated pickle, a bad opcode: a bad file
        raise WeightIntegrityError(f"{path} is not a readable torch.save checkpoint "
                                   f"({type(exc).__name__}: {str(exc).strip()[:200]})") from None


def read_foreign_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A torchvision / timm checkpoint file as a flat ``{name: tensor}`` dict, never executing code.

    safetensors is read directly; a torch.save / pickle file (recognised by its first bytes, not its name) with
    ``torch.load(weights_only=True)``, which refuses pickles that would need arbitrary code. Anything else (a
    text file, an empty or unknown file) is refused with one line before any unpickler sees it.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"checkpoint {path} does not exist")
    with open(path, "rb") as f:
        head = f.read(16)
    if starts_like_safetensors(head, path.stat().st_size):
        return load_tensors(path)
    if not looks_like_pickle(head):
        raise WeightIntegrityError(f"{path} is not a checkpoint: neither safetensors nor a torch.save file "
                                   f"(it starts with {head[:12]!r}); pass the .pth/.bin/.safetensors weight file")
    obj = _load_weights_only(path)
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
