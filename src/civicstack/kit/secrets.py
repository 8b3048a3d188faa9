"""Secrets and signing keys kept in the database, sealed under the root key (envelope
encryption), so that every instance reading the same database with the same root key uses the
same ones, whatever its data directory.

Each record is sealed (AES-256-GCM) under a fresh data key of its own, and only that data key
is wrapped by the root key (kit/keyprovider.py): replacing the root key re-wraps 32 bytes per
record and leaves the sealed material as it is. The record's identity (purpose, name,
algorithm, version) is the associated data of both, so material or a wrapped key copied onto
another row does not open. A record is made once, by whichever instance gets there first
(INSERT ... ON CONFLICT DO NOTHING, then read what won), and never silently made again over one
that does not open.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from civicstack.kit.db import Base, as_utc, transaction
from civicstack.kit.keyprovider import KeyProvider, WrongRootKey
from civicstack.kit.sealing import Sealer

# 32 URL-safe characters carry 192 bits; a generated secret has 43 (32 random bytes).
MIN_SECRET_CHARACTERS = 32
DATA_KEY_BYTES = 32
MATERIAL_PURPOSE = b"civicstack stored secret v1"
SECRET = "secret"  # noqa: S105 (a kind of record, not a password)
SIGNING_KEY = "signing key"
KEY_PAIR = "key pair"  # a private key and its X.509 certificate, in PEM
PURPOSES = (SECRET, SIGNING_KEY, KEY_PAIR)
LEGACY_SECRETS = "secrets"  # where the data directory held secrets before they moved here
LEGACY_KEY_PAIRS = "keys"  # ... and key pairs, as keys/<name>.pem


class StoredSecret(Base):
    """One secret, signing key or key pair, sealed under a data key that the root key wraps."""

    __tablename__ = "stored_secret"
    __table_args__ = (
        UniqueConstraint("purpose", "name", "algorithm", "version",
                         name="uq_stored_secret_identity"),
        CheckConstraint("purpose IN ('secret', 'signing key', 'key pair')",
                        name="purpose_known"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))  # the secret's, or the signing key ring's
    algorithm: Mapped[str] = mapped_column(String(10), default="")  # a signing key's JOSE alg
    version: Mapped[int] = mapped_column(Integer)  # a ring's keys count up at each rotation
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)  # the data key, under the root key
    sealed_material: Mapped[bytes] = mapped_column(LargeBinary)  # under the data key
    root_key_id: Mapped[str] = mapped_column(String(200))


@dataclass(frozen=True)
class Identity:
    purpose: str
    name: str
    algorithm: str = ""
    version: int = 1

    @property
    def context(self) -> bytes:
        # NUL cannot occur in any of the parts, so two identities never share a context.
        return "\0".join((self.purpose, self.name, self.algorithm, str(self.version))).encode()


@dataclass(frozen=True)
class Record:
    """A record opened: its material in the clear."""

    id: int
    identity: Identity
    created_at: datetime
    retired_at: datetime | None
    material: bytes


class UnusableSecret(RuntimeError):
    """A secret too short to protect anything: the service refuses to start on it."""


def identity_of(row: StoredSecret) -> Identity:
    return Identity(row.purpose, row.name, row.algorithm, row.version)


def _open(provider: KeyProvider, row: StoredSecret) -> Record:
    identity = identity_of(row)
    if row.root_key_id != provider.key_id:
        raise WrongRootKey(_wrong_key_message({row.root_key_id}, provider.key_id))
    data_key = provider.unwrap(row.wrapped_key, identity.context)
    material = Sealer(data_key, MATERIAL_PURPOSE).open(row.sealed_material, identity.context)
    return Record(row.id, identity, as_utc(row.created_at),
                  as_utc(row.retired_at) if row.retired_at else None, material)


def _wrong_key_message(stored: set[str], given: str) -> str:
    return (f"the secrets in the database are sealed under root key {', '.join(sorted(stored))}"
            f", and this instance was given root key {given}: refusing to start. Give every "
            "instance the deployment's root key (CIVICSTACK_ROOT_KEY or "
            "CIVICSTACK_ROOT_KEY_FILE, docs/keys.md); new secrets are never made over stored "
            "ones.")


def add_record(session: Session, provider: KeyProvider, identity: Identity, material: bytes,
               created_at: datetime, retired_at: datetime | None = None) -> bool:
    """Store `material` sealed unless a record of this identity exists (another instance's,
    perhaps not yet committed: this waits for it); whether this one was stored. Never under a
    root key other than the one the stored records have."""
    check_root_key(session, provider)
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(StoredSecret).values(
        purpose=identity.purpose, name=identity.name, algorithm=identity.algorithm,
        version=identity.version, created_at=created_at, retired_at=retired_at,
        wrapped_key=provider.wrap(data_key, identity.context),
        sealed_material=Sealer(data_key, MATERIAL_PURPOSE).seal(material, identity.context),
        root_key_id=provider.key_id,
    ).on_conflict_do_nothing(index_elements=["purpose", "name", "algorithm", "version"])
    # RETURNING tells on both databases whether the row went in (the rowcount, with psycopg,
    # did not).
    return session.execute(statement.returning(StoredSecret.id)).first() is not None


def rows_of(session: Session, purpose: str, name: str) -> list[StoredSecret]:
    return list(session.scalars(select(StoredSecret).where(
        StoredSecret.purpose == purpose, StoredSecret.name == name).order_by(
        StoredSecret.algorithm, StoredSecret.version)))


def records(session: Session, provider: KeyProvider, purpose: str,
            name: str) -> list[Record]:
    return [_open(provider, row) for row in rows_of(session, purpose, name)]


def fingerprint(session: Session, purpose: str, name: str) -> tuple[tuple[Any, ...], ...]:
    """What changes whenever a record of `name` is added, retired, removed or re-wrapped: a
    running instance re-reads (and unwraps) the records only then."""
    return tuple(tuple(row) for row in session.execute(
        select(StoredSecret.id, StoredSecret.retired_at, StoredSecret.root_key_id).where(
            StoredSecret.purpose == purpose, StoredSecret.name == name).order_by(
            StoredSecret.id)))


def retire(session: Session, ids: list[int], moment: datetime) -> None:
    session.execute(update(StoredSecret).where(StoredSecret.id.in_(ids)).values(
        retired_at=moment))


def delete_records(session: Session, ids: list[int]) -> None:
    session.execute(delete(StoredSecret).where(StoredSecret.id.in_(ids)))


def names_of(session: Session, purpose: str) -> list[str]:
    return list(session.scalars(select(StoredSecret.name).where(
        StoredSecret.purpose == purpose).distinct().order_by(StoredSecret.name)))


def root_key_ids(session: Session) -> set[str]:
    return set(session.scalars(select(StoredSecret.root_key_id).distinct()))


def check_root_key(session: Session, provider: KeyProvider) -> None:
    """WrongRootKey unless everything stored is wrapped under `provider`'s root key."""
    stored = root_key_ids(session)
    if stored - {provider.key_id}:
        raise WrongRootKey(_wrong_key_message(stored, provider.key_id))


