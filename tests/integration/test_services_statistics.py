"""Statistics of online public services from real dossiers made through the services' rules:
online vs assisted (a clerk at the counter), per ministry, province and procedure against the
80 % target, the period and province filters, on time vs late, overdue, and the public
dashboard, JSON and CSV agreeing, with bad parameters refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Invalid
from civicstack.registry.models import Person
from civicstack.services import service, statistics
from civicstack.services.models import Dossier
from civicstack.services.payments import LocalTreasury
from civicstack.wallet import service as wallet_service
from civicstack.wallet.site import WALLET_SITE, WalletSite
from tests.support.people import make_person
from tests.support.services import (
    CLERK_HANOI,
    POLICE_HANOI,
    citizen,
    parent_with_id_card,
    publish_everywhere,
)
from tests.support.wallet import give_id_card, wallet_site
from tests.support.web import Site

RESIDENCE = "DVC-CT-04"  # confirmation of residence: the ID card in the wallet is enough
POLICE_HCMC = Actor("official", "police-hcmc", Scope.province("79"), Role.POLICE)


def file(session: Session, site: WalletSite, person: Person, payments: LocalTreasury,
         actor: Actor | None = None) -> Dossier:
    """A dossier submitted online by the citizen, or at the counter by `actor` (assisted)."""
    by = actor or citizen(person)
    draft = service.start_draft(session, by, person.personal_id_number, RESIDENCE)
    return service.submit(session, site, by, draft, payments)


def decide(session: Session, dossier: Dossier, official: Actor = POLICE_HANOI) -> None:
    for action in ("receive", "start"):
        service.transition(session, official, dossier.receipt_code, action)
    service.transition(session, official, dossier.receipt_code, "approve", "hồ sơ hợp lệ")


def everything(session: Session, start: date | None = None, end: date | None = None,
               province: str | None = None) -> statistics.Figures:
    return statistics.figures(session, statistics.filters(session, start, end, province))


@pytest.fixture
def wallet(session: Session, tmp_path: Path) -> WalletSite:
    publish_everywhere(session)
    return wallet_site(session)


@pytest.fixture
def payments(tmp_path: Path) -> LocalTreasury:
    return LocalTreasury(tmp_path / "treasury")


def test_the_online_rate_counts_citizens_online_and_the_counter_as_assisted(
        session: Session, wallet: WalletSite, payments: LocalTreasury) -> None:
    mai = parent_with_id_card(session, wallet)
    for _ in range(3):
        file(session, wallet, mai, payments)
    counter = file(session, wallet, mai, payments, actor=CLERK_HANOI)
    service.start_draft(session, citizen(mai), mai.personal_id_number, RESIDENCE)  # a draft
    assert counter.channel == "assisted"

    found = everything(session)
    assert (found.national.online, found.national.assisted) == (3, 1)
    assert found.national.rate == 0.75
    assert not found.national.meets_target  # 80 % is the target
    police = next(r for r in found.by_ministry if r.key == "Bộ Công an")
    assert (police.online, police.assisted) == (3, 1)
    assert [(r.key, r.name, r.rate) for r in found.by_province] == [("01", "Thành phố Hà Nội",
                                                                     0.75)]
    assert [(r.key, r.name_en) for r in found.by_procedure] == [
        (RESIDENCE, "Residence information confirmation")]
    assert found.personal_id_share == 1.0
    assert (found.procedures_fully_online, found.procedures) == (25, 27)
    assert found.by_state == {"submitted": 4}  # the draft never left draft: not counted


def test_a_period_counts_only_dossiers_submitted_within_it(
        session: Session, wallet: WalletSite, payments: LocalTreasury) -> None:
    mai = parent_with_id_card(session, wallet)
    old = file(session, wallet, mai, payments)
    old.submitted_at = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # 08:00 on 1 March in Hà Nội
    file(session, wallet, mai, payments, actor=CLERK_HANOI)
    session.flush()

    march = everything(session, start=date(2025, 3, 1), end=date(2025, 3, 31))
    assert (march.national.online, march.national.assisted) == (1, 0)
    assert everything(session, start=date(2025, 3, 2)).national.dossiers == 1
    assert everything(session, end=date(2025, 2, 28)).national.dossiers == 0
    this_year = statistics.filters_from_text(session, None, None, None, "year")
    assert this_year.period_from == date(date.today().year, 1, 1)
    assert everything(session, start=this_year.period_from,
                      end=this_year.period_to).national.assisted == 1


def test_a_province_filter_counts_only_dossiers_routed_there(
        session: Session, wallet: WalletSite, payments: LocalTreasury) -> None:
    mai = parent_with_id_card(session, wallet)
    file(session, wallet, mai, payments)
    binh = make_person(session, "Phạm Văn Bình", date(1985, 2, 2), province_code="79",
                       legacy_province_code="79")
    give_id_card(session, binh)
    wallet_service.issue_from_register(session, wallet, binh.personal_id_number, "id_card")
    file(session, wallet, binh, payments, actor=POLICE_HCMC)

    saigon = everything(session, province="79")
    assert (saigon.national.online, saigon.national.assisted) == (0, 1)
    assert [r.key for r in saigon.by_province] == ["79"]
    assert everything(session, province="01").national.online == 1
    assert everything(session).national.dossiers == 2


def test_on_time_late_and_overdue_dossiers_are_counted_apart(
        session: Session, wallet: WalletSite, payments: LocalTreasury) -> None:
    mai = parent_with_id_card(session, wallet)
    on_time = file(session, wallet, mai, payments)
    decide(session, on_time)
    late = file(session, wallet, mai, payments)
    late.due_on = date.today() - timedelta(days=3)  # its deadline passed before the decision
    decide(session, late)
    overdue = file(session, wallet, mai, payments)
    overdue.due_on = date.today() - timedelta(days=1)
    file(session, wallet, mai, payments)  # open, still in time
    session.flush()

    found = everything(session)
    assert (found.decided, found.decided_on_time) == (2, 1)
    assert found.on_time_rate == 0.5
    assert found.overdue == 1
    assert service.is_overdue(overdue)
    assert not service.is_overdue(late)
    assert found.by_state == {"approved": 2, "submitted": 2}


@pytest.mark.parametrize(("start", "end", "province", "field"), [
    ("2026-02-01", "2026-01-01", None, "from"),
    (None, None, "99", "province"),
    ("01/02/2026", None, None, "from"),
])
def test_bad_filters_are_refused_with_their_field(session: Session, start: str | None,
                                                  end: str | None, province: str | None,
                                                  field: str) -> None:
    with pytest.raises(Invalid) as refused:
        statistics.filters_from_text(session, start, end, province)
    assert [e.field for e in refused.value.errors] == [field]


# --- the public dashboard, JSON and CSV -----------------------------------------------------

@pytest.fixture
def filed(site: Site, tmp_path: Path) -> Site:
    """Three dossiers online and one at the counter in Hà Nội, one decided."""
    payments = LocalTreasury(tmp_path / "treasury")
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
        mai = parent_with_id_card(session, site.services[WALLET_SITE])
        dossiers = [file(session, site.services[WALLET_SITE], mai, payments) for _ in range(3)]
        file(session, site.services[WALLET_SITE], mai, payments, actor=CLERK_HANOI)
        decide(session, dossiers[0])
    return site


def test_the_dashboard_is_public_and_draws_svg_charts_with_the_80_percent_line(
        filed: Site) -> None:
    page = filed.client.get("/services/statistics?lang=en")
    assert page.status_code == 200
    html = page.text
    assert '<svg class="stats-chart"' in html
    assert 'data-chart="ministries"' in html
    assert 'data-chart="provinces"' in html
    assert 'class="stats-chart-target" data-target="0.8"' in html
    assert "Target 80 %" in html
    assert 'data-figure="national-rate">75.0%' in html
    assert 'data-figure="on-time">100.0%' in html
    assert 'href="/api/v1/services/statistics.csv"' in html
    vi = filed.client.get("/services/statistics?lang=vi&preset=year&province=01").text
    assert "Mục tiêu 80 %" in vi


def test_the_json_and_the_csv_give_the_same_figures(filed: Site) -> None:
    data = filed.client.get("/api/v1/services/statistics?province=01").json()
    assert data["filters"] == {"from": None, "to": None, "province": "01"}
    assert data["national"]["online_rate"] == 0.75
    assert data["target_online_rate"] == 0.8
    assert data["on_time_rate"] == 1.0
    response = filed.client.get("/api/v1/services/statistics.csv?province=01")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    from_json = {("national", "national"): data["national"],
                 **{("ministry", r["key"]): r for r in data["by_ministry"]},
                 **{("province", r["key"]): r for r in data["by_province"]},
                 **{("procedure", r["key"]): r for r in data["by_procedure"]}}
    assert {(r["level"], r["key"]) for r in rows} == set(from_json)
    for row in rows:
        same = from_json[(row["level"], row["key"])]
        assert (int(row["online"]), int(row["assisted"])) == (same["online"], same["assisted"])
        assert float(row["online_rate"]) == pytest.approx(same["online_rate"], abs=1e-4)


def test_the_csv_carries_the_on_time_and_overdue_figures_the_dashboard_shows(
        filed: Site) -> None:
    data = filed.client.get("/api/v1/services/statistics?province=01").json()
    response = filed.client.get("/api/v1/services/statistics.csv?province=01")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    national = next(row for row in rows if row["level"] == "national")
    assert (int(national["decided"]), int(national["decided_on_time"]),
            int(national["overdue_open"])) == (data["decided"], data["decided_on_time"],
                                               data["overdue_open"])
    assert float(national["on_time_rate"]) == pytest.approx(data["on_time_rate"], abs=1e-4)


def test_the_dashboard_writes_its_percentages_in_the_page_s_language(filed: Site) -> None:
    vietnamese = filed.client.get("/services/statistics?province=01&lang=vi").text
    english = filed.client.get("/services/statistics?province=01&lang=en").text
    assert "75,0%" in vietnamese
    assert "75.0" not in vietnamese
    assert "75.0%" in english


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-02-01&to=2026-01-01", "from"),
    ("province=99", "province"),
    ("from=yesterday", "query.from"),
])
def test_bad_parameters_are_a_422_problem(filed: Site, query: str, field: str) -> None:
    for path in ("/api/v1/services/statistics", "/api/v1/services/statistics.csv"):
        response = filed.client.get(f"{path}?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
    page = filed.client.get(f"/services/statistics?{query}&lang=en")
    assert page.status_code == 422
    assert 'class="error"' in page.text


def test_the_catalogue_is_public_json(filed: Site) -> None:
    hanoi = filed.client.get("/api/v1/services/procedures?province=01").json()
    assert len(hanoi) == 27
    temporary = next(p for p in hanoi if p["code"] == "DVC-CT-03")
    assert (temporary["fee"], temporary["online_fee"]) == (20_000, 10_000)  # Hà Nội's own
    national = filed.client.get("/api/v1/services/procedures").json()
    assert next(p for p in national if p["code"] == "DVC-CT-03")["online_fee"] == 7_000
    one = filed.client.get("/api/v1/services/procedures/DVC-HT-01").json()
    assert one["agency"]["ministry"] == "Bộ Tư pháp"
    assert {f["name"] for f in one["fields"]} >= {"child_full_name", "applicant_pid"}
    assert filed.client.get("/api/v1/services/procedures/NOPE").status_code == 404
    assert filed.client.get("/api/v1/services/procedures?province=99").status_code == 422
    assert filed.client.get("/api/v1/services/procedures/DVC-XD-01?province=04"
                            ).status_code == 409
