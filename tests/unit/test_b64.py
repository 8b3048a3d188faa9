"""The strict base64url decoder: every value has one text, and any other spelling of it (a
character outside the alphabet, padding, white space, left-over bits set) is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicstack.kit.b64 import ALPHABET, b64url_decode, b64url_encode


@given(st.binary(max_size=200))
def test_any_bytes_round_trip_without_padding(data: bytes) -> None:
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert b64url_decode(encoded) == data


@given(st.text(alphabet=ALPHABET + "=+/ *\n\t.é", max_size=40))
def test_a_text_decodes_only_if_it_is_the_one_text_of_its_bytes(text: str) -> None:
    try:
        decoded = b64url_decode(text)
    except ValueError:
        return
    assert b64url_encode(decoded) == text


@pytest.mark.parametrize(("text", "reason"), [
    ("ab+c", "outside the alphabet"),  # the standard alphabet's characters, not the URL one's
    ("ab/c", "outside the alphabet"),
    ("YQ==", "outside the alphabet"),  # padding
    ("YWJj ZGV", "outside the alphabet"),
    ("YWJjZGV\n", "outside the alphabet"),
    ("YWJj*ZGV", "outside the alphabet"),
    ("YWJjZGVé", "outside the alphabet"),
    ("YWJjZ", "no bytes encode to this length"),
    ("YR", "not the canonical one"),  # 'a' is YQ: the last character's 4 spare bits set
    ("YWJ", "not the canonical one"),  # 'ab' is YWI: its 2 spare bits set
])
def test_every_other_spelling_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        b64url_decode(text)


def test_the_canonical_spellings_decode() -> None:
    assert b64url_decode("") == b""
    assert b64url_decode("YQ") == b"a"
    assert b64url_decode("YWI") == b"ab"
    assert b64url_decode("YWJj") == b"abc"
    assert b64url_decode("-_8") == b"\xfb\xff"
