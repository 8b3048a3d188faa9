"""Face photo checks read only headers: every malformed file is a clear Invalid, never a crash,
and the vault opens only what it sealed for the same account."""

from __future__ import annotations

import struct

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from civicstack.identity.photos import FIELD, MAX_SIDE, MIN_SIDE, PhotoVault, check_photo
from civicstack.kit.errors import Invalid
from tests.support.photos import jpeg_header, png


def test_a_png_and_camera_jpegs_are_read_from_their_headers() -> None:
    assert check_photo(png(320, 400)).content_type == "image/png"
    assert (check_photo(png(320, 400)).width, check_photo(png(320, 400)).height) == (320, 400)
    baseline = check_photo(jpeg_header(480, 640))
    assert (baseline.content_type, baseline.width, baseline.height) == ("image/jpeg", 480, 640)
    progressive = check_photo(jpeg_header(1080, 1440, frame_marker=0xC2))
    assert (progressive.width, progressive.height) == (1080, 1440)


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its data does not have: a decompression bomb's shape."""
    header = png(320, 400)
    return header[:16] + struct.pack(">II", width, height) + header[24:]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "choose a photo"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "choose a photo"),
    (bytes(6 * 1024 * 1024), "larger than 5 MB"),
    (b"GIF89a" + bytes(4096), "JPEG or PNG"),
    (b"%PDF-1.7" + bytes(4096), "JPEG or PNG"),
    (png(200, 400), "too small"),
    (_png_claiming(50_000, 50_000), "too large"),
    (png(300, 1000), "too narrow"),
    (b"\x89PNG\r\n\x1a\n" + bytes(4096), "PNG file is damaged"),
    (b"\xff\xd8\xff\xe0" + bytes(4096), "JPEG file is damaged"),
    (jpeg_header(padding=0)[:29] + bytes(4096), "JPEG file is damaged"),  # SOF cut short
])
def test_bad_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_photo(data)
    assert refused.value.errors[0].field == "face_photo"
    assert reason in refused.value.errors[0].reason


def test_a_huffman_table_is_not_mistaken_for_the_frame_header() -> None:
    # DHT (FFC4) sits in the SOF range; reading sizes from it would give nonsense.
    assert check_photo(jpeg_header(640, 480)).width == 640


def _accepted_within_bounds_or_refused_on_the_field(data: bytes) -> bool:
    try:
        facts = check_photo(data)
    except Invalid as refused:
        return refused.errors[0].field == FIELD
    return MIN_SIDE <= min(facts.width, facts.height) <= max(facts.width, facts.height) <= MAX_SIDE


@given(st.binary(max_size=3000).map(lambda tail: b"\xff\xd8\xff" + tail + bytes(2048)))
def test_any_jpeg_like_bytes_give_facts_in_bounds_or_a_refusal(data: bytes) -> None:
    assert _accepted_within_bounds_or_refused_on_the_field(data)


@given(st.binary(min_size=16, max_size=64))
def test_any_png_header_gives_facts_in_bounds_or_a_refusal(header: bytes) -> None:
    assert _accepted_within_bounds_or_refused_on_the_field(
        b"\x89PNG\r\n\x1a\n" + header + bytes(4096))


def test_the_vault_opens_only_its_own_seal_for_the_same_account() -> None:
    vault = PhotoVault("a secret from the data directory")
    sealed = vault.seal(7, b"face")
    assert vault.seal(7, b"face") != sealed  # a fresh nonce each time
    assert vault.open(7, sealed) == b"face"
    with pytest.raises(InvalidTag):
        vault.open(8, sealed)
    with pytest.raises(InvalidTag):
        PhotoVault("another secret").open(7, sealed)
