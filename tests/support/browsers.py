"""The seeded SQLite register every browser test's and journey's server starts from: migrated,
seeded and given its secrets once per test process (about 7 s), then copied for each module's
server (milliseconds; tests/browser/conftest.py). A plugin of tests/conftest.py, so that
tests/browser/ and tests/journeys/ share one per process.

Chromium stays one per module: Playwright's sync API keeps an event loop running on the main
thread while it is open, which would break the asyncio of any later test in the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from civicstack.config import Settings
from civicstack.kit.appservices import PEPPER, open_secret_store
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.registry.demo import seed_population, write_demo_population
from civicstack.registry.units import sync_reference_units


@dataclass(frozen=True)
class SeededRegister:
    """A data directory to copy: the register's database and the demo population file."""

    folder: Path
    database: Path
    population: Path


@pytest.fixture(scope="session")
def seeded_register(tmp_path_factory: pytest.TempPathFactory) -> SeededRegister:
    """A migrated SQLite register with the reference units, 300 demo people (seed 11) and the
    deployment's secrets and signing keys, as after `civicstack db upgrade` and a first start."""
    folder = tmp_path_factory.mktemp("browser-register")
    database = folder / "civicstack.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        sync_reference_units(session)
    population = write_demo_population(folder, 300, seed=11)
    seed_population(factory, population)
    open_secret_store(Settings(database_url=url, data_dir=folder), factory).secret(PEPPER)
    engine.dispose()  # every connection closed: the copied files are the whole database
    return SeededRegister(folder, database, population)
