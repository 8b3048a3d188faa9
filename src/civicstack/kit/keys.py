"""Signing keys: made on first use into the database (sealed under the root key,
kit/secrets.py), rotated by `civicstack keys rotate`, published as a JWKS.

A ring (the OpenID provider's, the exchange's, each wallet issuer's) holds, per algorithm, a
series of keys numbered from 1. A rotation makes the next key per algorithm and retires the
old ones; a retired key no longer signs but stays published until every token it signed has
expired, so relying parties can still verify them. Every instance reads the same ring, and a
running one notices a rotation by checking the ring's rows every few seconds, so no restart is
needed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy.orm import Session

from civicstack.kit import secrets
from civicstack.kit.db import transaction
from civicstack.kit.keyprovider import KeyProvider
from civicstack.kit.secrets import SIGNING_KEY, Identity, Record, SecretStore

ALGORITHMS = ("ES256", "RS256")
OIDC_RING = "oidc"
# How stale a running instance's view of a ring may be after a rotation: the new key signs
# everywhere within this, and the old one stays published long after.
KEY_CHECK_S = 2.0
SigningKey = ECKey | RSAKey


class ConcurrentRotation(RuntimeError):
    """Another rotation of the same ring committed first; this one changed nothing."""


@dataclass(frozen=True)
class StoredKey:
    key: SigningKey
    algorithm: str
    version: int
    created_at: datetime
    retired_at: datetime | None

    @property
    def kid(self) -> str:
        return str(self.key.kid)


def _generate(algorithm: str) -> SigningKey:
    parameters: Any = {"use": "sig", "alg": algorithm}
    key: SigningKey = (ECKey.generate_key("P-256", parameters=parameters, private=True)
                       if algorithm == "ES256"
                       else RSAKey.generate_key(2048, parameters=parameters, private=True))
    key.ensure_kid()
    return key


def _import(algorithm: str, jwk: dict[str, Any]) -> SigningKey:
    key_class = ECKey if algorithm == "ES256" else RSAKey
    return key_class.import_key(jwk)


def _stored(record: Record) -> StoredKey:
    algorithm = record.identity.algorithm
    return StoredKey(_import(algorithm, json.loads(record.material)), algorithm,
                     record.identity.version, record.created_at, record.retired_at)


def _add(session: Session, provider: KeyProvider, ring: str, algorithm: str, version: int,
         key: SigningKey, created_at: datetime, retired_at: datetime | None = None) -> bool:
    return secrets.add_record(session, provider, Identity(SIGNING_KEY, ring, algorithm, version),
                              json.dumps(key.as_dict(private=True)).encode(), created_at,
                              retired_at)


def read_keys(session: Session, provider: KeyProvider, ring: str) -> list[StoredKey]:
    found = (_stored(record) for record in secrets.records(session, provider, SIGNING_KEY, ring))
    return sorted(found, key=lambda k: (k.created_at, k.version))


def legacy_folder(data_dir: Path, ring: str) -> Path:
    """Where versions before the database kept a ring: the provider's in keys/ itself."""
    return data_dir / "keys" if ring == OIDC_RING else data_dir / "keys" / ring


def legacy_keys(folder: Path) -> list[StoredKey]:
    found = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        document = json.loads(path.read_text())
        retired = document["retired_at"]
        found.append(StoredKey(_import(document["alg"], document["jwk"]), document["alg"], 0,
                               datetime.fromisoformat(document["created_at"]),
                               datetime.fromisoformat(retired) if retired else None))
    return sorted(found, key=lambda k: k.created_at)


def legacy_rings(data_dir: Path) -> dict[str, Path]:
    """Every ring an older version kept under DATA_DIR/keys, by name, with its folder."""
    root = data_dir / "keys"
    folders = [root, *root.rglob("*")] if root.is_dir() else []
    return {OIDC_RING if folder == root else folder.relative_to(root).as_posix(): folder
            for folder in folders if folder.is_dir() and any(folder.glob("*.json"))}


def adopt_folder(session: Session, provider: KeyProvider, ring: str, folder: Path) -> int:
    """The keys an older version kept in `folder`, stored as the ring's first versions (oldest
    first), so tokens and credentials they signed still verify; how many. Nothing when the ring
    already has keys, or when another instance stores the same versions first."""
    if secrets.rows_of(session, SIGNING_KEY, ring):
        return 0
    versions: dict[str, int] = {}
    for legacy in legacy_keys(folder):
        versions[legacy.algorithm] = versions.get(legacy.algorithm, 0) + 1
        if not _add(session, provider, ring, legacy.algorithm, versions[legacy.algorithm],
                    legacy.key, legacy.created_at, legacy.retired_at):
            return 0  # the ring was filled meanwhile: leave it as the first instance made it
    return sum(versions.values())


