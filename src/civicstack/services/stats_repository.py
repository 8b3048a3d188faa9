"""The statistics' queries. Every figure reads the tallies (models.ChannelTally, StateTally,
DueTally): whole years from the year rows, whole months from the month rows, the days at either
end of a period from the day rows, a few thousand rows whatever the period, never the dossiers
(benchmarks/dossiers.py).
Here too: adding a change to the tallies, and recounting them from the dossiers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Executable,
    Selectable,
    and_,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from civicstack.services.models import (
    Agency,
    ChannelTally,
    Dossier,
    DueTally,
    Offering,
    Procedure,
    StateTally,
)

Tally = type[ChannelTally] | type[StateTally] | type[DueTally]
TALLIES: tuple[Tally, ...] = (ChannelTally, StateTally, DueTally)


class utc_date(FunctionElement[date]):  # noqa: N801 (an SQL function's name)
    """The UTC calendar day of a stored instant (due dates are counted from UTC days)."""

    type = Date()
    inherit_cache = True


class vietnam_day(FunctionElement[date]):  # noqa: N801 (an SQL function's name)
    """The day in Vietnam of a stored instant (calendar.day_of, in SQL)."""

    type = Date()
    inherit_cache = True


class vietnam_period(FunctionElement[date]):  # noqa: N801 (an SQL function's name)
    """The first day of the month or year (`unit`) in Vietnam of a stored instant."""

    type = Date()
    inherit_cache = True

    def __init__(self, unit: str, moment: QueryableAttribute[datetime | None]) -> None:
        self.unit = unit  # "month" or "year": ours, never input
        super().__init__(moment)


@compiles(utc_date)
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # SQLite stores UTC text


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


# Vietnam has kept UTC+7, without summer time, since 1975: SQLite (which knows no zones) adds
# seven hours to the UTC text it stores.
@compiles(vietnam_day)
def _vietnam_day_sqlite(element: vietnam_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


@compiles(vietnam_day, "postgresql")
def _vietnam_day_postgresql(element: vietnam_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"CAST(timezone('Asia/Ho_Chi_Minh', {moment}) AS DATE)"


@compiles(vietnam_period)
def _vietnam_period_sqlite(element: vietnam_period, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"date({moment}, '+7 hours', 'start of {element.unit}')"


@compiles(vietnam_period, "postgresql")
def _vietnam_period_postgresql(element: vietnam_period, compiler: SQLCompiler,
                               **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return (f"CAST(date_trunc('{element.unit}', timezone('Asia/Ho_Chi_Minh', {moment})) "
            "AS DATE)")


@dataclass(frozen=True)
class Span:
    """Tally rows of one span ("day", "month" or "year") whose period starts within
    [start, end)."""

    span: str
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Scope:
    """Which dossiers count: submitted within these spans, in one province or all."""

    spans: tuple[Span, ...]
    province_code: str | None


def _within(tally: Tally, scope: Scope) -> list[ColumnElement[bool]]:
    spans = []
    for chosen in scope.spans:
        conditions = [tally.span == chosen.span]
        if chosen.start is not None:
            conditions.append(tally.period_start >= chosen.start)
        if chosen.end is not None:
            conditions.append(tally.period_start < chosen.end)
        spans.append(and_(*conditions))
    within = [or_(*spans)]
    if scope.province_code is not None:
        within.append(tally.province_code == scope.province_code)
    return within


Channels = list[tuple[str, int, str, int, int]]  # province, procedure id, channel, dossiers,
# of which under a personal ID number


def channels(session: Session, scope: Scope) -> Channels:
    """Dossiers by province, procedure and channel: every online rate is a sum of these."""
    dossiers = func.sum(ChannelTally.dossiers)
    query = (select(ChannelTally.province_code, ChannelTally.procedure_id, ChannelTally.channel,
                    dossiers, func.sum(ChannelTally.with_personal_id))
             .where(*_within(ChannelTally, scope))
             .group_by(ChannelTally.province_code, ChannelTally.procedure_id,
                       ChannelTally.channel)
             .having(dossiers > 0))
    return [(r[0], int(r[1]), r[2], int(r[3]), int(r[4])) for r in session.execute(query)]


States = dict[str, tuple[int, int, int]]  # state: dossiers, decided, decided on time


def states(session: Session, scope: Scope) -> States:
    dossiers = func.sum(StateTally.dossiers)
    query = (select(StateTally.state, dossiers, func.sum(StateTally.decided),
                    func.sum(StateTally.decided_on_time))
             .where(*_within(StateTally, scope)).group_by(StateTally.state)
             .having(dossiers > 0))
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in session.execute(query)}


def overdue(session: Session, scope: Scope, today: date) -> int:
    """Open dossiers past their due date (service.is_overdue, from the tallies)."""
    query = select(func.coalesce(func.sum(DueTally.dossiers), 0)).where(
        *_within(DueTally, scope), DueTally.due_on < today)
    return int(session.execute(query).scalar_one())


@dataclass(frozen=True)
class ProcedureNames:
    code: str
    name: str
    name_en: str
    ministry: str


def procedures(session: Session) -> dict[int, ProcedureNames]:
    query = select(Procedure.id, Procedure.code, Procedure.name, Procedure.name_en,
                   Agency.ministry).join(Agency, Agency.id == Procedure.agency_id)
    return {r[0]: ProcedureNames(*r[1:]) for r in session.execute(query)}


def catalogue_levels(session: Session, province_code: str | None) -> dict[str, int]:
    """Active procedures by online level (those a province offers, when one is given)."""
    query = (select(Procedure.online_level, func.count(func.distinct(Procedure.id)))
             .where(Procedure.active.is_(True)).group_by(Procedure.online_level))
    if province_code is not None:
        query = query.join(Offering, Offering.procedure_id == Procedure.id).where(
            Offering.province_code == province_code)
    return {r[0]: int(r[1]) for r in session.execute(query)}


# --- keeping the tallies -------------------------------------------------------------------

KEYS: dict[Tally, tuple[str, ...]] = {
    ChannelTally: ("span", "period_start", "province_code", "procedure_id", "channel"),
    StateTally: ("span", "period_start", "province_code", "state"),
    DueTally: ("span", "period_start", "province_code", "due_on"),
}
MEASURES: dict[Tally, tuple[str, ...]] = {
    ChannelTally: ("dossiers", "with_personal_id"),
    StateTally: ("dossiers", "decided", "decided_on_time"),
    DueTally: ("dossiers",),
}


def add_to_tally(connection: Connection, tally: Tally,
                 changes: Iterable[Mapping[str, Any]]) -> None:
    """Add each row's measures to the tally row of its key (made if missing). Concurrent
    transactions meet on a row and wait for each other's commit, never lose a count; each adds
    in key order, so two never wait on each other in a circle."""
    rows = sorted(changes, key=lambda row: tuple(row[k] for k in KEYS[tally]))
    if rows:
        connection.execute(_upsert(connection.dialect.name, tally), rows)


@lru_cache(maxsize=8)
def _upsert(dialect_name: str, tally: Tally) -> Executable:
    """The tally's INSERT ... ON CONFLICT DO UPDATE, made once: building its expressions cost
    a millisecond, more than running it on SQLite."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(tally)
    table = tally.__table__
    upsert: Executable = statement.on_conflict_do_update(
        index_elements=list(KEYS[tally]),
        set_={m: table.c[m] + statement.excluded[m] for m in MEASURES[tally]})
    return upsert


def _counts(span: str, period: ColumnElement[date],
            decided_states: Collection[str], open_states: Collection[str]
            ) -> dict[Tally, Selectable]:
    """Each tally's rows for one span, counted from the dossiers (statistics.tallies_of in
    SQL)."""
    submitted = Dossier.submitted_at.is_not(None)
    decided = and_(Dossier.state.in_(list(decided_states)), Dossier.decided_at.is_not(None))
    on_time = and_(decided, utc_date(Dossier.decided_at) <= Dossier.due_on)
    with_pid = and_(Dossier.applicant_pid.is_not(None), Dossier.applicant_pid != "")
    label: ColumnElement[str] = literal_column(f"'{span}'")  # one of our two spans, never input
    return {
        ChannelTally: select(label, period, Dossier.province_code, Dossier.procedure_id,
                             Dossier.channel, func.count(), _how_many(with_pid))
        .where(submitted)
        .group_by(period, Dossier.province_code, Dossier.procedure_id, Dossier.channel),
        StateTally: select(label, period, Dossier.province_code, Dossier.state, func.count(),
                           _how_many(decided), _how_many(on_time))
        .where(submitted).group_by(period, Dossier.province_code, Dossier.state),
        DueTally: select(label, period, Dossier.province_code, Dossier.due_on, func.count())
        .where(submitted, Dossier.state.in_(list(open_states)), Dossier.due_on.is_not(None))
        .group_by(period, Dossier.province_code, Dossier.due_on),
    }


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def recount(session: Session, decided_states: Collection[str],
            open_states: Collection[str]) -> None:
    """Every tally counted again from the dossiers, which nobody may change meanwhile (on
    PostgreSQL, a share lock: reads go on, changes wait for the recount's commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE service_dossier IN SHARE MODE"))
    for tally in TALLIES:
        session.execute(delete(tally))
    for span, period in (("day", vietnam_day(Dossier.submitted_at)),
                         ("month", vietnam_period("month", Dossier.submitted_at)),
                         ("year", vietnam_period("year", Dossier.submitted_at))):
        for tally, counted in _counts(span, period, decided_states, open_states).items():
            session.execute(insert(tally).from_select(
                list(KEYS[tally] + MEASURES[tally]), counted))
