"""The in-person QR code's text: `VN1:` + Base45 (RFC 9285) of the zlib-compressed SD-JWT
presentation, the scheme the EU Digital COVID Certificate made familiar (`HC1:`).

Why not the raw SD-JWT: its base64url text is a third larger than its compressed bytes, and
Base45 uses only the QR alphanumeric alphabet (5.5 bits a character), so the code is smaller
than the raw text in byte mode and still plain text, which a handheld scanner can type into
the verifier page. A verifier accepts both forms.
"""

from __future__ import annotations

import zlib

from civicstack.wallet.jws import PresentationRefused

PREFIX = "VN1:"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
VALUES = {character: value for value, character in enumerate(ALPHABET)}
MAX_PRESENTATION_BYTES = 16_384  # a decompression bomb stops here


def base45_encode(data: bytes) -> str:
    out = []
    for start in range(0, len(data), 2):
        chunk = data[start:start + 2]
        number = int.from_bytes(chunk, "big")
        digits = 3 if len(chunk) == 2 else 2
        for _ in range(digits):
            number, remainder = divmod(number, 45)
            out.append(ALPHABET[remainder])
    return "".join(out)


def base45_decode(text: str) -> bytes:
    try:
        values = [VALUES[character] for character in text]
    except KeyError as exc:
        raise PresentationRefused("the QR code text is not Base45") from exc
    out = bytearray()
    for start in range(0, len(values), 3):
        group = values[start:start + 3]
        number = sum(value * 45**power for power, value in enumerate(group))
        if len(group) == 3 and number <= 0xFFFF:
            out += number.to_bytes(2, "big")
        elif len(group) == 2 and number <= 0xFF:
            out.append(number)
        else:
            raise PresentationRefused("the QR code text is not valid Base45")
    return bytes(out)


def encode(presentation: str) -> str:
    return PREFIX + base45_encode(zlib.compress(presentation.encode("ascii"), 9))


def decode(scanned: str) -> str:
    """The presentation inside a scanned QR code; raw SD-JWT text passes through. Trimming is
    safe: Base45 text never ends in its space digit (a last group's top digit is at most 35)."""
    text = scanned.strip()
    if not text.startswith(PREFIX):
        return text
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(base45_decode(text[len(PREFIX):]), MAX_PRESENTATION_BYTES)
    except zlib.error as exc:
        raise PresentationRefused("the QR code's content is damaged") from exc
    # Bytes after the compressed stream would let one presentation travel as many QR texts.
    if inflater.unconsumed_tail or inflater.unused_data or not inflater.eof:
        raise PresentationRefused("the QR code's content is damaged or too large")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise PresentationRefused("the QR code does not hold a presentation") from exc