def _give_each_an_active_key(session: Session, provider: KeyProvider, ring: str,
                             algorithms: tuple[str, ...], moment: datetime) -> None:
    rows = secrets.rows_of(session, SIGNING_KEY, ring)
    for algorithm in algorithms:
        series = [row for row in rows if row.algorithm == algorithm]
        if not any(row.retired_at is None for row in series):
            # Two instances starting at once try the same version: one key is stored.
            _add(session, provider, ring, algorithm, max((r.version for r in series), default=0)
                 + 1, _generate(algorithm), moment)


def ensure_keys(store: SecretStore, ring: str, algorithms: tuple[str, ...] = ALGORITHMS) -> None:
    """Give every algorithm an active key: the data directory's of an older version, or new."""
    with transaction(store.factory) as session:
        adopt_folder(session, store.provider, ring, legacy_folder(store.data_dir, ring))
        _give_each_an_active_key(session, store.provider, ring, algorithms, datetime.now(UTC))


@dataclass(frozen=True)
class Rotation:
    new_kids: tuple[str, ...]
    retired_kids: tuple[str, ...]
    removed_kids: tuple[str, ...]


def rotate(store: SecretStore, ring: str, keep_retired_for: timedelta,
           algorithms: tuple[str, ...] = ALGORITHMS) -> Rotation:
    """New active keys; the old ones retire; keys retired longer ago than `keep_retired_for`
    (the longest lifetime of anything they signed) are deleted. All in one transaction."""
    ensure_keys(store, ring, algorithms)
    moment = datetime.now(UTC)
    with transaction(store.factory) as session:
        records = secrets.records(session, store.provider, SIGNING_KEY, ring)
        active = [r for r in records if r.retired_at is None]
        expired = [r for r in records if r.retired_at and r.retired_at + keep_retired_for < moment]
        secrets.retire(session, [r.id for r in active], moment)
        secrets.delete_records(session, [r.id for r in expired])
        new = {algorithm: _generate(algorithm) for algorithm in algorithms}
        for algorithm, key in new.items():
            version = max((r.identity.version for r in records
                           if r.identity.algorithm == algorithm), default=0) + 1
            if not _add(session, store.provider, ring, algorithm, version, key, moment):
                raise ConcurrentRotation(f"the {ring} keys were rotated at the same moment by "
                                         "another command: this one changed nothing")
        return Rotation(tuple(str(key.kid) for key in new.values()),
                        tuple(_stored(r).kid for r in active),
                        tuple(_stored(r).kid for r in expired))


# What the installed domains need (Installer.secret / .signing_keys), made at start in
# transactions of their own: never first inside a request's, where on SQLite the write would
# wait for the request's own lock.
_needed_secrets: set[str] = set()
_needed_rings: dict[str, tuple[str, ...]] = {}


def declare_secret(name: str) -> None:
    _needed_secrets.add(name)


def declare_ring(ring: str, algorithms: tuple[str, ...]) -> None:
    _needed_rings[ring] = algorithms


def provision(store: SecretStore) -> None:
    """Every declared secret and signing key ring, read or made (by one instance for all)."""
    for name in sorted(_needed_secrets):
        store.secret(name)
    for ring, algorithms in sorted(_needed_rings.items()):
        ensure_keys(store, ring, algorithms)


class KeyRing:
    """One ring's keys as every instance sees them, re-read when its rows change (checked at
    most every `check_every_s` seconds)."""

    def __init__(self, store: SecretStore, ring: str, algorithms: tuple[str, ...] = ALGORITHMS,
                 check_every_s: float = KEY_CHECK_S) -> None:
        self.store, self.ring = store, ring
        ensure_keys(store, ring, algorithms)
        self._check_every_s = check_every_s
        self._lock = Lock()
        self._checked_at = -float("inf")
        self._seen: tuple[tuple[Any, ...], ...] | None = None
        self._keys: list[StoredKey] = []

    def _current(self) -> list[StoredKey]:
        with self._lock:
            if time.monotonic() - self._checked_at >= self._check_every_s:
                with transaction(self.store.factory) as session:
                    seen = secrets.fingerprint(session, SIGNING_KEY, self.ring)
                    if seen != self._seen:
                        self._keys = read_keys(session, self.store.provider, self.ring)
                        self._seen = seen
                self._checked_at = time.monotonic()
            return self._keys

    def signing_key(self, algorithm: str) -> SigningKey:
        active = [k for k in self._current() if k.algorithm == algorithm and k.retired_at is None]
        if not active:
            raise LookupError(f"no active {algorithm} key in the {self.ring} ring; run "
                              "`civicstack keys rotate`")
        return active[-1].key

    def public_jwks(self) -> dict[str, Any]:
        return dict(KeySet([k.key for k in self._current()]).as_dict(private=False))

    def verification_keys(self) -> KeySet:
        return KeySet([k.key for k in self._current()])
