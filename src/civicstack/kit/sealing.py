"""Sealing a small secret at rest: AES-256-GCM under a key derived from a stored secret (kept
in the database, sealed under the root key: kit/secrets.py), one derived key per purpose, the
ciphertext bound to its owner.

HKDF turns the stored random string (or random bytes) into exactly 256 bits and ties them to
one use, so the same secret could never serve as another purpose's key. The owner (an account,
an ID number) is the associated data: a sealed value copied onto another row does not open.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class Sealer:
    """Seals to `nonce || ciphertext`; raises cryptography's InvalidTag on a wrong key or
    owner."""

    def __init__(self, secret: str | bytes, purpose: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret.encode() if isinstance(secret, str) else secret)
        self._aead = AESGCM(key)

    def seal(self, data: bytes, owner: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, owner)

    def open(self, sealed: bytes, owner: bytes) -> bytes:
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], owner)


@lru_cache(maxsize=16)
def sealer(secret: str, purpose: bytes) -> Sealer:
    """The sealer for this secret and purpose, derived once per process, not per call."""
    return Sealer(secret, purpose)
