"""Reading one image file as RGB, with errors that name the file."""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_image_file(path: str | Path) -> bool:
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def load_rgb(path: str | Path):
    """Open ``path`` as an RGB PIL image. Grayscale, palette, CMYK, 16-bit and RGBA images are converted
    (alpha is dropped, as torchvision and timm do); an unreadable file raises :class:`DataError` naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode == "P" and "transparency" in img.info:
                img = img.convert("RGBA")  # palette transparency would otherwise warn
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                img = img.point(lambda v: v * (1 / 256)).convert("L")  # 16-bit gray -> 8-bit
            return img.convert("RGB") if img.mode != "RGB" else img.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc
