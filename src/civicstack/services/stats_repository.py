"""The statistics' queries: every figure is one GROUP BY in the database, never a loop over
dossiers, so the dashboard stays fast over millions of them (benchmarks/dossiers.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from civicstack.services.models import Agency, Dossier, Offering, Procedure


class utc_date(FunctionElement[date]):  # noqa: N801 (an SQL function's name)
    """The UTC calendar day of a stored instant (due dates are counted from UTC days)."""

    type = Date()
    inherit_cache = True


@compiles(utc_date)
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # SQLite stores UTC text


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@dataclass(frozen=True)
class Scope:
    """Which dossiers count: submitted (left draft) within [start, end), in one province or
    all."""

    start: datetime | None
    end: datetime | None
    province_code: str | None


def _within(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Dossier.submitted_at.is_not(None)]
    if scope.start is not None:
        conditions.append(Dossier.submitted_at >= scope.start)
    if scope.end is not None:
        conditions.append(Dossier.submitted_at < scope.end)
    if scope.province_code is not None:
        conditions.append(Dossier.province_code == scope.province_code)
    return conditions


def _online() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((Dossier.channel == "online", 1), else_=0)), 0)


def _assisted() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((Dossier.channel == "assisted", 1), else_=0)), 0)


Channels = list[tuple[str, int, int]]  # key, online, assisted


def _channels(session: Session, query: Select[str, int, int]) -> Channels:
    return [(r[0], int(r[1]), int(r[2])) for r in session.execute(query)]


def channels_overall(session: Session, scope: Scope) -> tuple[int, int]:
    row = session.execute(select(_online(), _assisted()).where(*_within(scope))).one()
    return int(row[0]), int(row[1])


def channels_by_ministry(session: Session, scope: Scope) -> Channels:
    query = (select(Agency.ministry, _online(), _assisted())
             .join(Procedure, Procedure.id == Dossier.procedure_id)
             .join(Agency, Agency.id == Procedure.agency_id)
             .group_by(Agency.ministry))
    return _channels(session, query.where(*_within(scope)))


def channels_by_province(session: Session, scope: Scope) -> Channels:
    query = select(Dossier.province_code, _online(), _assisted()).group_by(Dossier.province_code)
    return _channels(session, query.where(*_within(scope)))


def channels_by_procedure(session: Session, scope: Scope) -> Channels:
    query = (select(Procedure.code, _online(), _assisted())
             .join(Procedure, Procedure.id == Dossier.procedure_id)
             .group_by(Procedure.code))
    return _channels(session, query.where(*_within(scope)))


def by_state(session: Session, scope: Scope) -> dict[str, int]:
    query = select(Dossier.state, func.count()).group_by(Dossier.state)
    return {r[0]: int(r[1]) for r in session.execute(
        query.select_from(Dossier).where(*_within(scope)))}


def with_personal_id(session: Session, scope: Scope) -> int:
    query = select(func.count()).select_from(Dossier).where(
        Dossier.applicant_pid.is_not(None), Dossier.applicant_pid != "")
    return int(session.execute(query.where(*_within(scope))).scalar_one())


def decided_on_time(session: Session, scope: Scope,
                    decided_states: Collection[str]) -> tuple[int, int]:
    """(decided, of which on or before the due date)."""
    on_time = case((utc_date(Dossier.decided_at) <= Dossier.due_on, 1), else_=0)
    query = select(func.count(), func.coalesce(func.sum(on_time), 0)).select_from(Dossier).where(
        Dossier.state.in_(list(decided_states)), Dossier.decided_at.is_not(None))
    row = session.execute(query.where(*_within(scope))).one()
    return int(row[0]), int(row[1])


def overdue(session: Session, scope: Scope, open_states: Collection[str], today: date) -> int:
    """Open dossiers past their due date (service.is_overdue, in SQL)."""
    query = select(func.count()).select_from(Dossier).where(
        Dossier.state.in_(list(open_states)), Dossier.due_on < today)
    return int(session.execute(query.where(*_within(scope))).scalar_one())


def catalogue_levels(session: Session, province_code: str | None) -> dict[str, int]:
    """Active procedures by online level (those a province offers, when one is given)."""
    query = (select(Procedure.online_level, func.count(func.distinct(Procedure.id)))
             .where(Procedure.active.is_(True)).group_by(Procedure.online_level))
    if province_code is not None:
        query = query.join(Offering, Offering.procedure_id == Procedure.id).where(
            Offering.province_code == province_code)
    return {r[0]: int(r[1]) for r in session.execute(query)}


def procedure_names(session: Session) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in session.execute(
        select(Procedure.code, Procedure.name, Procedure.name_en))}


def ministries(session: Session) -> list[str]:
    return list(session.scalars(select(Agency.ministry).distinct().order_by(Agency.ministry)))
