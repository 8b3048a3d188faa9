"""The root key that every instance is given, behind the one small interface that a PKCS#11
HSM or a cloud KMS fits as well: wrap and unwrap the data keys that seal each stored secret.

Every secret and signing key lives in the database (kit/secrets.py), sealed under a data key of
its own; only that 32-byte data key ever meets the root key. So the root key never has to leave
an HSM or a KMS: their "wrap key" / "encrypt" and "unwrap key" / "decrypt" calls are exactly
`wrap` and `unwrap` here, with the record's name as the additional authenticated data
(`context`), and `key_id` is the HSM object's label or the KMS key's ARN/resource name.
`key_provider` below is the one place that picks an implementation from the settings.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicstack.config import Settings
from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.kit.private_files import private_folder, publish_once
from civicstack.kit.sealing import Sealer

ROOT_KEY_BYTES = 32
DEMO_ROOT_KEY_FILE = "root-key"
WRAPPING_PURPOSE = b"civicstack root key: data key wrapping v1"
KEY_ID_PURPOSE = b"civicstack root key: key id v1"


class KeyProvider(Protocol):
    """Holds the root key; nothing else ever sees it."""

    @property
    def key_id(self) -> str:
        """Names the root key without revealing it; stored beside everything it wraps, so an
        instance given another key notices before it opens (or makes) anything."""
        ...

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """The data key encrypted under the root key, bound to `context`."""
        ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key; WrongRootKey if it was wrapped under another key or context."""
        ...


class RootKeyRefused(RuntimeError):
    """No usable root key: the service refuses to start rather than seal under a weak one or
    make secrets that no other instance can open."""


class WrongRootKey(RootKeyRefused):
    """The database's secrets were sealed under a root key this instance was not given."""


class LocalRootKey:
    """The root key in this process's memory, read from the environment or a file: AES-256-GCM
    under a key derived (HKDF) from it wraps each data key."""

    def __init__(self, root: bytes) -> None:
        if len(root) != ROOT_KEY_BYTES:
            raise RootKeyRefused(f"the root key has {len(root)} bytes, not {ROOT_KEY_BYTES}: "
                                 "refusing to start (make one with `civicstack keys "
                                 "new-root-key`)")
        self._wrapper = Sealer(root, WRAPPING_PURPOSE)
        self.key_id = "local:" + HKDF(algorithm=hashes.SHA256(), length=8, salt=None,
                                      info=KEY_ID_PURPOSE).derive(root).hex()

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return self._wrapper.seal(data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._wrapper.open(wrapped, context)
        except InvalidTag:
            raise WrongRootKey(f"a stored secret ({context.decode(errors='replace')}) does not "
                               f"open under root key {self.key_id}") from None


def new_root_key() -> str:
    """A fresh root key as the settings take it: 32 random bytes, base64url."""
    return b64url_encode(secrets.token_bytes(ROOT_KEY_BYTES))


def decode_root_key(text: str, where: str) -> LocalRootKey:
    try:
        return LocalRootKey(b64url_decode(text.strip()))
    except ValueError as exc:
        raise RootKeyRefused(f"the root key in {where} is not base64url ({exc}): refusing "
                             "to start") from None


def key_provider(settings: Settings) -> KeyProvider:
    """The deployment's root key: CIVICSTACK_ROOT_KEY, else the file CIVICSTACK_ROOT_KEY_FILE
    names; without either, production (CIVICSTACK_REQUIRE_ROOT_KEY) refuses to start and the
    demo makes one once in the data directory. An HSM or KMS provider is chosen here."""
    if settings.root_key.get_secret_value():
        return decode_root_key(settings.root_key.get_secret_value(), "CIVICSTACK_ROOT_KEY")
    if settings.root_key_file is not None:
        try:
            text = settings.root_key_file.read_text()
        except OSError as exc:
            raise RootKeyRefused(f"cannot read the root key file: {exc}") from None
        return decode_root_key(text, str(settings.root_key_file))
    if settings.require_root_key:
        raise RootKeyRefused("no root key: set CIVICSTACK_ROOT_KEY or CIVICSTACK_ROOT_KEY_FILE "
                             "to the deployment's root key, the same on every instance "
                             "(docs/keys.md)")
    path = private_folder(settings.data_dir) / DEMO_ROOT_KEY_FILE
    stored = path.read_bytes() if path.exists() else publish_once(path, new_root_key().encode())
    return decode_root_key(stored.decode(), str(path))
