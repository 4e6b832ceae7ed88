"""Reads and updates weights/index.json, the single source of truth about published weights.

The index lives in the repository's ``weights/`` folder; ``cnnzoo/hub/index/index.json`` is a symlink to it so
that an installed wheel carries a copy. ``$CNNZOO_INDEX`` (a path to another index.json) overrides both, which is
how tests and private weight collections work without touching the committed file.

Format: ``{"format": 1, "weights": {"arch.tag": entry}}``; the fields of an entry are in :mod:`.schema`.
Reading checks every entry against the schema: a malformed index (not JSON, nested absurdly deep, a missing or
mistyped field) is an :class:`InvalidArgumentError` naming the file and the problems, never a raw KeyError.
An architecture's default weight is the entry marked ``"default": true``, else its first entry in file order.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
from pathlib import Path
from typing import Iterator, Mapping

from ...errors import InvalidArgumentError, UnknownTagError
from ...registry import is_model
from ..files.io import write_json_atomic
from .schema import check_entry, entry_problems

INDEX_NAME = "index.json"
INDEX_FORMAT = 1
PACKAGED_INDEX = Path(__file__).with_name(INDEX_NAME)
INDEX_ENV = "CNNZOO_INDEX"
MAX_DEPTH = 16  # an entry nests 4 levels deep (index -> weights -> entry -> dataset); far more is not an index


def checkout_weights_dir() -> Path | None:
    """``weights/`` of a source checkout or torch.hub clone (the folder above the package), if present."""
    candidate = Path(__file__).resolve().parents[3] / "weights"
    return candidate if (candidate / INDEX_NAME).is_file() else None


def index_path() -> Path:
    override = os.environ.get(INDEX_ENV)
    if override:
        return Path(override).expanduser()
    checkout = checkout_weights_dir()
    return checkout / INDEX_NAME if checkout is not None else PACKAGED_INDEX


def _parse(path: str) -> dict:
    """The index file's JSON with its top level checked (entries are checked by :func:`_read`)."""
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except ValueError as exc:  # also a file that is not UTF-8
            raise InvalidArgumentError(f"weights index {path} is not valid JSON: {exc}") from None
        except RecursionError:
            raise InvalidArgumentError(f"weights index {path} is not an index: its JSON nests too deeply") from None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT or not isinstance(data.get("weights"), dict):
        raise InvalidArgumentError(f"weights index {path} must be {{\"format\": {INDEX_FORMAT}, \"weights\": {{...}}}}")
    if _depth(data) > MAX_DEPTH:  # copying or printing it later would overflow the stack
        raise InvalidArgumentError(f"weights index {path} is not an index: its JSON nests deeper than {MAX_DEPTH}")
    return data


def _depth(value) -> int:
    """How deeply lists and objects nest in ``value`` (iterative: the value may be hostile)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> dict:
    """The index, every entry checked against the schema once per file version: whoever reads an entry may rely
    on its fields (a wrong type or a missing key is refused here, naming the file, not a KeyError later)."""
    data = _parse(path)
    problems = [f"{name}: {p}" for name, entry in data["weights"].items() for p in entry_problems(name, entry)]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InvalidArgumentError(f"weights index {path} has invalid entries (cnnzoo.hub.index.schema): {shown}")
    return data


def _raw(path: Path, checked: bool = True) -> dict:
    if not path.is_file():
        return {"format": INDEX_FORMAT, "weights": {}}
    st = path.stat()
    return _read(str(path), st.st_mtime_ns, st.st_size) if checked else _parse(str(path))


def load_index(path: str | os.PathLike | None = None) -> dict[str, dict]:
    """``{"arch.tag": entry}`` of every indexed weight, in file order (re-read when the file changes).

    The returned dict is a copy: changing it does not change the index.
    """
    return copy.deepcopy(_raw(Path(path) if path is not None else index_path())["weights"])


def get_entry(name: str, path: str | os.PathLike | None = None) -> dict | None:
    entry = _raw(Path(path) if path is not None else index_path())["weights"].get(name)
    return copy.deepcopy(entry) if entry is not None else None


def indexed_names(path: str | os.PathLike | None = None) -> list[str]:
    """Every ``arch.tag`` of the index, in file order."""
    return list(_raw(Path(path) if path is not None else index_path())["weights"])


def indexed_tags(arch: str, path: str | os.PathLike | None = None) -> list[str]:
    """Tags of ``arch`` in the index, the default first."""
    weights = _raw(Path(path) if path is not None else index_path())["weights"]
    tags = [e["tag"] for n, e in weights.items() if n.split(".", 1)[0] == arch]
    defaults = [e["tag"] for n, e in weights.items() if n.split(".", 1)[0] == arch and e.get("default")]
    return defaults[:1] + [t for t in tags if t not in defaults[:1]]


# -- writing ---------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the index between processes (POSIX; a no-op elsewhere)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename still prevents a torn file
        yield
        return
    # The lock lives in the temp dir, not beside the index, so a checkout's weights/ stays clean.
    import hashlib
    import tempfile

    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"cnnzoo-index-{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upsert_entry(entry: Mapping, path: str | os.PathLike | None = None, replace: bool = True) -> Path:
    """Validate ``entry`` and write it into the index under ``architecture.tag`` (atomically).

    An existing entry keeps its position (so the default weight stays the default); a new one is appended.
    """
    entry = dict(entry)
    name = f"{entry.get('architecture')}.{entry.get('tag')}"
    check_entry(name, entry)
    if not is_model(entry["architecture"]):
        raise InvalidArgumentError(f"weights index entry {name!r}: architecture {entry['architecture']!r} "
                                   f"is not registered (cnnzoo.list_models())")
    path = Path(path) if path is not None else index_path()
    with _locked(path):
        data = copy.deepcopy(_raw(path, checked=False)) if path.is_file() else {"format": INDEX_FORMAT, "weights": {}}
        if name in data["weights"] and not replace:
            raise InvalidArgumentError(f"weights index {path} already has {name!r}; use upsert_entry to replace it")
        data["weights"][name] = entry
        write_json_atomic(path, data)
    return path


def add_entry(entry: Mapping, path: str | os.PathLike | None = None) -> Path:
    """Like :func:`upsert_entry`, but refuses to replace an existing entry."""
    return upsert_entry(entry, path, replace=False)


def remove_entry(name: str, path: str | os.PathLike | None = None) -> Path:
    path = Path(path) if path is not None else index_path()
    with _locked(path):
        data = copy.deepcopy(_raw(path, checked=False))  # removing a broken entry must stay possible
        if name not in data["weights"]:
            raise UnknownTagError(f"{name!r} is not in the weights index {path}")
        del data["weights"][name]
        write_json_atomic(path, data)
    return path


def validate_index(path: str | os.PathLike | None = None) -> list[str]:
    """Problems of every entry (``"arch.tag: problem"``); empty when the index is valid."""
    weights = _raw(Path(path) if path else index_path(), checked=False)["weights"]
    return [f"{name}: {p}" for name, entry in weights.items() for p in entry_problems(name, entry)]