def rewrap_all(session: Session, old: KeyProvider, new: KeyProvider) -> int:
    """Every record's data key re-wrapped from the old root key to the new one, in the
    caller's transaction (all of them or none); the sealed material is not touched."""
    check_root_key(session, old)
    rows = list(session.scalars(select(StoredSecret).order_by(StoredSecret.id)
                                .with_for_update()))
    for row in rows:
        context = identity_of(row).context
        row.wrapped_key = new.wrap(old.unwrap(row.wrapped_key, context), context)
        row.root_key_id = new.key_id
    return len(rows)


class SecretStore:
    """The deployment's secrets and signing keys, as every instance sees them."""

    def __init__(self, factory: sessionmaker[Session], provider: KeyProvider,
                 data_dir: Path) -> None:
        self.factory = factory
        self.provider = provider
        self.data_dir = data_dir  # only to adopt what older versions kept there
        self._secrets: dict[str, str] = {}
        self._lock = Lock()

    def check_root_key(self) -> None:
        with transaction(self.factory) as session:
            check_root_key(session, self.provider)

    def secret(self, name: str) -> str:
        """The named secret, made at first use by one instance for all: adopted from the data
        directory where an older version kept it there (so what it sealed still opens), or
        fresh randomness. Secrets never change, so each is read once per process."""
        with self._lock:
            if name not in self._secrets:
                self._secrets[name] = self._read_or_make(name)
            return self._secrets[name]

    def _read_or_make(self, name: str) -> str:
        with transaction(self.factory) as session:
            found = records(session, self.provider, SECRET, name)
            if not found:
                value = self.legacy_secret(name) or secrets.token_urlsafe(32)
                add_record(session, self.provider, Identity(SECRET, name), value.encode(),
                           datetime.now(UTC))
                found = records(session, self.provider, SECRET, name)
        return _usable(name, found[0].material.decode())

    def legacy_secret(self, name: str) -> str | None:
        path = self.data_dir / LEGACY_SECRETS / name
        return _usable(name, path.read_text().strip()) if path.exists() else None

    def key_pair(self, name: str, make: Callable[[], bytes],
                 still_valid: Callable[[bytes], bool]) -> bytes:
        """The PEM of the named key pair, made once by one instance for all: adopted from the
        data directory where an older version kept it there, or `make()`. One that is no
        longer `still_valid` is renewed: the next version and the deletion of the old ones
        commit together, and two instances renewing at once store one."""
        with transaction(self.factory) as session:
            newest = self._stored_key_pair(session, name, make)
            if still_valid(newest.material):
                return newest.material
            renewed = Identity(KEY_PAIR, name, version=newest.identity.version + 1)
            if add_record(session, self.provider, renewed, make(), datetime.now(UTC)):
                delete_records(session, [newest.id])
            return records(session, self.provider, KEY_PAIR, name)[-1].material

    def _stored_key_pair(self, session: Session, name: str, make: Callable[[], bytes]) -> Record:
        found = records(session, self.provider, KEY_PAIR, name)
        if not found:
            legacy = self.legacy_key_pair(name)
            add_record(session, self.provider, Identity(KEY_PAIR, name),
                       legacy if legacy is not None else make(), datetime.now(UTC))
            found = records(session, self.provider, KEY_PAIR, name)
        return found[-1]

    def legacy_key_pair(self, name: str) -> bytes | None:
        path = self.data_dir / LEGACY_KEY_PAIRS / f"{name}.pem"
        return path.read_bytes() if path.is_file() else None

    def import_key_pair_files(self) -> dict[str, bool]:
        """Every key pair the data directory holds (keys/**/*.pem), stored here unless one of
        that name already is; by name, whether the stored one is the file's."""
        folder = self.data_dir / LEGACY_KEY_PAIRS
        names = sorted(path.relative_to(folder).with_suffix("").as_posix()
                       for path in folder.rglob("*.pem") if not path.name.startswith(".")) \
            if folder.is_dir() else []
        imported = {}
        for name in names:
            with transaction(self.factory) as session:
                stored = self._stored_key_pair(session, name, _nothing_to_make).material
            imported[name] = stored == self.legacy_key_pair(name)
        return imported

    def import_secret_files(self) -> dict[str, bool]:
        """Every secret the data directory holds, stored here unless already stored; by name,
        whether the stored one is the file's (False: the database already had another, which
        wins: what that file sealed will not open)."""
        folder = self.data_dir / LEGACY_SECRETS
        names = sorted(path.name for path in folder.iterdir()
                       if path.is_file() and not path.name.startswith(".")) \
            if folder.is_dir() else []
        return {name: self.secret(name) == self.legacy_secret(name) for name in names}


def _nothing_to_make() -> bytes:
    raise AssertionError("only called for a name the data directory holds a file of")


def _usable(name: str, value: str) -> str:
    # An empty key would sign cookies anyone can forge and seal data anyone can open.
    if len(value) < MIN_SECRET_CHARACTERS:
        raise UnusableSecret(
            f"the secret {name} has {len(value)} characters, fewer than "
            f"{MIN_SECRET_CHARACTERS}: refusing to start. Restore it from a backup (a file in "
            "the data directory's secrets/ is adopted only while the database has none).")
    return value
