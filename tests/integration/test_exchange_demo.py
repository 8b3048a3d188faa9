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
    assert "6 demo members, 8 agreements" in first.output
    again = civicstack("exchange", "demo")
    assert "nothing added" in again.output
    with transaction(session_factory) as session:
        ranked = {r.code: r for r in ranking.ranking(session)}
        refusals = session.query(AgreementRequest).filter_by(status="refused").all()
    assert set(ranked) == {"bo-tai-chinh", "bo-y-te", "bo-khcn", "ha-noi", "tp-hcm", "da-nang"}
    assert (ranked["bo-y-te"].requests_refused, ranked["da-nang"].requests_refused) == (1, 1)
    assert all(len(refused.justification) >= 10 for refused in refusals)
    assert all(r.datasets_published == 1 and r.reads_answered > 0 and r.score > 0
               for r in ranked.values())

    def validity(code: str) -> float:
        return ranked[code].records_valid / ranked[code].records_checked

    # The seeded flaws were found: the cleanest publisher beats the most flawed one.
    assert validity("bo-khcn") > validity("da-nang")
    assert [r.rank for r in sorted(ranked.values(), key=lambda r: -r.score)] == \
        list(range(1, 7))
