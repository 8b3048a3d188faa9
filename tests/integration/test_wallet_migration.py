"""Migration 0027 names an issuer's grantee as the audit log names the actor: the operator keys'
grants keep working, and its downgrade drops the officials' grants, which had no place before."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.wallet import service
from tests.support.wallet import DRIVING_LICENCE_SYSTEM, POLICE, grant


def test_key_grants_carry_over_and_officials_grants_go_on_downgrade(database_url: str) -> None:
    downgrade(database_url, "0026")
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        service.seed_catalogue(session)
        police_issuer = service.issuer(session, "bo-cong-an").id
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO wallet_issuer_grant (issuer_id, apikey_name, created_at) "
            "VALUES (:issuer, :key, :at)"),
            {"issuer": police_issuer, "key": DRIVING_LICENCE_SYSTEM.name,
             "at": datetime(2026, 12, 1, tzinfo=UTC)})

    upgrade(database_url)
    with transaction(factory) as session:
        assert service.acts_for(session, DRIVING_LICENCE_SYSTEM, police_issuer)
        assert not service.acts_for(session, POLICE, police_issuer)
        grant(session, POLICE)

    downgrade(database_url, "0026")
    with engine.begin() as connection:
        kept = connection.execute(text("SELECT apikey_name FROM wallet_issuer_grant")).scalars()
        assert kept.all() == [DRIVING_LICENCE_SYSTEM.name]
    engine.dispose()
