"""Token Status List (draft-ietf-oauth-status-list): a compressed, signed bit array per issuer.

Two bits per credential: 0 valid, 1 invalid (revoked), 2 suspended. The list is DEFLATE
(zlib) compressed and base64url encoded inside a JWT of type `statuslist+jwt`, signed with the
issuer's key. A verifier fetches it once per `ttl` and then checks any number of credentials
offline; a list of 131,072 mostly-valid entries compresses to well under a kilobyte.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from threading import Lock
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.kit.i18n import N_
from civicstack.wallet.jws import (
    ALGORITHM,
    PresentationRefused,
    check_header,
    check_signature,
    int_claim,
    signed_parts,
)

BITS = 2
LIST_SIZE = 131_072  # entries per list: large enough that an index says little about a person
STATUS_LIST_TYP = "statuslist+jwt"


class CredentialStatus(IntEnum):
    VALID = 0
    INVALID = 1
    SUSPENDED = 2


def encode(statuses: Mapping[int, int], size: int = LIST_SIZE) -> str:
    """`lst`: entry i lives in byte i*BITS//8 at bit (i*BITS)%8, least significant first."""
    array = bytearray(size * BITS // 8)
    for index, status in statuses.items():
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list of {size}")
        array[index * BITS // 8] |= (status & (2**BITS - 1)) << (index * BITS % 8)
    return b64url_encode(zlib.compress(bytes(array), 9))


def decode(lst: str) -> bytes:
    try:
        return zlib.decompress(b64url_decode(lst))
    except (ValueError, zlib.error) as exc:
        raise PresentationRefused("the status list is malformed") from exc


def status_at(array: bytes, index: int, bits: int = BITS) -> int:
    if not 0 <= index < len(array) * 8 // bits:
        raise PresentationRefused(f"status index {index} is outside the list")
    return int((array[index * bits // 8] >> (index * bits % 8)) & (2**bits - 1))


@dataclass(frozen=True)
class ListClaims:
    uri: str
    issued_at: int
    expires_at: int
    ttl_s: int


def sign(claims: ListClaims, lst: str, key: ECKey) -> str:
    header = {"alg": ALGORITHM, "typ": STATUS_LIST_TYP, "kid": key.kid}
    payload = {"sub": claims.uri, "iat": claims.issued_at, "exp": claims.expires_at,
               "ttl": claims.ttl_s, "status_list": {"bits": BITS, "lst": lst}}
    return jwt.encode(header, payload, key)


@dataclass(frozen=True)
class VerifiedList:
    uri: str
    array: bytes
    bits: int
    expires_at: int

    def status(self, index: int) -> int:
        return status_at(self.array, index, self.bits)


def _verified(token: str, key_for: Any) -> tuple[str, ec.EllipticCurvePublicKey, VerifiedList]:
    """The list a token carries, with the key id and key its signature verified with."""
    header, payload, signing_input, signature = signed_parts(token, "the status list")
    check_header(header, STATUS_LIST_TYP, "the status list")
    kid = str(header.get("kid", ""))
    key: ec.EllipticCurvePublicKey | None = key_for(kid)
    if key is None:
        raise PresentationRefused("the status list is signed by an unknown key")
    check_signature(key, signing_input, signature, "the status list",
                    N_("the status list signature does not verify"))
    expires_at = int_claim(payload, "exp", "the status list")
    body = payload.get("status_list")
    if not isinstance(body, dict) or body.get("bits") not in (1, 2, 4, 8) or \
            not isinstance(body.get("lst"), str):
        raise PresentationRefused("the status list is malformed")
    return kid, key, VerifiedList(str(payload.get("sub")), decode(body["lst"]), body["bits"],
                                  expires_at)


class VerifiedLists:
    """Status list tokens whose signature verified, decompressed, by their exact text. An
    offline verifier builds its trust from the same bundle for every presentation: without
    this, each one would verify the list's signature again and inflate its 32 kB anew. A
    re-issued list is another text; a key no longer trusted no longer matches; expiry is
    checked at every use."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._lists: OrderedDict[str, tuple[str, ec.EllipticCurvePublicKey, VerifiedList]] = \
            OrderedDict()
        self._lock = Lock()

    def read(self, token: str, key_for: Any, now: int) -> VerifiedList:
        """Verify a status list token with `key_for(kid) -> EllipticCurvePublicKey | None`
        and decompress it; an expired list is refused, since it could hide a revocation."""
        known = self._lists.get(token)
        if known is None or key_for(known[0]) != known[1]:
            known = _verified(token, key_for)
            with self._lock:
                self._lists[token] = known
                if len(self._lists) > self._capacity:
                    self._lists.popitem(last=False)
        verified = known[2]
        if verified.expires_at <= now:
            raise PresentationRefused("the cached status list has expired; refresh it")
        return verified


VERIFIED_LISTS = VerifiedLists()

