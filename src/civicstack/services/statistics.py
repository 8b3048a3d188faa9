"""Public statistics of online public services, measured and shown as the targets require: the
online dossier rate per ministry, province and procedure against the 80 % target, the share of
fully online procedures, the share of dossiers filed under a personal ID number (100 % is the
target), the on-time rate, overdue dossiers and counts by state. The counting rules live here;
the queries in stats_repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from civicstack.kit.calendar import VIETNAM
from civicstack.kit.errors import FieldError, Invalid
from civicstack.kit.i18n import N_
from civicstack.registry import service as registry
from civicstack.services import stats_repository as queries
from civicstack.services.states import OPEN, State

TARGET = 0.80  # Resolution 57 / Decision 06: 80 % of dossiers submitted online
DECIDED = (State.APPROVED.value, State.REFUSED.value, State.RESULT_DELIVERED.value)
# The calendar's own ends cannot be moved to UTC or past their last day: a period lies within
# these, far wider than any dossier's dates.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
# A period's days are Vietnam's days: a dossier filed at 06:30 on 1 March, Hà Nội time, is a
# March dossier although it is still 28 February in UTC.


@dataclass(frozen=True)
class Filters:
    period_from: date | None
    period_to: date | None  # inclusive
    province_code: str | None

    def scope(self) -> queries.Scope:
        start = datetime.combine(self.period_from, time(), VIETNAM).astimezone(UTC) \
            if self.period_from else None
        end = datetime.combine(self.period_to + timedelta(days=1), time(),
                               VIETNAM).astimezone(UTC) if self.period_to else None
        return queries.Scope(start, end, self.province_code)


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
    following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return today.replace(day=1), following - timedelta(days=1)


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
    decided: int
    decided_on_time: int
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


def _rates(rows: queries.Channels, names: dict[str, tuple[str, str]]) -> list[OnlineRate]:
    rates = [OnlineRate(key, *names.get(key, (key, key)), online, assisted)
             for key, online, assisted in rows]
    return sorted(rates, key=lambda r: (-(r.rate or 0), r.name))


def online_by_ministry(session: Session, chosen: Filters) -> list[OnlineRate]:
    rows = queries.channels_by_ministry(session, chosen.scope())
    return _rates(rows, {m: (m, m) for m in queries.ministries(session)})


def online_by_province(session: Session, chosen: Filters) -> list[OnlineRate]:
    names = {p.code: (p.name, p.name) for p in registry.provinces(session)}
    return _rates(queries.channels_by_province(session, chosen.scope()), names)


def online_by_procedure(session: Session, chosen: Filters) -> list[OnlineRate]:
    return _rates(queries.channels_by_procedure(session, chosen.scope()),
                  queries.procedure_names(session))


def online_national(session: Session, chosen: Filters) -> OnlineRate:
    online, assisted = queries.channels_overall(session, chosen.scope())
    return OnlineRate("national", "Cả nước", "Nationwide", online, assisted)


def on_time(session: Session, chosen: Filters) -> tuple[int, int]:
    """(decided, decided on or before the due date): decided means approved, refused or
    delivered, at the moment of the approval or refusal (dossier.decided_at)."""
    return queries.decided_on_time(session, chosen.scope(), DECIDED)


def figures(session: Session, chosen: Filters, today: date | None = None) -> Figures:
    """Every figure of the dashboard, the API and the CSV, for one set of filters."""
    scope = chosen.scope()
    levels = queries.catalogue_levels(session, chosen.province_code)
    decided, decided_in_time = on_time(session, chosen)
    open_states = [s.value for s in OPEN]
    return Figures(
        filters=chosen, national=online_national(session, chosen),
        by_ministry=online_by_ministry(session, chosen),
        by_province=online_by_province(session, chosen),
        by_procedure=online_by_procedure(session, chosen),
        procedures=sum(levels.values()), procedures_fully_online=levels.get("full", 0),
        with_personal_id=queries.with_personal_id(session, scope),
        decided=decided, decided_on_time=decided_in_time,
        overdue=queries.overdue(session, scope, open_states, today or date.today()),
        by_state=queries.by_state(session, scope))


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
