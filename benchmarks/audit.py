"""Benchmark: audited commits per second with 1, 4 and 16 writers, next to a plain INSERT of
the same row in the same run, and the seal latency (commit to a witnessed, signed checkpoint).

Each writer thread commits one transaction after another for `--seconds`: either a plain ORM
INSERT of the audit row's columns into a table shaped like audit_entry (its indexes, no
triggers), or `audit.record` (the same row, with its append-only trigger and pending index).
While the audited writers run, a sealer process (as the worker would be) does what the
worker's job does every `--seal-every` seconds (seal, commit, hand the checkpoint to a
directory witness); an entry's seal latency is the time from its commit to the end of the
round that witnessed it.

PostgreSQL is a throwaway cluster with durability ON (fsync, synchronous commit, full-page
writes): the figure is the cost of a commit. The machine may be shared.

    .venv/bin/python benchmarks/audit.py --seconds 8
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import threading
import time
from bisect import bisect_right
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from sqlalchemy import JSON, BigInteger, DateTime, Index, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from civicstack.kit import audit
from civicstack.kit.audit import AUDIT_LOG, AuditEntry
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import throwaway_postgres
from civicstack.kit.tlog.note import Ed25519KeyFile, NoteVerifier
from civicstack.kit.tlog.witness import DirectoryWitness
from civicstack.kit.transparency import LogPublishing, seal_and_witness

WRITERS = (1, 4, 16)
CLERK = audit.Actor("official", "clerk-1")
DETAIL: dict[str, object] = {"fields": ["full_name", "date_of_birth"]}


class PlainBase(DeclarativeBase):
    pass


class PlainEntry(PlainBase):
    """audit_entry's columns and indexes, without the log."""

    __tablename__ = "bench_plain_entry"
    __table_args__ = (Index("ix_bench_plain_action", "action"),
                      Index("ix_bench_plain_subject_id", "subject_id"))

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)


def plain_insert(session: Session) -> None:
    session.add(PlainEntry(occurred_at=datetime.now(UTC), actor=str(CLERK),
                           action="registry.person.read", subject_type="person",
                           subject_id="001190012345", purpose="checking a dossier",
                           detail=DETAIL))
    session.flush()


def audited_insert(session: Session) -> int:
    return audit.record(session, CLERK, "registry.person.read", subject_type="person",
                        subject_id="001190012345", purpose="checking a dossier",
                        detail=DETAIL).seq


def plain_commits(factory: sessionmaker[Session], writers: int, seconds: float) -> int:
    """Plain INSERTs committed by `writers` threads until the deadline."""
    deadline = time.monotonic() + seconds
    counts = [0] * writers

    def writer(number: int) -> None:
        while time.monotonic() < deadline:
            with transaction(factory) as session:
                plain_insert(session)
            counts[number] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def sealer(url: str, folder: str, seal_every: float, stop: EventType,
           reported: multiprocessing.Queue[list[tuple[float, int]]]) -> None:
    """The worker's sealing job, in a process of its own as in production: (end of round,
    witnessed size) of each round that witnessed a new checkpoint, sent when stopped."""
    factory = make_session_factory(make_engine(url))
    rounds = []
    while not stop.is_set():
        started = time.monotonic()
        witnessed = seal_and_witness(factory, publishing_in(Path(folder)), AUDIT_LOG)
        if witnessed:
            rounds.append((time.monotonic(), witnessed.size))
        stop.wait(max(0.0, seal_every - (time.monotonic() - started)))
    reported.put(rounds)


def publishing_in(folder: Path) -> LogPublishing:
    signer = Ed25519KeyFile(folder / "log.key", "bench.civicstack.local/log")
    return LogPublishing(signer, DirectoryWitness(folder / "witness", NoteVerifier.of(signer)))


def seal_latencies(factory: sessionmaker[Session], url: str, folder: str, writers: int,
                   seconds: float, seal_every: float) -> tuple[int, list[float]]:
    """Audited commits with the sealer running; each entry's commit-to-witnessed seconds."""
    stop, reported = multiprocessing.Event(), multiprocessing.Queue()
    sealing = multiprocessing.Process(target=sealer, args=(url, folder, seal_every, stop,
                                                          reported))
    sealing.start()
    with transaction(factory) as session:
        first_seq = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())
                                   .limit(1)) or 0
    commit_times: dict[int, float] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def audited_writer() -> None:
        mine = {}
        while time.monotonic() < deadline:
            with transaction(factory) as session:
                seq = audited_insert(session)
            mine[seq] = time.monotonic()
        with lock:
            commit_times.update(mine)

    threads = [threading.Thread(target=audited_writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while True:  # the last entries' rounds
        with transaction(factory) as session:
            pending = session.scalar(select(AuditEntry.seq).where(
                AuditEntry.leaf_index.is_(None)).limit(1))
        if pending is None:
            break
        time.sleep(0.2)
    time.sleep(seal_every * 2)  # the last round's witnessing
    stop.set()
    rounds: list[tuple[float, int]] = reported.get()
    sealing.join()
    with transaction(factory) as session:
        places = dict(session.execute(select(AuditEntry.seq, AuditEntry.leaf_index).where(
            AuditEntry.seq > first_seq)).all())
    sizes = [size for _, size in rounds]
    latencies = []
    for seq, committed_at in commit_times.items():
        witnessed_round = rounds[bisect_right(sizes, places[seq])]
        latencies.append(witnessed_round[0] - committed_at)
    return len(commit_times), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--seal-every", type=float, default=2)
    arguments = parser.parse_args()
    with throwaway_postgres(durable=True) as server, tempfile.TemporaryDirectory() as folder:
        url = server.url()
        upgrade(url)
        engine = make_engine(url)
        PlainBase.metadata.create_all(engine)
        factory = make_session_factory(engine)
        print(f"PostgreSQL, fsync on; {arguments.seconds:g} s per run, seal every "
              f"{arguments.seal_every:g} s")
        print(f"{'writers':>7} {'plain/s':>9} {'audited/s':>10} {'ratio':>6} "
              f"{'seal p50':>9} {'seal p99':>9}")
        for writers in WRITERS:
            plain = plain_commits(factory, writers, arguments.seconds)
            audited, latencies = seal_latencies(factory, url, folder, writers,
                                                arguments.seconds, arguments.seal_every)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"{writers:>7} {plain / arguments.seconds:>9.0f} "
                  f"{audited / arguments.seconds:>10.0f} {audited / plain:>6.0%} "
                  f"{statistics.median(latencies):>8.2f}s {p99:>8.2f}s")
        engine.dispose()


if __name__ == "__main__":
    main()
