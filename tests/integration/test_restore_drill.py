"""The backup and restore drill (deploy/backup.sh, deploy/restore-drill.sh) run for real: a
base backup plus archived WAL restored to a noted moment brings back exactly the rows committed
before it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from civicstack.kit.throwaway_pg import RunningPostgres, find_pg_bin, free_port, throwaway_postgres

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _run(*command: str) -> str:
    done = subprocess.run(command, check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def folder() -> Iterator[Path]:
    """Outside pytest's tmp_path: as root the servers run as `postgres`, which must enter it."""
    path = Path(tempfile.mkdtemp(prefix="civicstack-drill-"))
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _archiving_settings(archive: Path) -> tuple[str, ...]:
    lines = _run(str(DEPLOY / "backup.sh"), "archive-settings", str(archive)).splitlines()
    # pg_ctl hands its options to a shell: the quotes around archive_command keep it one word.
    return tuple(line.replace(" = ", "=", 1) for line in lines)


def _mark(server: RunningPostgres, stage: str, numbers: range) -> None:
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        for number in numbers:  # one transaction each, as the app's requests commit
            connection.execute("INSERT INTO drill_marks VALUES (%s, %s)", (number, stage))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _archive_current_wal(server: RunningPostgres) -> None:
    """Close the WAL segment holding the last commits and wait until it is archived, as the
    archive_timeout would within a minute."""
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        segment = connection.execute(
            "SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + 30
        while _last_archived(connection) < segment:
            assert time.monotonic() < deadline, f"{segment} not archived"
            time.sleep(0.1)


def _last_archived(connection: psycopg.Connection[tuple[str | None]]) -> str:
    row = connection.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()
    return (row[0] if row else None) or ""


def test_point_in_time_restore_brings_back_exactly_the_rows_committed_before_the_target(
        folder: Path) -> None:
    archive, backup, restored = folder / "archive", folder / "base", folder / "restored"
    archive.mkdir()
    if os.geteuid() == 0:
        shutil.chown(archive, user="postgres")
    with throwaway_postgres(durable=True, settings=_archiving_settings(archive)) as server:
        with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
            connection.execute("CREATE TABLE drill_marks (number int PRIMARY KEY, stage text)")
        _mark(server, "before the base backup", range(1, 6))
        _run(str(DEPLOY / "backup.sh"), "base", server.url(), str(backup))
        _mark(server, "after the base backup", range(6, 11))
        time.sleep(1)  # commits carry microsecond times: a second apart is unambiguous
        with psycopg.connect(_libpq(server.url())) as connection:
            target = str(connection.execute("SELECT now()").fetchone()[0])  # type: ignore[index]
        time.sleep(1)
        _mark(server, "after the target", range(11, 16))
        _archive_current_wal(server)

    port = free_port()
    started = time.monotonic()
    check = ("sh", "-c", 'psql "$CIVICSTACK_DATABASE_URL" -Atc "SELECT count(*) FROM drill_marks"')
    output = _run(str(DEPLOY / "restore-drill.sh"), str(backup), str(archive), target,
                  str(restored), str(port), *check)
    try:
        print(f"restore drill: {time.monotonic() - started:.1f} s; {output.strip()}")
        with psycopg.connect(f"postgresql://{restored.owner()}@127.0.0.1:{port}/postgres") as db:
            numbers = [row[0] for row in db.execute("SELECT number FROM drill_marks ORDER BY 1")]
            db.execute("INSERT INTO drill_marks VALUES (16, 'written after the restore')")
        assert numbers == list(range(1, 11))
    finally:
        command = [str(find_pg_bin() / "pg_ctl"), "-D", str(restored), "-m", "fast", "stop"]
        subprocess.run(["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0
                       else command, check=False, capture_output=True)
