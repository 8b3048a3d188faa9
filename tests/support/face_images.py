"""The labelled face photos (one folder per person; `multi/` holds photos of several people),
and copies of them made with PIL: mirrored, re-encoded, blurred, shrunk.

The photos are public figures' from the examples of the MIT-licensed `face_recognition`
project. They are not part of the repository and are never copied in: the tests and the face
benchmark read them where they lie, at FACES, and fail loudly when they are absent."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"  # beside the checkout
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


def tilted(name: str, degrees: float, distance: float = 1.5) -> bytes:
    """The photo as a camera sees it printed and turned about its vertical axis by `degrees`,
    the print `distance` image-widths from the lens: a pinhole projection of the flat page."""
    image = opened(name)
    width, height = image.size
    angle = math.radians(degrees)
    depth = distance * width

    def seen(x: float, y: float) -> tuple[float, float]:
        x, y = x - width / 2, y - height / 2
        scale = depth / (depth + x * math.sin(angle))
        return width / 2 + x * math.cos(angle) * scale, height / 2 + y * scale

    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    return encode(image.transform(image.size, Image.Transform.PERSPECTIVE,
                                  perspective_from([seen(x, y) for x, y in corners], corners),
                                  Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)))


def perspective_from(seen: list[tuple[float, float]],
                     source: list[tuple[float, float]]) -> list[float]:
    """PIL's eight coefficients mapping each point of the output (`seen`) back to `source`."""
    rows, values = [], []
    for (x, y), (u, v) in zip(seen, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(values))]
