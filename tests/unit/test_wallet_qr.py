"""The in-person QR text: Base45 is RFC 9285's, compression round-trips, damage is refused."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicstack.wallet import qr
from civicstack.wallet.jws import PresentationRefused


def test_base45_matches_the_rfc_9285_examples() -> None:
    assert qr.base45_encode(b"AB") == "BB8"
    assert qr.base45_encode(b"Hello!!") == "%69 VD92EX0"
    assert qr.base45_encode(b"ietf!") == "QED8WEX0"
    assert qr.base45_decode("QED8WEX0") == b"ietf!"


@given(st.binary(max_size=300))
def test_base45_round_trips_any_bytes(data: bytes) -> None:
    assert qr.base45_decode(qr.base45_encode(data)) == data


@given(st.text(alphabet="abcXYZ019-_.~", max_size=2000))
def test_a_presentation_round_trips_through_the_qr_text(presentation: str) -> None:
    encoded = qr.encode(presentation)
    assert encoded.startswith("VN1:")
    assert set(encoded) <= set(qr.ALPHABET)  # alphanumeric QR mode
    assert qr.decode(encoded) == presentation


def test_raw_sd_jwt_text_passes_through() -> None:
    assert qr.decode("  eyJhbGciOi.x.y~abc~\r\n") == "eyJhbGciOi.x.y~abc~"


@pytest.mark.parametrize(("scanned", "reason"), [
    ("VN1:abc", "not Base45"),
    ("VN1:GGW", "not valid Base45"),
    ("VN1:" + qr.base45_encode(b"not zlib at all"), "damaged"),
    # bytes after the compressed stream: one presentation, many QR texts
    ("VN1:" + qr.base45_encode(zlib.compress(b"a.b.c~") + b"x"), "damaged"),
    ("VN1:" + qr.base45_encode(zlib.compress(b"x" * 100_000)), "too large"),
    ("VN1:" + qr.base45_encode(zlib.compress("chữ".encode())), "does not hold"),
])
def test_damaged_or_hostile_qr_text_is_refused(scanned: str, reason: str) -> None:
    with pytest.raises(PresentationRefused, match=reason):
        qr.decode(scanned)
