"""The face photo a citizen gives at level-1 registration: checked, then kept sealed.

The biometrics issue will compare it with the ID-card photo and approve the account when they
match; until then the official approving the account sees it beside the register's data.
Checks here read only the file's header (type, size, pixel dimensions), so a hostile file is
refused before any image decoder runs; the face pipeline does the decoding and face checks.

Sealed with AES-256-GCM under a key derived from a secret in the data directory, with the
account id as associated data: a ciphertext copied to another account's row will not open.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from civicstack.kit.appservices import ServiceKey
from civicstack.kit.errors import Invalid
from civicstack.kit.sealing import Sealer
from civicstack.kit.secrets import SecretStore

FIELD = "face_photo"
MIN_BYTES, MAX_BYTES = 2 * 1024, 5 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 240, 6000  # a face needs pixels; beyond 36 Mpx is a decompression bomb
MAX_ASPECT = 3.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"
# JPEG start-of-frame markers carry the dimensions; DHT (C4), JPG (C8) and DAC (CC) do not.
JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                         0xCE, 0xCF})


@dataclass(frozen=True)
class PhotoFacts:
    content_type: str
    width: int
    height: int
    sha256: str


def check_photo(data: bytes) -> PhotoFacts:
    """A JPEG or PNG of sensible size and shape, or Invalid naming what is wrong."""
    if len(data) < MIN_BYTES:
        raise Invalid(FIELD, "choose a photo of your face (JPEG or PNG)")
    if len(data) > MAX_BYTES:
        raise Invalid(FIELD, "the photo is larger than 5 MB; take it again at a lower size")
    if data.startswith(PNG_SIGNATURE):
        content_type, (width, height) = "image/png", _png_size(data)
    elif data.startswith(JPEG_START):
        content_type, (width, height) = "image/jpeg", _jpeg_size(data)
    else:
        raise Invalid(FIELD, "the photo must be a JPEG or PNG image")
    if min(width, height) < MIN_SIDE:
        raise Invalid(FIELD, "the photo is too small: at least 240 × 240 pixels")
    if max(width, height) > MAX_SIDE:
        raise Invalid(FIELD, "the photo is too large: at most 6000 pixels a side")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise Invalid(FIELD, "the photo is too narrow: take a portrait of your face")
    return PhotoFacts(content_type, width, height, hashlib.sha256(data).hexdigest())


def _png_size(data: bytes) -> tuple[int, int]:
    # The first chunk must be IHDR: length 13, then width and height as big-endian u32.
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise Invalid(FIELD, "the PNG file is damaged")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the marker segments to the first start-of-frame."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        if length < 2:
            break
        if marker in JPEG_FRAMES and position + 9 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return int(width), int(height)
        position += 2 + length
    raise Invalid(FIELD, "the JPEG file is damaged")


PHOTO_KEY = "photo-key"


class PhotoVault:
    """Seals and opens face photos, each bound to its account row (kit/sealing.py)."""

    @classmethod
    def of(cls, secrets: SecretStore) -> PhotoVault:
        """The deployment's vault, under its stored secret."""
        return cls(secrets.secret(PHOTO_KEY))

    def __init__(self, secret: str) -> None:
        self._sealer = Sealer(secret, b"civicstack face photo v1")

    def seal(self, account_id: int, data: bytes) -> bytes:
        return self._sealer.seal(data, _bound_to(account_id))

    def open(self, account_id: int, sealed: bytes) -> bytes:
        return self._sealer.open(sealed, _bound_to(account_id))


def _bound_to(account_id: int) -> bytes:
    return f"citizen_account:{account_id}".encode()


PHOTO_VAULT = ServiceKey[PhotoVault]("photo_vault")
