"""Fixtures for driving the `civicstack` command the way an operator does: through env vars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from civicstack.config import get_settings


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
