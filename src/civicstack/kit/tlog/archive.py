"""Months of a log archived to files, so their partitions can be dropped and proofs of their
entries still verify.

An archive holds one month's entries (leaf index, sequence number, canonical bytes), the
witnessed checkpoint that covers them and every tree node their inclusion proofs in that
checkpoint need: a proof is made from the file alone and checked with the log's key alone.
Nothing in the file is trusted: a changed entry or node makes its proof fail, and
`full_audit` recomputes the tree from the database's entries and the archives' together.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit import partitions
from civicstack.kit.partitions import Month
from civicstack.kit.private_files import private_folder, publish_once
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog import merkle, store
from civicstack.kit.tlog.log import EntryLog, Leaf
from civicstack.kit.tlog.note import BadNote, NoteVerifier, decode_base64, open_checkpoint
from civicstack.kit.tlog.proof import InclusionProof
from civicstack.kit.tlog.witness import Witness

HEADER = "civicstack.org/tlog-archive@v1"
NODE_BATCH = 2_000  # (level, index) pairs an IN list reads at once


class ArchiveRefused(RuntimeError):
    """A month that cannot be archived (yet), with the reason."""


@dataclass(frozen=True)
class LogArchive:
    log: str
    month: Month
    entries: list[Leaf]  # in tree order
    nodes: dict[merkle.Node, bytes]
    checkpoint_note: str

    @property
    def file_name(self) -> str:
        return f"{self.log}-{self.month}.tlog-archive"

    def text(self) -> str:
        lines = [HEADER, f"log {self.log}", f"month {self.month}"]
        lines += [f"entry {leaf.place} {leaf.seq} {base64.b64encode(leaf.entry).decode()}"
                  for leaf in self.entries]
        lines += [f"node {level} {index} {base64.b64encode(digest).decode()}"
                  for (level, index), digest in sorted(self.nodes.items())]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> LogArchive:
        head, separator, note = text.partition("\n\n")
        lines = head.split("\n")
        if not separator or lines[0] != HEADER or len(lines) < 3:
            raise BadNote(f"not a {HEADER} file")
        try:
            log, month = lines[1].removeprefix("log "), Month.parse(lines[2].removeprefix(
                "month "))
            entries, nodes = [], {}
            for line in lines[3:]:
                kind, first, second, encoded = line.split(" ")
                if kind == "entry":
                    entries.append(Leaf(int(first), int(second), decode_base64(encoded)))
                elif kind == "node":
                    nodes[(int(first), int(second))] = decode_base64(encoded)
                else:
                    raise BadNote(f"an archive line is an entry or a node, not {kind!r}")
        except ValueError as exc:
            raise BadNote(f"unreadable archive line: {exc}") from exc
        return cls(log, month, sorted(entries), nodes, note)

    def prove(self, seq: int, verifier: NoteVerifier, origin: str) -> InclusionProof:
        """Entry `seq`'s inclusion proof in the archive's checkpoint, from this file alone,
        checked before it is handed out (BadNote if the file was altered); LookupError if the
        entry is not in this archive."""
        leaf = next((leaf for leaf in self.entries if leaf.seq == seq), None)
        if leaf is None:
            raise LookupError(f"entry {seq} is not in the archive of {self.month}")
        return self._proof_of(leaf, verifier, origin)

    def _proof_of(self, leaf: Leaf, verifier: NoteVerifier, origin: str) -> InclusionProof:
        size = open_checkpoint(self.checkpoint_note, verifier, origin).size
        try:
            path = merkle.inclusion_proof(self._complete_read, leaf.place, size)
        except (LookupError, ValueError) as exc:
            raise BadNote(f"the archive cannot prove entry {leaf.seq}: {exc}") from exc
        proof = InclusionProof(leaf.entry, leaf.place, path, self.checkpoint_note)
        proof.verify(verifier, origin)
        return proof

    def _complete_read(self, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
        nodes = list(wanted)
        missing = [node for node in nodes if node not in self.nodes]
        if missing:
            raise LookupError(f"nodes {missing[:3]} missing from the archive")
        return {node: self.nodes[node] for node in nodes}

    def check(self, verifier: NoteVerifier, origin: str) -> None:
        """Every entry's proof verifies from this file: BadNote otherwise."""
        if self.log != origin.rpartition("/")[2]:
            raise BadNote(f"the archive is of the {self.log} log, not {origin}")
        for leaf in self.entries:
            self._proof_of(leaf, verifier, origin)


