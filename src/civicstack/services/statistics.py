"""Public statistics of online public services, measured and shown as the targets require: the
online dossier rate per ministry, province and procedure against the 80 % target, the share of
fully online procedures, the share of dossiers filed under a personal ID number (100 % is the
target), the on-time rate, overdue dossiers and counts by state. The counting rules live here,
with the tallies they are read from (kept in the transaction that changes a dossier); the
queries in stats_repository."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import History

from civicstack.kit.calendar import day_of
from civicstack.kit.db import as_utc
from civicstack.kit.errors import FieldError, Invalid
from civicstack.kit.i18n import N_
from civicstack.registry import service as registry
from civicstack.services import stats_repository as queries
from civicstack.services.models import ChannelTally, Dossier, DueTally, StateTally
from civicstack.services.states import OPEN, State

TARGET = 0.80  # Resolution 57 / Decision 06: 80 % of dossiers submitted online
DECIDED = (State.APPROVED.value, State.REFUSED.value, State.RESULT_DELIVERED.value)
# The calendar's own ends cannot be moved to UTC or past their last day: a period lies within
# these, far wider than any dossier's dates.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
OPEN_STATES = tuple(s.value for s in OPEN)
# A period's days are Vietnam's days: a dossier filed at 06:30 on 1 March, Hà Nội time, is a
# March dossier although it is still 28 February in UTC.


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _next_year(day: date) -> date:
    return date(day.year + 1, 1, 1)


# Tally spans from the longest: (span, first day of the span holding a day, of the next one).
SPANS: tuple[tuple[str, Callable[[date], date], Callable[[date], date]], ...] = (
    ("year", lambda day: day.replace(month=1, day=1), _next_year),
    ("month", lambda day: day.replace(day=1), _next_month),
)


def spans(first: date | None, last: date | None) -> tuple[queries.Span, ...]:
    """The tally rows of a period's days, first to last inclusive (None: unbounded): its whole
    years from the year rows, the whole months around them from the month rows, the days left
    at either end from the day rows: at most five ranges, never more than 2 x 11 months and
    2 x 30 days of rows however long the period."""
    return tuple(_cover(first, last + timedelta(days=1) if last else None, SPANS))


def _cover(start: date | None, end: date | None,
           longest: tuple[tuple[str, Callable[[date], date], Callable[[date], date]], ...]
           ) -> list[queries.Span]:
    if not longest:
        return [queries.Span("day", start, end)]
    (span, first_of, next_of), shorter = longest[0], longest[1:]
    whole_from = start if start is None or first_of(start) == start else next_of(start)
    whole_to = end if end is None else first_of(end)
    if whole_from is not None and whole_to is not None and whole_from >= whole_to:
        return _cover(start, end, shorter)
    found = [queries.Span(span, whole_from, whole_to)]
    if start is not None and whole_from is not None and start < whole_from:
        found += _cover(start, whole_from, shorter)
    if end is not None and whole_to is not None and whole_to < end:
        found += _cover(whole_to, end, shorter)
    return found


@dataclass(frozen=True)
class Filters:
    period_from: date | None
    period_to: date | None  # inclusive
    province_code: str | None

    def scope(self) -> queries.Scope:
        return queries.Scope(spans(self.period_from, self.period_to), self.province_code)


def filters(session: Session, period_from: date | None, period_to: date | None,
            province_code: str | None) -> Filters:
    """Checked filters: a period that ends before it starts, or a province that is not one of
    the 34 current ones, is refused with every reason at once."""
    errors = [FieldError(name, N_("Choose a day between 1900-01-01 and 9998-12-31."))
              for name, day in (("from", period_from), ("to", period_to))
              if day and not FIRST_DAY <= day <= LAST_DAY]
    if period_from and period_to and period_from > period_to:
        errors.append(FieldError("from", N_("The period must start on or before its end.")))
    province = (province_code or "").strip() or None
    if province and province not in {p.code for p in registry.provinces(session)}:
        errors.append(FieldError("province", N_("Unknown province code; use the current "
                                                "two-digit codes, e.g. 01 for Hà Nội.")))
    if errors:
        raise Invalid.of_fields(errors)
    return Filters(period_from, period_to, province)


def this_month(today: date) -> tuple[date, date]:
    return today.replace(day=1), _next_month(today) - timedelta(days=1)


def this_year(today: date) -> tuple[date, date]:
    return date(today.year, 1, 1), date(today.year, 12, 31)


def share(part: int, whole: int) -> float | None:
    """part ÷ whole, or None when there is nothing to divide (not 0 %: no data is not bad)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class OnlineRate:
    key: str  # ministry name, province code, procedure code, or "national"
    name: str
    name_en: str
    online: int
    assisted: int

    @property
    def dossiers(self) -> int:
        return self.online + self.assisted

    @property
    def rate(self) -> float | None:
        return share(self.online, self.dossiers)

    @property
    def meets_target(self) -> bool:
        return self.rate is not None and self.rate >= TARGET


