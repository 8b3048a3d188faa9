"""A table of entries made into a verifiable log: sealed into a Merkle tree, checkpointed,
witnessed, verified and proven.

Writers only insert their entry (no lock shared between writers). The sealer, one at a time,
gives each committed entry without a place the next leaf index, in sequence order, stores the
tree's new nodes and a signed checkpoint; it commits, then hands the newest checkpoint to the
witness with a consistency proof. Sequence numbers may commit out of order: an entry that
commits late simply gets a later leaf index.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    bindparam,
    column,
    insert,
    select,
    text,
    update,
    values,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from civicstack.kit.tlog import merkle, store
from civicstack.kit.tlog.note import BadNote, Checkpoint, NoteSigner, NoteVerifier, sign_note
from civicstack.kit.tlog.proof import InclusionProof
from civicstack.kit.tlog.store import TlogCheckpoint, TlogNode
from civicstack.kit.tlog.witness import VerifiedPrefix, Witness, WitnessRefusal

SEAL_BATCH = 10_000  # two parameters an entry: within SQLite's and PostgreSQL's limits
SCAN_BATCH = 5_000


@dataclass(frozen=True)
class LogReport:
    """One verification of a log against its witnessed checkpoint."""

    entries_checked: int
    ok: bool
    first_bad_seq: int | None = None
    reason: str = ""


class Leaf(NamedTuple):
    """An entry as its tree sees it: its place, its sequence number and its canonical bytes."""

    place: int
    seq: int
    entry: bytes


class NotSealed(LookupError):
    """The entry has no place in a witnessed checkpoint yet (it will within seconds)."""


@dataclass(frozen=True)
class EntryLog:
    """A table whose rows are a log's entries: `seq` orders them as written, `leaf_index` is
    the place the sealer gave them, `canonical` the bytes a leaf hashes."""

    name: str  # the tree's name in the tlog tables, and the last part of its origin
    seq: InstrumentedAttribute[int]
    leaf_index: InstrumentedAttribute[int | None]
    canonical: Callable[[Any], bytes]
    occurred_at: InstrumentedAttribute[datetime]  # what the table is partitioned by

    @property
    def model(self) -> Any:
        return self.seq.class_

    def origin(self, verifier: NoteVerifier) -> str:
        return f"{verifier.name}/{self.name}"

    def leaf(self, row: Any) -> bytes:
        return merkle.leaf_hash(self.canonical(row))


def _claim_sealer(session: Session, log: EntryLog) -> bool:
    """Whether this transaction is the only sealer of `log` until it ends: on PostgreSQL an
    advisory lock that another instance's sealer skips over; on SQLite the database's write
    lock, taken at once by a no-op write."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                    {"key": _lock_key(log)}).scalar_one())
    session.execute(update(TlogCheckpoint).where(TlogCheckpoint.log == log.name,
                                                 TlogCheckpoint.size < 0).values(size=0))
    return True


def _lock_key(log: EntryLog) -> int:
    return int.from_bytes(merkle.leaf_hash(f"tlog sealer {log.name}".encode())[:8], "big",
                          signed=True)


def seal(session: Session, log: EntryLog, signer: NoteSigner,
         batch_size: int = SEAL_BATCH) -> Checkpoint | None:
    """Integrate up to `batch_size` pending entries and sign the new tree head; None when
    there was nothing to seal or another sealer is at work."""
    if not _claim_sealer(session, log):
        return None
    pending = session.scalars(select(log.model).where(log.leaf_index.is_(None))
                              .order_by(log.seq).limit(batch_size)).all()
    if not pending:
        return None
    latest = store.latest_checkpoint(session, log.name)
    tree = merkle.CompactRange.of(store.node_reader(session, log.name),
                                  latest.size if latest else 0)
    places, nodes = [], []
    for row in pending:
        places.append((getattr(row, log.seq.key), tree.size))
        nodes += tree.append(log.leaf(row))
    session.expunge_all()
    _place(session, log, places)
    session.execute(insert(TlogNode), [
        {"log": log.name, "level": level, "index": index, "hash": digest}
        for (level, index), digest in nodes])
    checkpoint = Checkpoint(log.origin(NoteVerifier.of(signer)), tree.size, tree.root())
    session.add(TlogCheckpoint(log=log.name, size=checkpoint.size,
                               root_hash=checkpoint.root_hash, signed_at=datetime.now(UTC),
                               note=sign_note(checkpoint.text(), signer)))
    session.flush()
    return checkpoint


