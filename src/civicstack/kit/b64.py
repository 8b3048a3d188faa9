"""Base64url without padding (RFC 4648 section 5, as JOSE and SD-JWT write it), decoded
strictly: one value has exactly one text. A lenient decoder, which skips characters outside
the alphabet and ignores the bits left over in the last character, lets the same bytes arrive
under many spellings, and so defeats anything keyed on the text (a replay guard, a cache)."""

from __future__ import annotations

import binascii

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUES = {character: value for value, character in enumerate(ALPHABET)}
# The last character of a text of length 4k+2 carries 2 bits of data, of 4k+3 carries 4: the
# bits it has beyond them must be zero (RFC 4648 section 3.5).
_LEFT_OVER_BITS = {2: 0b1111, 3: 0b11}
OUTSIDE_ALPHABET = "not base64url: a character outside the alphabet"


# '-' and '_' become the standard alphabet's '+' and '/', which binascii decodes; a '+', '/' or
# '=' in the text is not base64url and becomes '!', which binascii's strict mode refuses.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_PADDING = (b"", b"", b"==", b"=")


def b64url_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(
        b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes, or ValueError for a character outside the alphabet (padding and white space
    included), a length no bytes encode to, or left-over bits that are not zero."""
    # binascii directly, its strict mode refusing what is in neither alphabet, the text mapped
    # with one bytes.translate: on a verifier's hot path, a quarter of
    # base64.urlsafe_b64decode's time, and less than half of a regular expression's.
    remainder = len(text) % 4
    if remainder == 1:
        raise ValueError("not base64url: no bytes encode to this length")
    try:
        data = binascii.a2b_base64(text.encode("ascii").translate(_TO_STANDARD)
                                   + _PADDING[remainder], strict_mode=True)
    except ValueError as exc:  # binascii.Error, or a character that is not ASCII
        raise ValueError(OUTSIDE_ALPHABET) from exc
    if remainder and _VALUES[text[-1]] & _LEFT_OVER_BITS[remainder]:
        raise ValueError("not base64url: the last character is not the canonical one")
    return data
