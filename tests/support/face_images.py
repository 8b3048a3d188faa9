"""The labelled face photos in ../shared/data/faces (one folder per person), and copies of them
made with PIL: mirrored, re-encoded, blurred, shrunk. Read where they lie, never copied in."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
MULTI = "multi"  # images with more than one face: never a pair, always refused


def labelled() -> dict[str, Path]:
    """'person/N.jpg' -> path, for every single-face photo; fails loudly if the data is absent."""
    photos = {f"{path.parent.name}/{path.name}": path for path in sorted(FACES.glob("*/*.jpg"))
              if path.parent.name != MULTI}
    if not photos:
        raise FileNotFoundError(f"no labelled face photos under {FACES}")
    return photos


def multi_face() -> list[Path]:
    return sorted((FACES / MULTI).glob("*.jpg"))


def person(name: str) -> str:
    """The person a 'person/N.jpg' name belongs to."""
    return name.split("/", 1)[0]


def opened(name: str) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(FACES / name)).convert("RGB")


def encode(image: Image.Image, image_format: str = "JPEG", quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, image_format, quality=quality)
    else:
        image.save(buffer, image_format)
    return buffer.getvalue()


def mirrored(name: str) -> bytes:
    """The photo flipped left to right: a face turned one way now turns the other."""
    return encode(ImageOps.mirror(opened(name)))
