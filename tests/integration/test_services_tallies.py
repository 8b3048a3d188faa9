"""The statistics' tallies stay exact: after any sequence of submissions, transitions,
re-routing and back-dating, the tallies kept flush by flush equal a recount from the dossiers,
and every figure, for any period and province, equals a count of the dossiers themselves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.calendar import day_of
from civicstack.kit.db import as_utc, make_engine, make_session_factory, transaction
from civicstack.kit.errors import Conflict
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.registry.models import Person
from civicstack.services import service, statistics
from civicstack.services import stats_repository as queries
from civicstack.services.models import Dossier
from civicstack.services.payments import LocalTreasury
from civicstack.services.states import OPEN, State
from civicstack.wallet.site import WalletSite
from tests.support.services import (
    ADMIN,
    CLERK_HANOI,
    citizen,
    parent_with_id_card,
    publish_everywhere,
)
from tests.support.wallet import wallet_site

RESIDENCE = "DVC-CT-04"
TODAY = date.today()
OFFICIALS = ("receive", "start", "request_supplement", "approve", "refuse")
STEPS = st.one_of(
    st.tuples(st.just("file"), st.booleans()),  # online, or at the counter
    st.tuples(st.just("draft")),
    st.tuples(st.just("act"), st.integers(0, 40),
              st.sampled_from((*OFFICIALS, "supplement", "withdraw", "deliver"))),
    st.tuples(st.just("decide"), st.integers(0, 40), st.sampled_from(("approve", "refuse"))),
    st.tuples(st.just("backdate"), st.integers(0, 40), st.integers(0, 400 * 24)),  # hours
    st.tuples(st.just("due"), st.integers(0, 40), st.integers(-20, 20)),  # days from today
    st.tuples(st.just("move"), st.integers(0, 40), st.sampled_from(("01", "79"))),
)
PERIODS = st.tuples(st.none() | st.dates(TODAY - timedelta(days=400), TODAY),
                    st.none() | st.dates(TODAY - timedelta(days=400), TODAY),
                    st.sampled_from((None, "01", "79")))


class Office:
    """One citizen's dossiers, moved by hypothesis's steps through the services' rules (and
    back-dated or re-routed by hand, as time and mergers would)."""

    def __init__(self, session: Session, site: WalletSite, payments: LocalTreasury) -> None:
        self.session, self.site, self.payments = session, site, payments
        self.mai: Person = parent_with_id_card(session, site)

    def dossiers(self) -> list[Dossier]:
        return list(self.session.scalars(select(Dossier).order_by(Dossier.id)))

    def take(self, step: tuple[Any, ...]) -> None:
        kind, *arguments = step
        if kind == "file":
            by = citizen(self.mai) if arguments[0] else CLERK_HANOI
            draft = service.start_draft(self.session, by, self.mai.personal_id_number,
                                        RESIDENCE)
            service.submit(self.session, self.site, by, draft, self.payments)
            return
        if kind == "draft":
            service.start_draft(self.session, citizen(self.mai), self.mai.personal_id_number,
                                RESIDENCE)
            return
        submitted = [d for d in self.dossiers() if d.submitted_at is not None]
        if not submitted:
            return
        dossier = submitted[arguments[0] % len(submitted)]
        if kind == "act":
            self.act(dossier, arguments[1])
        elif kind == "decide":
            for action in ("receive", "start", arguments[1]):
                self.act(dossier, action)
        elif kind == "backdate":
            dossier.submitted_at = datetime.now(UTC) - timedelta(hours=arguments[1])
        elif kind == "due":
            dossier.due_on = TODAY + timedelta(days=arguments[1])
        else:
            dossier.province_code = arguments[1]
        self.session.flush()

    def act(self, dossier: Dossier, action: str) -> None:
        try:
            if action == "deliver":
                service.deliver(self.session, dossier, {})
            elif action in OFFICIALS:
                service.transition(self.session, ADMIN, dossier.receipt_code, action,
                                   "lý do")
            else:
                service.transition(self.session, citizen(self.mai), dossier.receipt_code,
                                   action, "lý do")
        except Conflict:
            pass  # the state machine refused: nothing changed, which is counted too


def tally_rows(session: Session) -> set[tuple[Any, ...]]:
    """Every tally row that counts something (a row taken down to zero counts nothing)."""
    found = set()
    for tally in queries.TALLIES:
        names = queries.KEYS[tally] + queries.MEASURES[tally]
        for row in session.execute(select(*(getattr(tally, n) for n in names))):
            if any(row[len(queries.KEYS[tally]):]):
                found.add((tally.__tablename__, *row))
    return found


def counted_by_hand(session: Session, chosen: statistics.Filters) -> dict[str, Any]:
    """The figures from the dossiers themselves, one by one."""
    rows = [d for d in session.scalars(select(Dossier)) if d.submitted_at is not None
            and (chosen.period_from is None or day_of(d.submitted_at) >= chosen.period_from)
            and (chosen.period_to is None or day_of(d.submitted_at) <= chosen.period_to)
            and chosen.province_code in (None, d.province_code)]
    ministry = {d.id: service.agency_of(session, service.procedure_of(session, d)).ministry
                for d in rows}
    decided = [d for d in rows if d.state in statistics.DECIDED and d.decided_at is not None]

    def channels(key: Any) -> dict[str, tuple[int, int]]:
        online = Counter(key(d) for d in rows if d.channel == "online")
        assisted = Counter(key(d) for d in rows if d.channel == "assisted")
        return {k: (online[k], assisted[k]) for k in online.keys() | assisted.keys()}

    return {
        "national": (sum(d.channel == "online" for d in rows),
                     sum(d.channel == "assisted" for d in rows)),
        "by_ministry": channels(lambda d: ministry[d.id]),
        "by_province": channels(lambda d: d.province_code),
        "by_procedure": channels(lambda d: RESIDENCE),
        "with_personal_id": sum(bool(d.applicant_pid) for d in rows),
        "decided": len(decided),
        "decided_on_time": sum(d.due_on is not None and d.decided_at is not None
                               and as_utc(d.decided_at).date() <= d.due_on for d in decided),
        "overdue": sum(d.due_on is not None and State(d.state) in OPEN and d.due_on < TODAY
                       for d in rows),
        "by_state": dict(Counter(d.state for d in rows)),
    }


def counted_by_tallies(found: statistics.Figures) -> dict[str, Any]:
    def channels(rates: list[statistics.OnlineRate]) -> dict[str, tuple[int, int]]:
        return {r.key: (r.online, r.assisted) for r in rates}

    return {
        "national": (found.national.online, found.national.assisted),
        "by_ministry": channels(found.by_ministry), "by_province": channels(found.by_province),
        "by_procedure": channels(found.by_procedure),
        "with_personal_id": found.with_personal_id, "decided": found.decided,
        "decided_on_time": found.decided_on_time, "overdue": found.overdue,
        "by_state": found.by_state,
    }


@pytest.fixture
def office(session: Session, tmp_path: Path) -> Office:
    publish_everywhere(session)
    return Office(session, wallet_site(session), LocalTreasury(tmp_path / "treasury"))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=3, max_size=15), periods=st.lists(PERIODS, max_size=4))
def test_tallies_equal_a_recount_after_any_sequence_of_changes(
        office: Office, steps: list[tuple[Any, ...]],
        periods: list[tuple[date | None, date | None, str | None]]) -> None:
    """Examples run one after another on the same dossiers: the tallies must stay exact
    through every one of them, not only from an empty start."""
    session = office.session
    for step in steps:
        office.take(step)
    kept = tally_rows(session)
    statistics.rebuild(session)
    assert kept == tally_rows(session)
    for first, last, province in [(None, None, None), *periods]:
        if first and last and first > last:
            first, last = last, first
        chosen = statistics.Filters(first, last, province)
        assert counted_by_tallies(statistics.figures(session, chosen, TODAY)) == \
            counted_by_hand(session, chosen), chosen


@pytest.mark.parametrize(("first", "last", "expected"), [
    (None, None, [("year", None, None)]),
    (date(2026, 3, 1), date(2026, 3, 31), [("month", date(2026, 3, 1), date(2026, 4, 1))]),
    (date(2026, 3, 5), date(2026, 3, 20), [("day", date(2026, 3, 5), date(2026, 3, 21))]),
    (date(2026, 3, 5), date(2026, 5, 10), [("month", date(2026, 4, 1), date(2026, 5, 1)),
                                           ("day", date(2026, 3, 5), date(2026, 4, 1)),
                                           ("day", date(2026, 5, 1), date(2026, 5, 11))]),
    (date(2026, 12, 31), None, [("year", date(2027, 1, 1), None),
                                ("day", date(2026, 12, 31), date(2027, 1, 1))]),
    (date(2025, 11, 15), date(2027, 2, 3), [
        ("year", date(2026, 1, 1), date(2027, 1, 1)),
        ("month", date(2025, 12, 1), date(2026, 1, 1)),
        ("day", date(2025, 11, 15), date(2025, 12, 1)),
        ("month", date(2027, 1, 1), date(2027, 2, 1)),
        ("day", date(2027, 2, 1), date(2027, 2, 4))]),
])
def test_a_period_reads_whole_years_then_months_then_the_days_around_them(
        first: date | None, last: date | None,
        expected: list[tuple[str, date | None, date | None]]) -> None:
    assert [(s.span, s.start, s.end) for s in statistics.spans(first, last)] == expected


def test_the_migration_counts_the_dossiers_already_there_as_the_services_do(
        database_url: str, tmp_path: Path) -> None:
    """Dossiers in every kind of state, one filed at 06:30 in Hà Nội (the previous day in
    UTC), one decided late: migration 0031 back-fills the tallies the services had kept."""
    factory = make_session_factory(make_engine(database_url))
    with transaction(factory) as session:
        publish_everywhere(session)
        office = Office(session, wallet_site(session), LocalTreasury(tmp_path / "treasury"))
        for step in (("file", True), ("file", False), ("file", True), ("file", True),
                     ("draft",), ("backdate", 0, 40 * 24), ("decide", 1, "approve"),
                     ("due", 1, -30), ("decide", 2, "refuse"), ("act", 3, "withdraw"),
                     ("move", 2, "79"), ("due", 0, -2)):
            office.take(step)
        office.dossiers()[0].submitted_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        kept = tally_rows(session)
    assert len({row[0] for row in kept}) == 3

    downgrade(database_url, "0038")
    upgrade(database_url)
    with transaction(factory) as session:
        assert tally_rows(session) == kept
