"""Reading one image file as RGB, with errors that name the file.

An image file is untrusted input: whatever is wrong with it (not an image, truncated, corrupt, or a
"decompression bomb" whose header claims more pixels than ``PIL.Image.MAX_IMAGE_PIXELS``) is a
:class:`DataError` naming the file, never a PIL exception. The pixel limit is PIL's, read at each call, so a
user who really has huge images raises ``PIL.Image.MAX_IMAGE_PIXELS`` (``None`` turns the check off).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_image_file(path: str | Path) -> bool:
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def shown(path) -> str:
    """A path printable in any terminal and encodable as UTF-8: undecodable name bytes appear as ``\\xNN``.
    Anything else that names a file (an open file object) is shown by its ``str``."""
    text = os.fspath(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file system byte maps to
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_pixels(path, img) -> None:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    w, h = img.size
    if limit is not None and w * h > limit:
        raise DataError(f"image {shown(path)} is {w}x{h} ({w * h} pixels), above the limit of {limit} pixels "
                        f"(a decompression bomb?); raise PIL.Image.MAX_IMAGE_PIXELS if the image is genuine")


def _refusal(path, exc: Exception) -> DataError:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return DataError(f"image {shown(path)} is too large to decode safely (a decompression bomb?): {exc}")
    if isinstance(exc, UnidentifiedImageError):  # PIL's message repeats the file (or a file object's repr)
        return DataError(f"cannot read image {shown(path)}: not an image format PIL knows, or a damaged header")
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(f"cannot read image {shown(path)}: {reason}")


def header_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from the header alone, with the checks of :func:`load_rgb` but no decoding."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            _check_pixels(path, img)
            return img.size
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile file can make a decoder raise anything
        raise _refusal(path, exc) from exc


def load_rgb(path: str | Path):
    """Open ``path`` as an RGB PIL image. Grayscale, palette, CMYK, 16-bit and RGBA images are converted
    (alpha is dropped, as torchvision and timm do); an unreadable, truncated or oversized file raises
    :class:`DataError` naming it."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            _check_pixels(path, img)  # from the header, before a byte is decompressed
            img.load()
            if img.mode == "P" and "transparency" in img.info:
                img = img.convert("RGBA")  # palette transparency would otherwise warn
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                img = img.point(lambda v: v * (1 / 256)).convert("L")  # 16-bit gray -> 8-bit
            return img.convert("RGB") if img.mode != "RGB" else img.copy()
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile file can make a decoder raise anything
        raise _refusal(path, exc) from exc
