"""The face pipeline: decode an image safely, find exactly one face, check its quality, embed it.

dlib's HOG detector, 68-point landmarks and 128-d ResNet embedding, with the model files that
the `face-recognition-models` package ships: nothing is downloaded. The package's own
`__init__` needs pkg_resources, which new setuptools no longer has, so the files are found
through the import system without running it.

Images are scaled so their longer side is at most ANALYSIS_SIDE before detection: HOG time
grows with the pixel count, and a face needs no more than a few hundred pixels to embed
(dlib's chip is 150 × 150). Measured thresholds (docs/biometrics.md): sharp photos of the
shared test faces score 126–2300 on the Laplacian variance of the face chip, blurred copies
3–30; frontal faces put the nose tip at 0.31–0.55 of the way between the eye corners.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import dlib
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from civicstack.kit.i18n import N_

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # beyond this a "photo" is a decompression bomb
ANALYSIS_SIDE = 800
MIN_FACE_PIXELS = 64  # the detected face's side, in the analysed image
MIN_SHARPNESS = 50.0  # Laplacian variance of the 150 × 150 face chip
FRONTAL_BAND = (0.25, 0.75)  # nose tip between the outer eye corners, 0 = left, 1 = right
EMBEDDING_SIZE = 128

Embedding = NDArray[np.float32]


class Refusal(StrEnum):
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_BLURRED = "too_blurred"
    NOT_FRONTAL = "not_frontal"


REASONS: dict[Refusal, str] = {
    Refusal.UNREADABLE: N_("the image could not be read: send a JPEG or PNG photo"),
    Refusal.TOO_LARGE: N_("the image is too large: at most 8 MB and 40 megapixels"),
    Refusal.NO_FACE: N_("no face was found: look at the camera in good light"),
    Refusal.MULTIPLE_FACES: N_("more than one face was found: only one person at a time"),
    Refusal.FACE_TOO_SMALL: N_("the face is too small: come closer to the camera"),
    Refusal.TOO_BLURRED: N_("the photo is blurred: hold still and take it again"),
    Refusal.NOT_FRONTAL: N_("the face is turned away: look straight at the camera"),
}


class FaceRefused(Exception):
    """The image cannot be used; `reason` says why in words a person can act on."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(REASONS[refusal])
        self.refusal = refusal
        self.reason = REASONS[refusal]


@dataclass(frozen=True)
class FaceReading:
    embedding: Embedding
    landmarks: NDArray[np.int32]  # 68 × 2, in the analysed image
    face_pixels: int
    sharpness: float
    yaw: float  # nose tip between the outer eye corners; 0.5 looks straight ahead


def decode(data: bytes) -> NDArray[np.uint8]:
    """An RGB array no longer than ANALYSIS_SIDE, upright as the camera's EXIF says, or
    FaceRefused: anything over the limits, corrupt or not an image is refused before or while
    the decoder runs, never half-read."""
    if len(data) > MAX_BYTES:
        raise FaceRefused(Refusal.TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.format not in ("JPEG", "PNG"):
                raise FaceRefused(Refusal.UNREADABLE)
            if opened.width * opened.height > MAX_PIXELS:
                raise FaceRefused(Refusal.TOO_LARGE)
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise FaceRefused(Refusal.TOO_LARGE) from bomb
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as corrupt:
        raise FaceRefused(Refusal.UNREADABLE) from corrupt
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
    return np.asarray(image)


PORTRAIT_QUALITY = 85


def portrait(data: bytes) -> bytes:
    """The photo as a fresh JPEG of the decoded pixels (upright, at most ANALYSIS_SIDE): what
    is kept to show an official carries no metadata (camera, place) and nothing the original
    file hid beside its pixels."""
    kept = io.BytesIO()
    Image.fromarray(decode(data)).save(kept, format="JPEG", quality=PORTRAIT_QUALITY)
    return kept.getvalue()


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceEngine:
    """dlib's models, loaded once; calls are serialised because dlib's objects are not
    documented as thread-safe (the web server runs handlers in a thread pool)."""

    def __init__(self) -> None:
        models = models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(
            str(models / "shape_predictor_68_face_landmarks.dat"))
        self._embedder = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        self._lock = threading.Lock()

    def read(self, data: bytes) -> FaceReading:
        """The one face in the image, checked for size, sharpness and pose, with its embedding."""
        return self.read_image(decode(data))

    def observe(self, data: bytes) -> FaceReading:
        """Like read(), but a turned face is accepted: liveness asks the person to turn."""
        return self.read_image(decode(data), frontal=False)

    def read_image(self, image: NDArray[np.uint8], frontal: bool = True) -> FaceReading:
        with self._lock:
            found = self._detector(image, 1)
            if len(found) == 0:
                raise FaceRefused(Refusal.NO_FACE)
            if len(found) > 1:
                raise FaceRefused(Refusal.MULTIPLE_FACES)
            box = found[0]
            if min(box.width(), box.height()) < MIN_FACE_PIXELS:
                raise FaceRefused(Refusal.FACE_TOO_SMALL)
            shape = self._landmarks(image, box)
            points = np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)],
                              dtype=np.int32)
            sharpness = laplacian_variance(dlib.get_face_chip(image, shape, size=150))
            if sharpness < MIN_SHARPNESS:
                raise FaceRefused(Refusal.TOO_BLURRED)
            turn = yaw(points)
            if frontal and not FRONTAL_BAND[0] <= turn <= FRONTAL_BAND[1]:
                raise FaceRefused(Refusal.NOT_FRONTAL)
            embedding = np.asarray(self._embedder.compute_face_descriptor(image, shape),
                                   dtype=np.float32)
        return FaceReading(embedding, points, min(box.width(), box.height()), sharpness, turn)


@cache
def engine() -> FaceEngine:
    """The process's engine: loading the models takes about a second and 100 MB."""
    return FaceEngine()


def laplacian_variance(rgb: NDArray[np.uint8]) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image: low when edges are soft."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    edges = (grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:]
             - 4 * grey[1:-1, 1:-1])
    return float(edges.var())


def yaw(points: NDArray[np.int32]) -> float:
    """Where the nose tip (landmark 30) lies between the outer eye corners (36 and 45)."""
    left, right, nose = points[36, 0], points[45, 0], points[30, 0]
    span = right - left
    return float((nose - left) / span) if span > 0 else 0.0


def distance(a: Embedding, b: Embedding) -> float:
    """Euclidean distance between embeddings: dlib's faces match below about 0.6."""
    return float(np.linalg.norm(a - b))
