"""`civicstack exchange demo`: members, datasets, decided requests and real requests through the
service, so the readiness ranking of the demo ranks evidence; a second run adds nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.exchange import ranking
from civicstack.exchange.models import AgreementRequest
from civicstack.kit.db import transaction
from tests.integration.test_cli import civicstack


def test_the_exchange_demo_gives_the_ranking_evidence_and_runs_once(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    assert civicstack("demo", "seed", "--people", "150").exit_code == 0
    first = civicstack("exchange", "demo")
    assert first.exit_code == 0, first.output
    assert "6 demo members, 5 agreements" in first.output
    again = civicstack("exchange", "demo")
    assert "nothing added" in again.output
    with transaction(session_factory) as session:
        ranked = {r.code: r for r in ranking.ranking(session)}
        refused = session.query(AgreementRequest).filter_by(status="refused").one()
    assert set(ranked) == {"bo-tai-chinh", "bo-y-te", "bo-khcn", "ha-noi", "tp-hcm", "da-nang"}
    assert ranked["bo-y-te"].requests_refused == 1
    assert "legal duty" in refused.justification
    publisher = ranked["bo-khcn"]
    assert publisher.datasets_published == 1
    assert publisher.reads_answered > 0
    assert 0 < publisher.records_valid < publisher.records_checked  # the seeded flaws were found
    assert [r.rank for r in ranking.ranking(session)] == sorted(r.rank for r in ranked.values())
