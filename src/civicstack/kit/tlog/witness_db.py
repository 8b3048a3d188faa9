"""A witness in a second database (CIVICSTACK_LOG_WITNESS_DATABASE_URL), run by people other
than the primary database's administrators: its tables refuse UPDATE, DELETE and TRUNCATE
(triggers), and a checkpoint is accepted only if the log's key signed it and a consistency
proof links it to the newest one held. Its tables are its own (not in the primary database's
migrations): it makes them, with their triggers, on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Engine, Integer, String, Text, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from civicstack.kit.db import make_session_factory, transaction
from civicstack.kit.tlog import merkle
from civicstack.kit.tlog.note import BadNote, Checkpoint, NoteVerifier, open_checkpoint
from civicstack.kit.tlog.witness import VerifiedPrefix, WitnessRefusal

BIG_INT = BigInteger().with_variant(Integer, "sqlite")


class WitnessBase(DeclarativeBase):
    """The witness database's tables, apart from the primary database's models."""


class WitnessedCheckpoint(WitnessBase):
    __tablename__ = "witnessed_checkpoint"

    origin: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(BIG_INT, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(Text)
    witnessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WitnessedProgress(WitnessBase):
    """How far the log was verified against this witness: a row per step, never changed."""

    __tablename__ = "witnessed_progress"

    origin: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(BIG_INT, primary_key=True, autoincrement=False)
    prefix: Mapped[str] = mapped_column(Text)  # VerifiedPrefix.text()


def _append_only_sqlite(table: str) -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")]


def _append_only_postgresql(table: str) -> list[str]:
    return [f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION witness_append_only()",
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION witness_append_only()"]


APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION witness_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")


class DatabaseWitness:
    def __init__(self, engine: Engine, verifier: NoteVerifier) -> None:
        self.engine = engine
        self.verifier = verifier
        self._sessions = make_session_factory(engine)
        self._prepared = False

    def _prepare(self) -> None:
        WitnessBase.metadata.create_all(self.engine)
        postgresql = self.engine.dialect.name == "postgresql"
        with self.engine.begin() as connection:
            if postgresql:
                connection.execute(text(APPEND_ONLY_FUNCTION))
            for table in WitnessBase.metadata.tables:
                for statement in (_append_only_postgresql(table) if postgresql
                                  else _append_only_sqlite(table)):
                    connection.execute(text(statement))
        self._prepared = True

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if not self._prepared:
            self._prepare()
        with transaction(self._sessions) as session:
            yield session

    def _newest(self, session: Session, origin: str) -> WitnessedCheckpoint | None:
        return session.scalars(select(WitnessedCheckpoint).where(
            WitnessedCheckpoint.origin == origin).order_by(WitnessedCheckpoint.size.desc())
            .limit(1)).first()

    def latest(self, origin: str) -> Checkpoint | None:
        with self._session() as session:
            newest = self._newest(session, origin)
            return open_checkpoint(newest.note, self.verifier, origin) if newest else None

    def note(self, origin: str, size: int) -> str | None:
        with self._session() as session:
            row = session.get(WitnessedCheckpoint, (origin, size))
            return row.note if row else None

    def add(self, origin: str, note: str, proof: Sequence[bytes]) -> Checkpoint:
        try:
            checkpoint = open_checkpoint(note, self.verifier, origin)
        except BadNote as exc:
            raise WitnessRefusal(str(exc)) from exc
        try:
            with self._session() as session:
                self._check_extends(session, origin, checkpoint, proof)
                session.add(WitnessedCheckpoint(origin=origin, size=checkpoint.size, note=note,
                                                witnessed_at=datetime.now(UTC)))
        except IntegrityError:  # another sealer's round kept this size first
            kept = self.note(origin, checkpoint.size)
            if kept is None or open_checkpoint(kept, self.verifier, origin) != checkpoint:
                raise WitnessRefusal(f"two different trees of {checkpoint.size} entries "
                                     "(a fork)") from None
        return checkpoint

    def _check_extends(self, session: Session, origin: str, checkpoint: Checkpoint,
                       proof: Sequence[bytes]) -> None:
        newest = self._newest(session, origin)
        previous = open_checkpoint(newest.note, self.verifier, origin) if newest else None
        old_size, old_root = ((previous.size, previous.root_hash) if previous
                              else (0, merkle.EMPTY_ROOT))
        if not merkle.verify_consistency(old_size, checkpoint.size, old_root,
                                         checkpoint.root_hash, proof):
            raise WitnessRefusal(f"the checkpoint of {checkpoint.size} entries is not "
                                 f"consistent with the witnessed one of {old_size}")

    def progress(self, origin: str) -> VerifiedPrefix:
        with self._session() as session:
            newest = session.scalars(select(WitnessedProgress.prefix).where(
                WitnessedProgress.origin == origin).order_by(WitnessedProgress.size.desc())
                .limit(1)).first()
        return VerifiedPrefix.parse(newest) if newest else VerifiedPrefix()

    def record_progress(self, origin: str, prefix: VerifiedPrefix) -> None:
        if prefix.size <= self.progress(origin).size:
            return  # nothing newer verified: the rows only ever grow
        try:
            with self._session() as session:
                session.add(WitnessedProgress(origin=origin, size=prefix.size,
                                              prefix=prefix.text()))
        except IntegrityError:
            return  # a concurrent check recorded the same size (the same prefix)
