"""Test databases: every data-layer test runs on SQLite and on a real, throwaway PostgreSQL.

Each backend is migrated once with Alembic into a template (plus the reference units), and each
test gets a fresh copy: a file copy for SQLite, CREATE DATABASE ... TEMPLATE for PostgreSQL.
If PostgreSQL cannot be started the PostgreSQL half of the suite errors; it is never skipped.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import RunningPostgres, throwaway_postgres
from civicstack.registry.units import sync_reference_units

BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)


def _prepare(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        sync_reference_units(session)
    engine.dispose()  # a PostgreSQL template must have no open connections to be copied


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[RunningPostgres]:
    with throwaway_postgres() as server:
        url = server.url()
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            connection.execute("CREATE DATABASE civicstack_template")
        _prepare(server.url("civicstack_template"))
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _prepare(f"sqlite:///{path}")
    return path


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database with reference units, fresh for this test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: RunningPostgres = request.getfixturevalue("postgres_server")
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE civicstack_template')
    yield server.url(name)
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in an open transaction, committed at the end only if the test passed through."""
    with session_factory() as session, session.begin():
        yield session
