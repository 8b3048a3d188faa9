"""The face pipeline on the labelled photos: genuine pairs match, impostors do not, and every
unusable image is refused with the reason a person can act on."""

from __future__ import annotations

import itertools
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFilter

from civicstack.biometrics import faces
from civicstack.biometrics.faces import FaceReading, FaceRefused, Refusal
from civicstack.config import Settings
from tests.support.face_images import encode, labelled, multi_face, opened, person

THRESHOLD = Settings().face_match_threshold
PAIRS = list(itertools.combinations(labelled(), 2))
GENUINE = [(a, b) for a, b in PAIRS if person(a) == person(b)]
IMPOSTOR = [(a, b) for a, b in PAIRS if person(a) != person(b)]


@pytest.fixture(scope="module")
def readings() -> dict[str, FaceReading]:
    """Each photo read once for the whole module (a read takes ~0.5 s here)."""
    engine = faces.engine()
    return {name: engine.read(path.read_bytes()) for name, path in labelled().items()}


def refusal_of(data: bytes) -> Refusal:
    with pytest.raises(FaceRefused) as refused:
        faces.engine().read(data)
    return refused.value.refusal


def test_the_shared_photos_give_both_kinds_of_pair() -> None:
    assert len(GENUINE) >= 5
    assert len(IMPOSTOR) >= 25


@pytest.mark.parametrize(("a", "b"), GENUINE)
def test_every_genuine_pair_is_accepted_at_the_configured_threshold(
        readings: dict[str, FaceReading], a: str, b: str) -> None:
    assert faces.distance(readings[a].embedding, readings[b].embedding) <= THRESHOLD


@pytest.mark.parametrize(("a", "b"), IMPOSTOR)
def test_every_impostor_pair_is_refused_at_the_configured_threshold(
        readings: dict[str, FaceReading], a: str, b: str) -> None:
    assert faces.distance(readings[a].embedding, readings[b].embedding) > THRESHOLD


def test_a_reading_holds_a_128_number_embedding_and_68_landmarks(
        readings: dict[str, FaceReading]) -> None:
    for reading in readings.values():
        assert reading.embedding.shape == (faces.EMBEDDING_SIZE,)
        assert reading.landmarks.shape == (68, 2)
        assert reading.face_pixels >= faces.MIN_FACE_PIXELS
        assert reading.sharpness >= faces.MIN_SHARPNESS


def test_a_photo_with_two_people_is_refused_as_multiple_faces() -> None:
    photos = multi_face()
    assert photos, "the shared data has no multi-face photo"
    for path in photos:
        assert refusal_of(path.read_bytes()) is Refusal.MULTIPLE_FACES


def test_an_image_without_a_face_is_refused_as_no_face() -> None:
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    assert refusal_of(encode(Image.fromarray(gradient).convert("RGB"), "PNG")) is Refusal.NO_FACE


@pytest.mark.parametrize("data", [
    b"",
    b"not an image at all",
    b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
    encode(Image.new("RGB", (64, 64)), "GIF"),  # an image, but not a format we accept
], ids=["empty", "text", "pdf", "gif"])
def test_bytes_that_are_not_a_jpeg_or_png_are_refused_as_unreadable(data: bytes) -> None:
    assert refusal_of(data) is Refusal.UNREADABLE


def test_a_truncated_or_corrupted_photo_is_refused_as_unreadable() -> None:
    whole = next(iter(labelled().values())).read_bytes()
    assert refusal_of(whole[: len(whole) // 3]) is Refusal.UNREADABLE
    assert refusal_of(encode(Image.new("RGB", (32, 32)), "PNG")[:-20]) is Refusal.UNREADABLE


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose pixel data is a few bytes: decoding
    it would fail, so a TOO_LARGE answer shows the size was refused before any decoding."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(8_000, 6_000), (100_000, 100_000)],
                         ids=["48-megapixels", "10-gigapixels"])
def test_a_decompression_bomb_is_refused_as_too_large_without_decoding(
        width: int, height: int) -> None:
    bomb = png_header_claiming(width, height)
    assert len(bomb) < 200
    assert refusal_of(bomb) is Refusal.TOO_LARGE


def test_a_file_over_8_mb_is_refused_as_too_large() -> None:
    assert refusal_of(b"\xff\xd8" + bytes(faces.MAX_BYTES)) is Refusal.TOO_LARGE


@pytest.mark.parametrize("name", ["obama/1.jpg", "rose_leslie/2.jpg", "biden/2.jpg"])
def test_a_blurred_copy_of_a_usable_photo_is_refused_as_too_blurred(name: str) -> None:
    image = opened(name)
    image.thumbnail((faces.ANALYSIS_SIDE, faces.ANALYSIS_SIDE))
    assert refusal_of(encode(image.filter(ImageFilter.GaussianBlur(3)), "PNG")) \
        is Refusal.TOO_BLURRED


@pytest.mark.parametrize("name", ["obama/1.jpg", "rose_leslie/2.jpg", "biden/2.jpg"])
def test_a_face_far_from_the_camera_is_refused_as_too_small(name: str) -> None:
    image = opened(name)
    image.thumbnail((faces.ANALYSIS_SIDE, faces.ANALYSIS_SIDE))
    small = image.resize((image.width // 5, image.height // 5))
    canvas = Image.new("RGB", (faces.ANALYSIS_SIDE, faces.ANALYSIS_SIDE), (128, 128, 128))
    canvas.paste(small, (300, 300))
    assert refusal_of(encode(canvas, "PNG")) is Refusal.FACE_TOO_SMALL


def landmarks_with(left_eye: int, right_eye: int, nose: int) -> np.ndarray:
    points = np.zeros((68, 2), dtype=np.int32)
    points[36, 0], points[45, 0], points[30, 0] = left_eye, right_eye, nose
    return points


@pytest.mark.parametrize(("nose", "expected"), [(150, 0.5), (110, 0.1), (120, 0.2),
                                                (180, 0.8), (195, 0.95)])
def test_yaw_is_where_the_nose_tip_lies_between_the_outer_eye_corners(
        nose: int, expected: float) -> None:
    assert faces.yaw(landmarks_with(100, 200, nose)) == pytest.approx(expected)


@pytest.mark.parametrize("nose", [110, 120, 180, 195])
def test_a_face_turned_outside_the_frontal_band_is_not_frontal(nose: int) -> None:
    turn = faces.yaw(landmarks_with(100, 200, nose))
    assert not faces.FRONTAL_BAND[0] <= turn <= faces.FRONTAL_BAND[1]


def test_yaw_of_collapsed_eye_corners_is_not_a_division_by_zero() -> None:
    assert faces.yaw(landmarks_with(100, 100, 100)) == 0.0


def test_the_shared_frontal_photos_lie_inside_the_frontal_band(
        readings: dict[str, FaceReading]) -> None:
    for reading in readings.values():
        assert faces.FRONTAL_BAND[0] <= reading.yaw <= faces.FRONTAL_BAND[1]
