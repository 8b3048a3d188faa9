"""Fixtures for integration tests: the CLI pointed at the test database, the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from civicstack.config import get_settings
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.support.people import make_person
from tests.support.web import Site, make_site


def use_settings(monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path) -> None:
    monkeypatch.setenv("CIVICSTACK_DATABASE_URL", database_url)
    monkeypatch.setenv("CIVICSTACK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()


@pytest.fixture
def data_dir(database_url: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the CLI at this test's database and a fresh data directory."""
    use_settings(monkeypatch, database_url, tmp_path / "data")
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Site:
    """The whole app over this test's database, with a browser-like client."""
    return make_site(database_url, tmp_path / "data")


@pytest.fixture
def an(site: Site) -> Person:
    """Nguyễn Văn An, born 17 May 1990, living in Hà Nội."""
    with transaction(site.services.session_factory) as session:
        return make_person(session, "Nguyễn Văn An", date(1990, 5, 17), province_code="01")
