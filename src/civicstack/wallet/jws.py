"""The little JOSE a verifier needs on its hot path: compact JWS parts (base64url decoded
strictly, kit/b64.py), ES256 signature checks against `cryptography` keys, typed claims. Every
failure is a `PresentationRefused` with a reason a verifier can act on."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from civicstack.kit.b64 import b64url_decode, b64url_encode

ALGORITHM = "ES256"
_ECDSA = ec.ECDSA(hashes.SHA256())


class PresentationRefused(Exception):
    """The presentation fails a check; `reason` says which, in words a verifier can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest(text: str) -> str:
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


def json_part(text: str, what: str) -> Any:
    # orjson: a third of the standard parser's time on a credential's payload, and stricter
    # (invalid UTF-8, NaN and integers beyond 64 bits are refused, as a verifier should).
    try:
        return orjson.loads(b64url_decode(text))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError among them
        raise PresentationRefused(f"{what} is not base64url-encoded JSON") from exc


@lru_cache(maxsize=256)
def _header(header_b64: str) -> Any:
    """JOSE headers repeat (one per issuer key, one for every key binding): parse each once.
    Callers only read the result."""
    return orjson.loads(b64url_decode(header_b64))


def _parsed_header(header_b64: str, what: str) -> Any:
    try:
        return _header(header_b64)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError among them
        raise PresentationRefused(f"{what} is not base64url-encoded JSON") from exc


def signed_parts(jwt: str, what: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        header_b64, payload_b64, signature_b64 = jwt.split(".")
    except ValueError as exc:
        raise PresentationRefused(f"{what} is not a compact JWS") from exc
    header, payload = _parsed_header(header_b64, what), json_part(payload_b64, what)
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise PresentationRefused(f"{what} header and payload must be JSON objects")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as exc:
        raise PresentationRefused(f"{what} signature is not base64url") from exc
    signing_input = jwt[:len(header_b64) + 1 + len(payload_b64)]  # "header.payload"
    return header, payload, signing_input.encode("ascii"), signature


def check_signature(key: ec.EllipticCurvePublicKey, signing_input: bytes, signature: bytes,
                    what: str, forged: str) -> None:
    """`forged`: the refusal of a signature that does not verify, a whole sentence marked for
    translation by the caller: verifiers' pages show it translated."""
    if len(signature) != 64:
        raise PresentationRefused(f"{what} signature is not an ES256 signature")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, signing_input, _ECDSA)
    except InvalidSignature as exc:
        raise PresentationRefused(forged) from exc


def check_header(header: dict[str, Any], typ: str, what: str) -> None:
    if header.get("alg") != ALGORITHM:
        raise PresentationRefused(f"{what} must be signed with {ALGORITHM}, "
                                  f"not {header.get('alg')!r}")
    if header.get("typ") != typ:
        raise PresentationRefused(f"{what} type must be {typ!r}, not {header.get('typ')!r}")


def int_claim(payload: dict[str, Any], name: str, what: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PresentationRefused(f"{what} has no numeric '{name}'")
    return value


