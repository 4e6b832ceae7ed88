"""Weight files on disk: safetensors with self-describing header metadata, sha256, atomic writes.

Loading never executes code: only safetensors is read here, and a pickle (``torch.save``) file offered as
weights is recognised by its first bytes or its extension and refused with :class:`UnsafeWeightsError`.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import torch

from ...errors import InvalidArgumentError, UnsafeWeightsError, WeightIntegrityError
from ...version import __version__

# What a loose file must say about itself to be usable without the index.
REQUIRED_METADATA = ("arch", "tag", "num_classes", "labels", "input_size", "mean", "std")
# Metadata values kept as plain strings; every other value is JSON (lists, dicts, numbers).
STRING_METADATA = {"arch", "tag", "format", "interpolation", "license", "date", "cnnzoo_version", "dataset_name"}
PICKLE_SUFFIXES = {".pth", ".pt", ".bin", ".pkl", ".pickle", ".ckpt", ".tar"}
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit


# -- atomic writes ---------------------------------------------------------------------------------------------

def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place only if the block finishes.

    A crash or an exception leaves the previous file (or nothing) and no temporary behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give what open() would have given
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def copy_atomic(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    import shutil

    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


# -- hashing ---------------------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def check_digest(path, expected: str, actual: str, what: str) -> str:
    if actual != expected.lower():
        raise WeightIntegrityError(
            f"{what} {path} is damaged or not the published file: sha256 mismatch\n"
            f"  expected {expected}\n  actual   {actual}\n"
            f"Delete it and fetch it again (or pass the right file)."
        )
    return actual


def verify_sha256(path: str | os.PathLike, expected: str, what: str = "weight file") -> str:
    """Hash ``path`` and compare with ``expected``; the error names the file and both hashes."""
    return check_digest(path, expected, sha256_file(path), what)


def read_verified(path: str | os.PathLike, expected: str | None, what: str = "weight file") -> tuple[bytes, str]:
    """The bytes of ``path`` and their sha256, read once, so that what is checked is exactly what is loaded
    (:func:`tensors_from_bytes`); with ``expected``, a different hash raises :class:`WeightIntegrityError`."""
    data = Path(path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    return data, (check_digest(path, expected, actual, what) if expected is not None else actual)


# -- metadata --------------------------------------------------------------------------------------------------

def encode_metadata(metadata: Mapping[str, object]) -> dict[str, str]:
    """safetensors metadata values must be strings: keep strings, JSON-encode everything else."""
    out = {}
    for key, value in metadata.items():
        if value is None:
            continue
        # sort_keys: the same metadata gives the same bytes (and sha256) in every process
        out[str(key)] = value if isinstance(value, str) and key in STRING_METADATA else json.dumps(value,
                                                                                                  sort_keys=True)
    return out


def decode_metadata(raw: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in raw.items():
        if key in STRING_METADATA:
            out[key] = value
            continue
        try:
            out[key] = json.loads(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def check_metadata(metadata: Mapping[str, object]) -> None:
    missing = [k for k in REQUIRED_METADATA if metadata.get(k) is None]
    if missing:
        raise InvalidArgumentError(
            f"weight metadata lacks {', '.join(missing)}; a weight file must carry {', '.join(REQUIRED_METADATA)}"
        )
    n, labels = metadata["num_classes"], metadata["labels"]
    if not isinstance(n, int) or n < 0:
        raise InvalidArgumentError(f"metadata num_classes must be an integer >= 0, got {n!r}")
    if not isinstance(labels, (list, tuple)) or len(labels) != n:
        count = len(labels) if isinstance(labels, (list, tuple)) else type(labels).__name__
        raise InvalidArgumentError(f"metadata labels must be a list of num_classes={n} names, got {count}")
    size = metadata["input_size"]
    if not isinstance(size, (list, tuple)) or len(size) != 3:
        raise InvalidArgumentError(f"metadata input_size must be (channels, height, width), got {size!r}")
    for key in ("mean", "std"):
        if not isinstance(metadata[key], (list, tuple)) or len(metadata[key]) != size[0]:
            raise InvalidArgumentError(f"metadata {key} must have one value per channel ({size[0]}), "
                                       f"got {metadata[key]!r}")


# -- safetensors write / read ----------------------------------------------------------------------------------

def _plain_tensors(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous, and no two tensors sharing memory (safetensors refuses shared storage)."""
    out, seen = {}, set()
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise InvalidArgumentError(f"state_dict entry {key!r} is a {type(value).__name__}, not a tensor")
        t = value.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr() if t.numel() else None
        if ptr is not None and ptr in seen:
            t = t.clone()
        elif ptr is not None:
            seen.add(ptr)
        out[key] = t
    return out


def save_weights(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike, metadata: Mapping) -> str:
    """Write ``state_dict`` as safetensors with self-describing header metadata; returns the file's sha256.

    ``metadata`` needs at least arch, tag, num_classes, labels, input_size, mean and std (more keys, e.g.
    interpolation, crop_pct, dataset, metrics, are kept). The file appears only once complete.
    """
    from safetensors.torch import save

    meta = dict(metadata)
    meta.setdefault("format", "pt")
    meta.setdefault("cnnzoo_version", __version__)
    check_metadata(meta)
    data = canonical_safetensors(save(_plain_tensors(state_dict), metadata=encode_metadata(meta)))
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()  # of the bytes written, not of a file another process may replace