def witness(session: Session, log: EntryLog, witness: Witness,
            verifier: NoteVerifier) -> Checkpoint | None:
    """Hand the newest sealed checkpoint to `witness` with its consistency proof from the one
    the witness holds; None if it holds the newest already. WitnessRefusal if the database's
    tree no longer extends what was witnessed."""
    origin = log.origin(verifier)
    held = witness.latest(origin)
    held_size = held.size if held else 0
    read = store.node_reader(session, log.name)
    if held is not None and _stored_root(read, held.size) != held.root_hash:
        raise WitnessRefusal(f"the database's tree of {held.size} entries differs from the "
                             "witnessed one")
    newest = store.latest_checkpoint(session, log.name)
    if newest is None or newest.size <= held_size:
        return None
    return witness.add(origin, newest.note,
                       merkle.consistency_proof(read, held_size, newest.size))


def _stored_root(read: merkle.NodeReader, size: int) -> bytes | None:
    try:
        return merkle.range_hash(read, (0, size))
    except LookupError:  # nodes removed
        return None


def _place(session: Session, log: EntryLog, places: list[tuple[int, int]]) -> None:
    """Give each entry its leaf index: on PostgreSQL in one statement (UPDATE ... FROM VALUES),
    as a round trip per entry made sealing the slowest part of the log; SQLite, in process,
    takes them one by one (it has no VALUES with named columns)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(log.model.__table__).where(log.seq == bindparam("entry"))
                        .values({log.leaf_index.key: bindparam("place")}),
                        [{"entry": seq, "place": place} for seq, place in places])
        return
    given = values(column("seq", BigInteger), column("place", BigInteger),
                   name="given").data(places)
    session.execute(update(log.model).where(log.seq == given.c.seq)
                    .values({log.leaf_index: given.c.place}))


def _sealed_rows(session: Session, log: EntryLog, start: int, end: int) -> Iterator[Leaf]:
    """Entries with leaf_index in [start, end), in tree order, a batch at a time."""
    while start < end:
        batch = [Leaf(getattr(row, log.leaf_index.key), getattr(row, log.seq.key),
                      log.canonical(row))
                 for row in session.scalars(select(log.model).where(
                     log.leaf_index >= start, log.leaf_index < end)
                     .order_by(log.leaf_index, log.seq).limit(SCAN_BATCH))]
        if not batch:
            return
        yield from batch
        start = batch[-1].place + 1
        session.expunge_all()


def _leaves(session: Session, log: EntryLog, start: int, end: int,
            archived: Sequence[Leaf]) -> Iterator[Leaf]:
    """The entries in [start, end) of the tree, from the database and from archives of months
    no longer in it, in tree order."""
    return heapq.merge(_sealed_rows(session, log, start, end),
                       (leaf for leaf in archived if start <= leaf.place < end))


def _recompute(session: Session, log: EntryLog, prefix: VerifiedPrefix,
               witnessed: Checkpoint, archived: Sequence[Leaf] = ()
               ) -> LogReport | merkle.CompactRange:
    """Extend `prefix` with the entries up to the witnessed size: the tree, or what is wrong."""
    tree = merkle.CompactRange(prefix.size, list(prefix.peaks))
    checked = 0
    for leaf in _leaves(session, log, prefix.size, witnessed.size, archived):
        if leaf.place != tree.size:
            problem = "appears twice" if leaf.place < tree.size else "is missing"
            return LogReport(checked, False, leaf.seq, f"entry {tree.size} of the tree {problem}")
        tree.append(merkle.leaf_hash(leaf.entry))
        checked += 1
    if tree.size != witnessed.size:
        return LogReport(checked, False, None, f"entries {tree.size} to {witnessed.size - 1} "
                         "of the witnessed tree are missing (removed from the end)")
    if tree.root() != witnessed.root_hash:
        return _locate_change(session, log, prefix.size, witnessed, checked, archived)
    return tree


def _locate_change(session: Session, log: EntryLog, start: int, witnessed: Checkpoint,
                   checked: int, archived: Sequence[Leaf]) -> LogReport:
    """The entries do not hash to the witnessed root: name the first whose leaf differs from
    the stored tree, unless the stored tree was rewritten with it."""
    read = store.node_reader(session, log.name)
    for leaf in _leaves(session, log, start, witnessed.size, archived):
        if read([(0, leaf.place)])[(0, leaf.place)] != merkle.leaf_hash(leaf.entry):
            return LogReport(checked, False, leaf.seq,
                             f"entry {leaf.place} does not match its leaf hash (modified)")
    return LogReport(checked, False, None, "the entries do not match the witnessed checkpoint "
                     f"of {witnessed.size} entries (history rewritten)")


def verify(session: Session, log: EntryLog, witness: Witness,
           verifier: NoteVerifier) -> LogReport:
    """Check the entries sealed since the last verification against the newest witnessed
    checkpoint, and remember how far: O(new entries + log n). Entries not yet witnessed are
    not looked at, so writers appending meanwhile cause no false alarm."""
    origin = log.origin(verifier)
    try:
        witnessed = witness.latest(origin)
    except BadNote as exc:
        return LogReport(0, False, None, f"witnessed checkpoint unusable: {exc}")
    if witnessed is None:
        return LogReport(0, True)
    prefix = witness.progress(origin)
    if prefix.size > witnessed.size:
        return LogReport(0, False, None, f"the witness holds {witnessed.size} entries but "
                         f"{prefix.size} were verified before (witness rolled back)")
    outcome = _recompute(session, log, prefix, witnessed)
    if isinstance(outcome, LogReport):
        return outcome
    witness.record_progress(origin, VerifiedPrefix(outcome.size, outcome.peaks))
    return LogReport(witnessed.size - prefix.size, True)


def full_audit(session: Session, log: EntryLog, witness: Witness,
               verifier: NoteVerifier, archived: Sequence[Leaf] = ()) -> LogReport:
    """Recompute the whole tree from every entry (in the database, and `archived` from months
    archived to files, in tree order) and compare it with the newest witnessed checkpoint;
    remembers nothing, so it can run against a backup."""
    try:
        witnessed = witness.latest(log.origin(verifier))
    except BadNote as exc:
        return LogReport(0, False, None, f"witnessed checkpoint unusable: {exc}")
    if witnessed is None:
        return LogReport(0, True)
    outcome = _recompute(session, log, VerifiedPrefix(), witnessed, archived)
    return outcome if isinstance(outcome, LogReport) else LogReport(witnessed.size, True)


def prove(session: Session, log: EntryLog, seq: int, witness: Witness,
          verifier: NoteVerifier) -> InclusionProof:
    """The entry's inclusion proof against the newest witnessed checkpoint, checked before it
    is handed out: NotSealed if it is not in one yet, BadNote if the entry was altered."""
    origin = log.origin(verifier)
    row = session.get(log.model, seq)
    place = None if row is None else getattr(row, log.leaf_index.key)
    witnessed = witness.latest(origin)
    if place is None or witnessed is None or place >= witnessed.size:
        raise NotSealed(f"entry {seq} is not in a witnessed checkpoint yet")
    note = witness.note(origin, witnessed.size)
    if note is None:
        raise NotSealed(f"the witnessed checkpoint of {witnessed.size} entries is unreadable")
    proof = InclusionProof(log.canonical(row), place, merkle.inclusion_proof(
        store.node_reader(session, log.name), place, witnessed.size), note)
    proof.verify(verifier, origin)
    return proof
