"""CIVICSTACK_READ_REPLICA_URL: the pages that may read stale data (public statistics, the
catalogue API, the readiness ranking) read the replica; writes and audited reads stay on the
primary; and their transactions are read-only even without a replica."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.db import transaction
from civicstack.services import service

STALE_TOLERANT = ("/api/v1/services/statistics", "/api/v1/services/procedures",
                  "/services/statistics", "/exchange/ranking")


def _url(factory: sessionmaker[Session]) -> str:
    engine = factory.kw["bind"]
    return str(engine.url.render_as_string(hide_password=False))


def test_stale_tolerant_pages_read_the_replica_and_the_rest_the_primary(
        database_url: str, other_session_factory: sessionmaker[Session],
        tmp_path: Path) -> None:
    # The "replica" is told apart by its data: only it has the catalogue.
    with transaction(other_session_factory) as session:
        service.seed_catalogue(session, ["01"])
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path / "data",
                              read_replica_url=_url(other_session_factory), log_json=False,
                              log_level="WARNING"))
    with TestClient(app) as client:
        listed = client.get("/api/v1/services/procedures").json()
        assert listed
        assert client.get("/api/v1/services/statistics").json()["procedures"] == len(listed)
        for path in STALE_TOLERANT:
            assert client.get(path).status_code == 200, path
        # A procedure's page is not moved: the primary, without a catalogue, has none.
        assert client.get(f"/services/{listed[0]['code']}").status_code == 404


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_read_only_sessions_refuse_writes_without_a_replica(database_url: str,
                                                            tmp_path: Path) -> None:
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path / "data"))
    with TestClient(app):
        factory = app.state.services.read_session_factory
        with pytest.raises(DBAPIError, match="read-only transaction"), \
                transaction(factory) as session:
            session.execute(text("CREATE TABLE written_on_a_replica (id int)"))
