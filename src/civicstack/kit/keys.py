"""Signing keys: made on first run into DATA_DIR/keys, rotated by `civicstack keys rotate`,
published as a JWKS.

Each key is one JSON file (mode 0600) holding the private JWK and when it was made and retired.
A rotation makes a fresh key per algorithm and retires the old ones; a retired key no longer
signs but stays published until every token it signed has expired, so relying parties can
still verify them. The running server notices a rotation by the folder's change time, so no
restart is needed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey

from civicstack.kit.private_files import private_folder

ALGORITHMS = ("ES256", "RS256")
SigningKey = ECKey | RSAKey


@dataclass(frozen=True)
class StoredKey:
    key: SigningKey
    algorithm: str
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


def _write(folder: Path, stored: StoredKey) -> None:
    document = {"jwk": stored.key.as_dict(private=True), "alg": stored.algorithm,
                "created_at": stored.created_at.isoformat(),
                "retired_at": stored.retired_at.isoformat() if stored.retired_at else None}
    path = folder / f"{stored.kid}.json"
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    temporary.replace(path)  # a reader never sees half a key


def _read(path: Path) -> StoredKey:
    document = json.loads(path.read_text())
    algorithm = document["alg"]
    key_class = ECKey if algorithm == "ES256" else RSAKey
    retired = document["retired_at"]
    return StoredKey(key_class.import_key(document["jwk"]), algorithm,
                     datetime.fromisoformat(document["created_at"]),
                     datetime.fromisoformat(retired) if retired else None)


def read_keys(folder: Path) -> list[StoredKey]:
    return sorted((_read(path) for path in folder.glob("*.json")), key=lambda k: k.created_at)


def ensure_keys(folder: Path, algorithms: tuple[str, ...] = ALGORITHMS) -> None:
    """Give every algorithm an active key (first run, or a folder someone emptied)."""
    private_folder(folder)
    active = {k.algorithm for k in read_keys(folder) if k.retired_at is None}
    for algorithm in algorithms:
        if algorithm not in active:
            _write(folder, StoredKey(_generate(algorithm), algorithm, datetime.now(UTC), None))


@dataclass(frozen=True)
class Rotation:
    new_kids: tuple[str, ...]
    retired_kids: tuple[str, ...]
    removed_kids: tuple[str, ...]


def rotate(folder: Path, keep_retired_for: timedelta,
           algorithms: tuple[str, ...] = ALGORITHMS) -> Rotation:
    """New active keys; the old ones retire; keys retired longer ago than `keep_retired_for`
    (the longest lifetime of anything they signed) are deleted."""
    ensure_keys(folder, algorithms)
    moment = datetime.now(UTC)
    retired, removed = [], []
    for stored in read_keys(folder):
        if stored.retired_at is None:
            _write(folder, StoredKey(stored.key, stored.algorithm, stored.created_at, moment))
            retired.append(stored.kid)
        elif stored.retired_at + keep_retired_for < moment:
            (folder / f"{stored.kid}.json").unlink()
            removed.append(stored.kid)
    new = [StoredKey(_generate(a), a, moment, None) for a in algorithms]
    for stored in new:
        _write(folder, stored)
    return Rotation(tuple(k.kid for k in new), tuple(retired), tuple(removed))


class KeyRing:
    """The keys of one folder, re-read whenever the folder changes."""

    def __init__(self, folder: Path, algorithms: tuple[str, ...] = ALGORITHMS) -> None:
        self.folder = folder
        ensure_keys(folder, algorithms)
        self._lock = Lock()
        self._seen: int | None = None
        self._keys: list[StoredKey] = []

    def _current(self) -> list[StoredKey]:
        changed = self.folder.stat().st_mtime_ns
        with self._lock:
            if changed != self._seen:
                self._keys, self._seen = read_keys(self.folder), changed
            return self._keys

    def signing_key(self, algorithm: str) -> SigningKey:
        active = [k for k in self._current() if k.algorithm == algorithm and k.retired_at is None]
        if not active:
            raise LookupError(f"no active {algorithm} key in {self.folder}; run "
                              "`civicstack keys rotate`")
        return active[-1].key

    def public_jwks(self) -> dict[str, Any]:
        return dict(KeySet([k.key for k in self._current()]).as_dict(private=False))

    def verification_keys(self) -> KeySet:
        return KeySet([k.key for k in self._current()])