@dataclass(frozen=True)
class Figures:
    filters: Filters
    national: OnlineRate
    by_ministry: list[OnlineRate]
    by_province: list[OnlineRate]
    by_procedure: list[OnlineRate]
    procedures: int  # active procedures in the catalogue (offered in the province, if one)
    procedures_fully_online: int
    with_personal_id: int
    decided: int  # approved, refused or delivered, at the approval or refusal (decided_at)
    decided_on_time: int  # decided on or before the due date
    overdue: int  # open dossiers past their due date, today
    by_state: dict[str, int]
    target: float = TARGET

    @property
    def fully_online_share(self) -> float | None:
        return share(self.procedures_fully_online, self.procedures)

    @property
    def personal_id_share(self) -> float | None:
        return share(self.with_personal_id, self.national.dossiers)

    @property
    def on_time_rate(self) -> float | None:
        return share(self.decided_on_time, self.decided)


def _rates(rows: queries.Channels, key_of: Callable[[str, int], str],
           names: dict[str, tuple[str, str]]) -> list[OnlineRate]:
    """The online rate of each key (a ministry, province or procedure) the rows count."""
    online: Counter[str] = Counter()
    assisted: Counter[str] = Counter()
    for province_code, procedure_id, channel, dossiers, _ in rows:
        counted = online if channel == "online" else assisted
        counted[key_of(province_code, procedure_id)] += dossiers
    rates = [OnlineRate(key, *names.get(key, (key, key)), online[key], assisted[key])
             for key in online.keys() | assisted.keys()]
    return sorted(rates, key=lambda r: (-(r.rate or 0), r.name))


def figures(session: Session, chosen: Filters, today: date | None = None) -> Figures:
    """Every figure of the dashboard, the API and the CSV, for one set of filters: three reads
    of the tallies, whatever the period, and the catalogue's names."""
    scope = chosen.scope()
    rows = queries.channels(session, scope)
    catalogue = queries.procedures(session)
    provinces = {p.code: (p.name, p.name) for p in registry.provinces(session)}
    by_state = queries.states(session, scope)
    levels = queries.catalogue_levels(session, chosen.province_code)
    ministries = {c.ministry: (c.ministry, c.ministry) for c in catalogue.values()}
    online = sum(row[3] for row in rows if row[2] == "online")
    return Figures(
        filters=chosen,
        national=OnlineRate("national", "Cả nước", "Nationwide", online,
                            sum(row[3] for row in rows) - online),
        by_ministry=_rates(rows, lambda _, p: catalogue[p].ministry, ministries),
        by_province=_rates(rows, lambda province, _: province, provinces),
        by_procedure=_rates(rows, lambda _, p: catalogue[p].code,
                            {c.code: (c.name, c.name_en) for c in catalogue.values()}),
        procedures=sum(levels.values()), procedures_fully_online=levels.get("full", 0),
        with_personal_id=sum(row[4] for row in rows),
        decided=sum(counts[1] for counts in by_state.values()),
        decided_on_time=sum(counts[2] for counts in by_state.values()),
        overdue=queries.overdue(session, scope, today or date.today()),
        by_state={state: counts[0] for state, counts in by_state.items()})


# --- the tallies, kept as dossiers change -------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """A dossier's values of the columns the tallies count it by."""

    submitted_at: datetime | None
    province_code: str
    procedure_id: int
    channel: str
    state: str
    applicant_pid: str | None
    due_on: date | None
    decided_at: datetime | None


COUNTED = tuple(column.name for column in fields(Counted))
Tallied = Iterator[tuple[queries.Tally, tuple[Any, ...], tuple[int, ...]]]


