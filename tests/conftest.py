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
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings
from civicstack.domains import install_all
from civicstack.kit.appservices import open_secret_store
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.installing import Installer
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import RunningPostgres, throwaway_postgres
from civicstack.registry.units import sync_reference_units
from tests.support.keys import NO_OLDER_FILES, TEST_ROOT_KEY

# Every instance a test starts (apps, CLI commands, processes) is given the same root key, as a
# deployment's are; tests of the root key itself give theirs explicitly.
os.environ["CIVICSTACK_ROOT_KEY"] = TEST_ROOT_KEY
BACKENDS = ("sqlite", "postgresql")
# The browser tests' and journeys' register and Chromium, made once per test process.
pytest_plugins = ("tests.support.browsers",)
# Property tests check what is computed, not how fast: on a busy 2-core CI machine the first
# example of a run (a holiday calendar loaded, a database warmed) can pass Hypothesis's 200 ms
# deadline and fail a correct test. Speed is measured in benchmarks/.
hypothesis_settings.register_profile("civicstack", deadline=None)
hypothesis_settings.load_profile("civicstack")
# Domain events reach their subscribers once the domains are installed, as the app and the CLI
# do: tests that call services directly need them too.
install_all(Installer(Settings()))
# Started first, so that no worker of a parallel run is left finishing one of them alone at the
# end (pytest-xdist hands tests out in collection order): the journeys and browser tests (each
# module a server and a Chromium, tests of 5-120 s) and the other files with tests of 20 s or
# more. Each file's tests keep their order.
SLOW_FIRST = (
    "tests/journeys/",
    "tests/browser/",
    "tests/unit/test_face_search_benchmark.py",
    "tests/integration/test_openapi_contract.py",
    "tests/integration/test_serving.py",
    "tests/integration/test_failover.py",
)
_database_numbers = itertools.count(1)
# Test databases of this worker not yet dropped (the cluster itself goes at the end).
_finished_databases: list[str] = []
DROP_BATCH = 20


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((n for n, slow in enumerate(SLOW_FIRST) if path.startswith(slow)),
                    len(SLOW_FIRST))

    items.sort(key=rank)


def _prepare(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        sync_reference_units(session)
    # Each test's database starts with the deployment's secrets and signing keys, as after
    # `civicstack db upgrade`: made once here, not at every test's first signature.
    open_secret_store(Settings(data_dir=NO_OLDER_FILES), make_session_factory(engine))
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


@contextmanager
def _fresh_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    number = next(_database_numbers)
    if backend == "sqlite":
        path = tmp_path / f"test-{number}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: RunningPostgres = request.getfixturevalue("postgres_server")
    name = f"test_{os.getpid()}_{number}"
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE civicstack_template')
    yield server.url(name)
    with psycopg.connect(_libpq(server.url()), autocommit=True) as connection:
        # Its connections end now (a pool a test left open must not pile up), its files go
        # with the next batch: a CREATE DATABASE right after a DROP DATABASE waits about half a
        # second, where ten drops at once cost about as much as one.
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s", (name,))
        _finished_databases.append(name)
        if len(_finished_databases) >= DROP_BATCH:
            for finished in _finished_databases:
                connection.execute(f'DROP DATABASE IF EXISTS "{finished}" WITH (FORCE)')
            _finished_databases.clear()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database with reference units, fresh for this test."""
    with _fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture
def other_session_factory(request: pytest.FixtureRequest, database_url: str,
                          tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A second, independent fresh database on the same backend (e.g. to restore into)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with _fresh_database(request, backend, tmp_path) as url:
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()


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
