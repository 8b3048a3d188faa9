"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker

from civicstack.config import Settings
from civicstack.kit.private_files import FILE_MODE, private_file

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class ServingLimits:
    """How a long-running process (the web server, the worker) uses PostgreSQL: its pool, and
    the server-side timeouts that stop one stuck request or a dead client's open transaction
    from holding locks that every other request then waits on. 0 turns a timeout off."""

    pool_size: int
    max_overflow: int
    pool_timeout_s: float
    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    connect_retry_s: float = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingLimits:
        return cls(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_s,
                   settings.db_statement_timeout_ms, settings.db_lock_timeout_ms,
                   settings.db_idle_in_transaction_timeout_ms, settings.db_connect_retry_s)

    def postgres_options(self) -> str:
        """libpq's `options`: each setting as the session's own, from its first statement."""
        return " ".join((f"-c statement_timeout={self.statement_timeout_ms}",
                         f"-c lock_timeout={self.lock_timeout_ms}",
                         "-c idle_in_transaction_session_timeout="
                         f"{self.idle_in_transaction_timeout_ms}"))


def make_engine(url: str, limits: ServingLimits | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`. Without `limits` (operator commands, tests) PostgreSQL cuts nothing
    short: a national import's statements may rightly run for minutes."""
    if is_sqlite(url):
        keep_database_file_private(url)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "savepoint", _savepoint_holds_the_write_lock)
        return engine
    if limits is None:
        return create_engine(url, pool_pre_ping=True, **kwargs)
    kwargs |= {"pool_size": limits.pool_size, "max_overflow": limits.max_overflow,
               "pool_timeout": limits.pool_timeout_s,
               "connect_args": {"options": limits.postgres_options()}}
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if limits.connect_retry_s > 0:
        keep_connecting(engine, limits.connect_retry_s)
    return engine


CONNECT_RETRY_PAUSE_S = 0.25


def keep_connecting(engine: Engine, within_s: float) -> None:
    """A new connection that PostgreSQL refuses is tried again for up to `within_s` seconds
    before the request fails (503). Nothing has been sent yet, so this is always safe, and it
    carries requests over a failover: the pre-ping finds the old primary's connections dead,
    and with `target_session_attrs=read-write` no host accepts until the standby is promoted.
    Only connecting is retried: a transaction cut off later is never replayed here, since a
    handler cannot be run twice and a COMMIT whose answer was lost may have committed
    (docs/high-availability.md)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + within_s
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(CONNECT_RETRY_PAUSE_S)


def keep_database_file_private(url: str) -> None:
    """An SQLite database file made 0600 before SQLite opens it (it holds session tokens and
    personal data); SQLite gives its -wal and -shm files the database file's mode, and those an
    older version left open are tightened too. Other databases keep no file of ours."""
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:" or \
            database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing folder itself
    private_file(path)
    for companion in (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")):
        if companion.exists():
            companion.chmod(FILE_MODE)


SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL's refusals of a statement that waited too long for a lock: lock_timeout
# (lock_not_available), statement_timeout (query_canceled), and a deadlock broken by the server.
LOCK_REFUSALS = frozenset({"55P03", "57014", "40P01"})


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the portal read while an import writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    _set_busy_timeout(dbapi_connection, SQLITE_BUSY_TIMEOUT_MS)


def _savepoint_holds_the_write_lock(connection: Connection, _name: str | None) -> None:
    """A savepoint opened outside a transaction begins one that takes SQLite's write lock at
    once (BEGIN IMMEDIATE), waiting its turn behind another writer. Begun lazily, as SQLite
    would, the savepoint's first read fixes a snapshot; if another connection (an in-app job, a
    second request) commits before the savepoint's first write, SQLite refuses that write at
    once, without waiting: "database is locked", a 503 for the official. Transactions without
    a savepoint read outside any transaction until their first write (the driver's way), so
    they meet no stale snapshot. PostgreSQL's READ COMMITTED has no such refusal."""
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def lock_wait_limit(session: Session, milliseconds: int) -> Iterator[None]:
    """Within the block, a statement of this session that waits for another transaction's lock
    gives up after `milliseconds` (an OperationalError that `is_lock_timeout` recognises)
    instead of SQLite's ten seconds or PostgreSQL's for ever; on PostgreSQL until the
    transaction ends. For callers with a time budget of their own, such as a gate."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text(f"SET LOCAL lock_timeout = {int(milliseconds)}"))
        yield
        return
    # The connection's own cursor: a failed flush leaves the session unusable until rollback,
    # and the pooled connection must get its usual wait back before it serves anyone else.
    connection = session.connection().connection.dbapi_connection
    assert connection is not None  # the session holds it for the transaction
    _set_busy_timeout(connection, int(milliseconds))
    try:
        yield
    finally:
        _set_busy_timeout(connection, SQLITE_BUSY_TIMEOUT_MS)


def _set_busy_timeout(dbapi_connection: Any, milliseconds: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
    cursor.close()


def is_lock_timeout(error: OperationalError) -> bool:
    """The database refused to wait longer for a lock (rather than being unreachable)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in LOCK_REFUSALS or "database is locked" in str(error.orig)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_only_session_factory(primary: Engine, replica_url: str,
                              limits: ServingLimits | None = None) -> sessionmaker[Session]:
    """Sessions for reads that may be a little stale (public statistics, the catalogue, the
    ranking): on the standby at `replica_url` when one is given, else on the primary. Their
    transactions are READ ONLY on PostgreSQL either way, so a handler moved onto them that
    writes (an audited read, say) fails in the tests on one server, not only in production on
    a standby."""
    engine = make_engine(replica_url, limits) if replica_url else primary
    return make_session_factory(engine.execution_options(postgresql_readonly=True))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back everything when it raises."""
    with factory() as session, session.begin():
        yield session


PURGE_BATCH = 1000


def delete_in_batches(factory: sessionmaker[Session], key: InstrumentedAttribute[Any],
                      *conditions: ColumnElement[bool], batch: int = PURGE_BATCH) -> int:
    """Delete the rows of `key`'s table that meet `conditions`, `batch` rows per transaction,
    so a purge of a million expired rows never holds their locks, or a long transaction,
    while requests wait. Returns how many went."""
    deleted = 0
    while True:
        with transaction(factory) as session:
            keys = list(session.execute(select(key).where(*conditions).limit(batch)).scalars())
            if keys:
                session.execute(delete(key.class_).where(key.in_(keys)))
        deleted += len(keys)
        if len(keys) < batch:
            return deleted


@contextmanager
def exclusively(engine: Engine, name: str) -> Iterator[bool]:
    """True inside the block when no other process holds `name`: a PostgreSQL advisory lock,
    held on a connection of its own outside any transaction (so a long job never shows as idle
    in transaction) and released when the block ends or the process dies. SQLite serves one
    process, which holds every name."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        held = bool(connection.execute(select(func.pg_try_advisory_lock(key))).scalar())
        try:
            yield held
        finally:
            if held:
                connection.execute(select(func.pg_advisory_unlock(key)))


def as_utc(moment: datetime) -> datetime:
    """SQLite hands stored instants back naive; every instant is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