def tallies_of(dossier: Counted) -> Tallied:
    """(tally, key, measures) of every tally row that counts this dossier: none while it is a
    draft (never submitted); its day's, its month's and its year's rows once it is."""
    if dossier.submitted_at is None:
        return
    day = day_of(dossier.submitted_at)
    decided = dossier.state in DECIDED and dossier.decided_at is not None
    on_time = decided and dossier.due_on is not None and dossier.decided_at is not None and \
        as_utc(dossier.decided_at).astimezone(UTC).date() <= dossier.due_on
    for span, start in (("day", day), *((span, first_of(day)) for span, first_of, _ in SPANS)):
        place = (span, start, dossier.province_code)
        yield (ChannelTally, (*place, dossier.procedure_id, dossier.channel),
               (1, int(bool(dossier.applicant_pid))))
        yield StateTally, (*place, dossier.state), (1, int(decided), int(on_time))
        if dossier.state in OPEN_STATES and dossier.due_on is not None:
            yield DueTally, (*place, dossier.due_on), (1,)


def _before(history: History) -> Any:
    """The value a column had when loaded (active_history loads it before a change)."""
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


def _as_loaded(dossier: Dossier) -> Counted:
    columns = inspect(dossier).attrs
    return Counted(**{name: _before(columns[name].history) for name in COUNTED})


def _as_now(dossier: Dossier) -> Counted:
    return Counted(**{name: getattr(dossier, name) for name in COUNTED})


Changes = defaultdict[tuple[queries.Tally, tuple[Any, ...]], list[int]]


def _add(changes: Changes, tallied: Tallied, sign: int) -> None:
    for tally, key, measures in tallied:
        total = changes[(tally, key)]
        if not total:
            total.extend(0 for _ in measures)
        for index, measure in enumerate(measures):
            total[index] += sign * measure


@event.listens_for(Session, "before_flush")
def _count_changed_dossiers(session: Session, _flush: UOWTransaction, _objects: Any) -> None:
    """Every dossier added, changed or deleted is counted on the tallies in the same flush, so
    in the same transaction: whatever changes it (a transition, a submission, re-routing after
    a merger, demo data), on SQLite as on PostgreSQL."""
    changes: Changes = defaultdict(list)
    for dossier in session.new:
        if isinstance(dossier, Dossier):
            _add(changes, tallies_of(_as_now(dossier)), +1)
    for dossier in session.dirty:
        if isinstance(dossier, Dossier) and session.is_modified(dossier):
            _add(changes, tallies_of(_as_loaded(dossier)), -1)
            _add(changes, tallies_of(_as_now(dossier)), +1)
    for dossier in session.deleted:
        if isinstance(dossier, Dossier):
            _add(changes, tallies_of(_as_loaded(dossier)), -1)
    rows: defaultdict[queries.Tally, list[dict[str, Any]]] = defaultdict(list)
    for (tally, key), measures in changes.items():
        if any(measures):
            rows[tally].append(dict(zip(queries.KEYS[tally] + queries.MEASURES[tally],
                                        (*key, *measures), strict=True)))
    for tally, changed in rows.items():
        queries.add_to_tally(session.connection(), tally, changed)


def rebuild(session: Session) -> None:
    """Count every tally again from the dossiers (`civicstack services stats-rebuild`): after
    dossiers were loaded around the services, as a bulk copy does."""
    queries.recount(session, DECIDED, OPEN_STATES)


PRESETS = {"month": this_month, "year": this_year}


def _day(errors: list[FieldError], name: str, text: str | None) -> date | None:
    if not (text or "").strip():
        return None
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        errors.append(FieldError(name, N_("Write the date as YYYY-MM-DD.")))
        return None


def filters_from_text(session: Session, period_from: str | None, period_to: str | None,
                      province_code: str | None, preset: str | None = None,
                      today: date | None = None) -> Filters:
    """Filters as typed in a form or on the command line: a preset ("month", "year") wins over
    the dates; every bad value is refused at once."""
    if preset:
        if preset not in PRESETS:
            raise Invalid("preset", N_("Choose this month or this year."))
        start, end = PRESETS[preset](today or date.today())
        return filters(session, start, end, province_code)
    errors: list[FieldError] = []
    first, last = _day(errors, "from", period_from), _day(errors, "to", period_to)
    try:
        chosen = filters(session, first, last, province_code)
    except Invalid as refused:
        errors.extend(refused.errors)
    if errors:
        raise Invalid.of_fields(errors)
    return chosen
