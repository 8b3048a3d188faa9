"""Failover on a pg_auto_failover trio (deploy/ha-demo.sh): the primary is killed while audited
register writes go on, and no write whose commit returned is lost; the application finds the
new primary by itself."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from civicstack.config import normalise_database_url
from civicstack.kit.audit import AuditEntry
from civicstack.kit.db import ServingLimits, make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.registry.models import Person
from civicstack.registry.units import sync_reference_units
from tests.support.people import make_person

HA_DEMO = Path(__file__).resolve().parents[2] / "deploy" / "ha-demo.sh"
pytestmark = pytest.mark.skipif(
    shutil.which("pg_autoctl") is None,
    reason="pg_autoctl not installed: `make system-deps` installs postgresql-15-auto-failover")
WRITES_BEFORE_CRASH = 20
WRITES_AFTER_CRASH = 20
# A serving engine that waits out the failover when connecting, as `civicstack serve` does.
SERVING = ServingLimits(pool_size=2, max_overflow=0, pool_timeout_s=60, statement_timeout_ms=0,
                        lock_timeout_ms=0, idle_in_transaction_timeout_ms=0, connect_retry_s=60)


@dataclass
class Trio:
    folder: Path
    url: str

    def node_port(self, number: int) -> int:
        return int((self.folder / f"node{number}.port").read_text())

    def script(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run([str(HA_DEMO), args[0], str(self.folder), *args[1:]],
                              check=False, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def trio() -> Iterator[Trio]:
    # Not under pytest's tmp_path: as root the servers run as `postgres`, which cannot enter it.
    started = Trio(Path(tempfile.mkdtemp(prefix="civicstack-ha-")), "")
    try:
        started.url = normalise_database_url(started.script("start", timeout=180).strip())
        yield started
    finally:
        started.script("stop")
        shutil.rmtree(started.folder, ignore_errors=True)


@dataclass
class Writer:
    """Registers people one transaction each, as the app's requests do, and keeps the personal
    ID numbers whose commit returned: the writes acknowledged to a caller."""

    engine: Engine
    acknowledged: list[tuple[float, str]] = field(default_factory=list)
    refused: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        factory = make_session_factory(self.engine)
        while not self.stop.is_set():
            try:
                with transaction(factory) as session:
                    number = make_person(session).personal_id_number
            except DBAPIError as exc:  # the transaction cut by the crash: not acknowledged
                self.refused.append((time.monotonic(), str(exc.orig)))
                continue
            self.acknowledged.append((time.monotonic(), number))

    def wait_for(self, count: int, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} writes"
            time.sleep(0.05)


def test_primary_killed_mid_writes_loses_no_acknowledged_write_and_app_reconnects(
        trio: Trio) -> None:
    upgrade(trio.url)
    engine = make_engine(trio.url, SERVING)
    with transaction(make_session_factory(engine)) as session:
        sync_reference_units(session)
    writer = Writer(engine)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        writer.wait_for(WRITES_BEFORE_CRASH, within_s=60)
        crashed_at = time.monotonic()
        trio.script("stop-node", "1")
        writer.wait_for(len(writer.acknowledged) + WRITES_AFTER_CRASH, within_s=90)
    finally:
        writer.stop.set()
        thread.join()
    moments = [crashed_at, *(moment for moment, _ in writer.acknowledged if moment > crashed_at)]
    outage_s = max(later - earlier for earlier, later in itertools.pairwise(moments))
    print(f"failover: writes stalled {outage_s:.1f} s at most after the crash; "
          f"{len(writer.refused)} transaction(s) refused; "
          f"{len(writer.acknowledged)} acknowledged")

    numbers = {number for _, number in writer.acknowledged}
    fresh = make_engine(trio.url)  # a new process's view: whichever node is primary now
    with fresh.connect() as connection:
        assert connection.execute(text("SELECT inet_server_port()")).scalar() == \
            trio.node_port(2)
    with transaction(make_session_factory(fresh)) as session:
        stored = set(session.scalars(select(Person.personal_id_number)
                                     .where(Person.personal_id_number.in_(numbers))))
        audited = session.scalar(select(func.count(func.distinct(AuditEntry.subject_id)))
                                 .where(AuditEntry.subject_id.in_(numbers)))
    fresh.dispose()
    engine.dispose()
    assert stored == numbers
    assert audited == len(numbers)
    # The same engine went on by itself: at most the transactions in flight were cut.
    assert len(writer.refused) <= SERVING.pool_size