def canonical_safetensors(data: bytes) -> bytes:
    """``data`` with its JSON header re-serialised with sorted keys.

    safetensors writes ``__metadata__`` in hash-map order, which differs between processes, so the same
    weight saved twice could get two sha256s (two processes importing it at once then disagree with each
    other's index entry). Sorted, compact and space-padded to 8 bytes as safetensors pads it, the header is
    a function of the content only; the tensor bytes are unchanged (their offsets are relative to the data).
    """
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + n:]


def starts_like_safetensors(head: bytes, size: int) -> bool:
    """8-byte little-endian header length that fits the file, then the JSON header's opening brace."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= size - 8 and head[8:9] == b"{"


def looks_like_pickle(head: bytes) -> bool:
    """torch.save's zip container or a raw pickle's protocol 2-5 opcode."""
    return head[:4] == b"PK\x03\x04" or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def refuse_pickle(path: str | os.PathLike) -> None:
    """Raise UnsafeWeightsError for a torch.save / pickle file (zip or raw pickle magic, or a pickle
    extension such as .pth/.bin) that is not a safetensors file."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(9)
    refuse_pickle_bytes(head, path.stat().st_size, path)


def refuse_pickle_bytes(head: bytes, size: int, path: str | os.PathLike) -> None:
    """:func:`refuse_pickle` for a file whose first bytes ``head`` and ``size`` were already read."""
    path = Path(path)
    if starts_like_safetensors(head, size):
        return
    if looks_like_pickle(head) or path.suffix.lower() in PICKLE_SUFFIXES:
        raise UnsafeWeightsError(
            f"{path} is a pickle/torch.save file; cnnzoo loads weights only from safetensors, because unpickling "
            f"can execute code. Convert a checkpoint you trust with `cnnzoo import ARCH.TAG --from {path.name}` "
            f"(reads it with torch.load(weights_only=True)) or safetensors.torch.save_file."
        )


def read_header(path: str | os.PathLike) -> dict:
    """The safetensors JSON header (tensor table + ``__metadata__``), read without loading any tensor.

    Checks that the file is as long as the header says, so a truncated file is caught before hashing.
    """
    path = Path(path)
    refuse_pickle(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        n = _header_length(f.read(8), size, path)
        return _decode_header(f.read(n), n, size, path)


def header_from_bytes(data: bytes, path: str | os.PathLike) -> dict:
    """:func:`read_header` of a file's bytes already in memory (``path`` only names it in errors)."""
    refuse_pickle_bytes(data[:9], len(data), path)
    n = _header_length(data[:8], len(data), path)
    return _decode_header(data[8:8 + n], n, len(data), path)


def _header_length(prefix: bytes, size: int, path) -> int:
    if len(prefix) < 8:
        raise WeightIntegrityError(f"{path} is not a safetensors file: only {size} bytes")
    (n,) = struct.unpack("<Q", prefix)
    if n > min(_MAX_HEADER, size - 8):
        raise WeightIntegrityError(
            f"{path} is not a valid safetensors file (header length {n} for a {size}-byte file): "
            f"truncated or not safetensors")
    return n


def _int_list(value, length: int | None = None) -> bool:
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value))


def _decode_header(raw: bytes, n: int, size: int, path) -> dict:
    """The JSON header, each tensor entry well formed, and the file exactly as long as the entries say."""
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
        raise WeightIntegrityError(f"{path} has a corrupt safetensors header: {str(exc)[:200]}") from None
    if not isinstance(header, dict):
        raise WeightIntegrityError(f"{path} has a corrupt safetensors header (not a JSON object)")
    end = 0
    for key, value in header.items():
        if key == "__metadata__":
            if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                raise WeightIntegrityError(f"{path} has a corrupt safetensors header: __metadata__ must map names "
                                           f"to strings")
            continue
        ok = (isinstance(value, dict) and isinstance(value.get("dtype"), str) and _int_list(value.get("shape"))
              and _int_list(value.get("data_offsets"), 2) and value["data_offsets"][0] <= value["data_offsets"][1])
        if not ok:
            raise WeightIntegrityError(f"{path} has a corrupt safetensors header: entry {str(key)[:80]!r} is not "
                                       f"{{dtype, shape, data_offsets}}")
        end = max(end, value["data_offsets"][1])
    expected = 8 + n + end
    if expected != size:
        raise WeightIntegrityError(
            f"{path} is {size} bytes but its header describes {expected}: the file is truncated or altered")
    return header


def read_metadata(path: str | os.PathLike) -> dict[str, object]:
    """The decoded ``__metadata__`` of a safetensors file (empty dict when it has none)."""
    return decode_metadata(read_header(path).get("__metadata__") or {})


def tensor_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v["shape"]) for k, v in read_header(path).items() if k != "__metadata__"}


def tensors_from_bytes(data: bytes, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Every tensor of safetensors ``data`` (read from ``path``, named in errors), on the CPU."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        state = load(data)
    except (SafetensorError, ValueError, KeyError, TypeError, RuntimeError, OverflowError) as exc:
        # safetensors' own checks (offsets, dtypes) plus torch's view of the buffer: any failure is a bad file
        raise WeightIntegrityError(f"{path} could not be read as safetensors: {str(exc)[:300]}") from None
    return {k: state[k] for k in sorted(state)}  # the order of load_file (and of the file's header)


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file, on the CPU (after the pickle and length checks)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    read_header(path)
    try:
        return load_file(str(path), device="cpu")
    except SafetensorError as exc:
        raise WeightIntegrityError(f"{path} could not be read as safetensors: {exc}") from None
