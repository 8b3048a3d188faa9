"""Where the logs' trees live in the database: their perfect subtrees' hashes (so proofs are
O(log n) reads) and their signed checkpoints. Entries themselves stay in their owners' tables,
each with the `leaf_index` the sealer gave it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicstack.kit.db import Base
from civicstack.kit.tlog.merkle import Node, NodeReader

BIG_INT = BigInteger().with_variant(Integer, "sqlite")


class TlogNode(Base):
    """A perfect subtree's hash: leaves [index * 2**level, (index + 1) * 2**level)."""

    __tablename__ = "tlog_node"

    log: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    index: Mapped[int] = mapped_column(BIG_INT, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TlogCheckpoint(Base):
    """A signed tree head, as published to the witnesses."""

    __tablename__ = "tlog_checkpoint"

    log: Mapped[str] = mapped_column(String(20), primary_key=True)
    size: Mapped[int] = mapped_column(BIG_INT, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def node_reader(session: Session, log: str) -> NodeReader:
    """Reads a log's stored nodes, all of one proof in one query."""
    def read(nodes: Iterable[Node]) -> dict[Node, bytes]:
        wanted = list(nodes)
        if not wanted:
            return {}
        found = {(level, index): digest for level, index, digest in session.execute(
            select(TlogNode.level, TlogNode.index, TlogNode.hash).where(
                TlogNode.log == log, tuple_(TlogNode.level, TlogNode.index).in_(wanted)))}
        missing = [node for node in wanted if node not in found]
        if missing:
            raise LookupError(f"the {log} tree lacks nodes {missing[:3]}")
        return found
    return read


def latest_checkpoint(session: Session, log: str) -> TlogCheckpoint | None:
    return session.scalars(select(TlogCheckpoint).where(TlogCheckpoint.log == log)
                           .order_by(TlogCheckpoint.size.desc()).limit(1)).first()


def checkpoint_at(session: Session, log: str, size: int) -> TlogCheckpoint | None:
    return session.get(TlogCheckpoint, (log, size))


def checkpoints_after(session: Session, log: str, size: int) -> list[TlogCheckpoint]:
    return list(session.scalars(select(TlogCheckpoint).where(
        TlogCheckpoint.log == log, TlogCheckpoint.size > size).order_by(TlogCheckpoint.size)))