def read_archives(folder: Path, log: EntryLog) -> list[LogArchive]:
    """The log's archives in `folder`, oldest month first."""
    return sorted((LogArchive.parse(path.read_text())
                   for path in folder.glob(f"{log.name}-*.tlog-archive")),
                  key=lambda archive: archive.month)


def archived_leaves(archives: Sequence[LogArchive]) -> list[Leaf]:
    return sorted(leaf for archive in archives for leaf in archive.entries)


def _proof_nodes(places: Iterable[int], size: int) -> set[merkle.Node]:
    return {node for place in places for leaf_range in merkle.inclusion_ranges(place, size)
            for node in merkle.perfect_nodes(*leaf_range)}


def _read_nodes(session: Session, log: EntryLog, wanted: set[merkle.Node]
                ) -> dict[merkle.Node, bytes]:
    read, ordered, found = store.node_reader(session, log.name), sorted(wanted), {}
    for start in range(0, len(ordered), NODE_BATCH):
        found.update(read(ordered[start:start + NODE_BATCH]))
    return found


def _month_entries(session: Session, log: EntryLog, month: Month, size: int) -> list[Leaf]:
    rows = session.scalars(select(log.model).where(
        log.occurred_at >= month.start, log.occurred_at < month.following().start)
        .order_by(log.leaf_index))
    entries = []
    for row in rows:
        place = getattr(row, log.leaf_index.key)
        if place is None or place >= size:
            raise ArchiveRefused(f"entry {getattr(row, log.seq.key)} of {month} is not in a "
                                 "witnessed checkpoint yet: seal first")
        entries.append(Leaf(place, getattr(row, log.seq.key), log.canonical(row)))
    session.expunge_all()
    return entries


def archive_month(session: Session, log: EntryLog, month: Month, witness: Witness,
                  verifier: NoteVerifier, folder: Path) -> LogArchive:
    """Write `month`'s entries, the witnessed checkpoint and their proofs' nodes to a file in
    `folder`, check every proof from the file, then detach and drop the month's partition."""
    table = log.model.__tablename__
    if not partitions.is_partitioned(session, table):
        raise ArchiveRefused("archiving drops a month's partition, and only PostgreSQL's tables "
                             "are partitioned; an SQLite log is kept whole")
    if month >= Month.of(datetime.now(UTC)):
        raise ArchiveRefused(f"{month} is not over yet")
    if month not in partitions.months_of(session, table):
        raise ArchiveRefused(f"{table} has no partition for {month} (archived already?)")
    # The entries leave the database, so they must match the witness before they go.
    report = tlog.verify(session, log, witness, verifier)
    if not report.ok:
        raise ArchiveRefused(f"the log does not verify: {report.reason}")
    origin = log.origin(verifier)
    witnessed = witness.latest(origin)
    note = witness.note(origin, witnessed.size) if witnessed else None
    if witnessed is None or note is None:
        raise ArchiveRefused("no witnessed checkpoint yet: seal first")
    entries = _month_entries(session, log, month, witnessed.size)
    nodes = _read_nodes(session, log, _proof_nodes((leaf.place for leaf in entries),
                                                   witnessed.size))
    archive = LogArchive(log.name, month, entries, nodes, note)
    path = private_folder(folder) / archive.file_name
    if publish_once(path, archive.text().encode()).decode() != archive.text():
        raise ArchiveRefused(f"{path} exists and holds another archive")
    LogArchive.parse(path.read_text()).check(verifier, origin)
    partitions.drop_month(session, table, month)
    return archive
