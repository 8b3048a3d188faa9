"""A `registry import` killed with -9 mid-load takes its parser process with it and leaves no
database session open, so the register is not held locked, and a re-run loads the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import transaction
from civicstack.registry.importer import import_persons
from civicstack.registry.models import Person
from civicstack.registry.synth import synthetic_population
from tests.integration.test_registry_import import IMPORTER, write_csv
from tests.support.crashes import ROOT

PEOPLE = 3000


def open_sessions(database_url: str) -> list[str]:
    """The states of the other sessions connected to the test's database."""
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as connection:
        return [state or "" for (state,) in connection.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


def children(pid: int) -> list[int]:
    """The importer's child processes but multiprocessing's resource tracker: its parser."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()  # a zombie has ended


def waited_for(condition: object, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_a_killed_import_leaves_no_parser_and_no_open_transaction_and_a_rerun_loads(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the locks an orphaned parser held are PostgreSQL's")
    population = write_csv(tmp_path / "population.csv",
                           list(synthetic_population(PEOPLE, seed=7)))
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    importer = subprocess.Popen(
        [sys.executable, "-m", "tests.support.import_killed", database_url, str(population)],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert importer.stdout is not None
    first_line = importer.stdout.readline()  # a batch is loaded: the parser is running
    assert first_line.startswith("loaded"), first_line + importer.stdout.read()
    parsers = children(importer.pid)
    assert parsers, "the file is parsed in a process of its own"

    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)

    assert waited_for(lambda: not any(alive(pid) for pid in parsers), within_s=10)
    assert waited_for(lambda: not open_sessions(database_url), within_s=10), \
        open_sessions(database_url)
    summary = import_persons(session_factory, population, IMPORTER, batch_size=500, bulk=True,
                             parser_process=True)
    assert summary.rows_read == PEOPLE
    with transaction(session_factory) as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == \
            summary.rows_loaded
    assert summary.rows_loaded > 0
