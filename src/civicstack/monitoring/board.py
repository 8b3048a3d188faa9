"""The leaders' board: overdue tasks with their working days late, progress by lead agency,
and the ranking of agencies by on-time completion (docs/monitoring.md has the formula)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from civicstack.kit import calendar
from civicstack.kit.audit import Actor
from civicstack.monitoring import repository, service
from civicstack.monitoring.models import Agency, ProgressUpdate, Task
from civicstack.monitoring.states import State


@dataclass(frozen=True)
class OverdueTask:
    task: Task
    lead: Agency
    days_overdue: int


@dataclass(frozen=True)
class AgencyProgress:
    agency: Agency
    tasks: int
    average_percent: float  # accepted tasks count as 100


@dataclass(frozen=True)
class AgencyRank:
    position: int  # agencies with the same figures share a position
    agency: Agency
    due: int  # tasks whose deadline has passed, or already accepted
    on_time: int  # accepted, handed in on or before the deadline
    overdue: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class Board:
    today: date
    tasks: int
    overdue: list[OverdueTask]
    progress: list[AgencyProgress]
    ranking: list[AgencyRank]
    latest: list[tuple[ProgressUpdate, Task]]


def _is_due(task: Task, today: date) -> bool:
    return task.deadline < today or task.state == State.ACCEPTED.value


def _progress(by_agency: dict[int, list[Task]], names: dict[int, Agency]) -> list[AgencyProgress]:
    rows = [AgencyProgress(names[agency_id], len(tasks), sum(
        100 if t.state == State.ACCEPTED.value else t.percent for t in tasks) / len(tasks))
        for agency_id, tasks in by_agency.items()]
    return sorted(rows, key=lambda row: (-row.average_percent, row.agency.code))


def ranking(by_agency: dict[int, list[Task]], names: dict[int, Agency],
            today: date) -> list[AgencyRank]:
    """Best on-time rate first; ties broken by more tasks on time, then fewer overdue; those
    still equal share a position. Agencies with nothing due yet come last, unranked by rate."""
    rows = [AgencyRank(0, names[agency_id], sum(_is_due(t, today) for t in tasks),
                       sum(service.completed_on_time(t) for t in tasks),
                       sum(service.is_overdue(t, today) for t in tasks))
            for agency_id, tasks in by_agency.items()]

    def figures(row: AgencyRank) -> tuple[float, int, int]:
        return (-(row.rate if row.rate is not None else -1.0), -row.on_time, row.overdue)

    rows.sort(key=lambda row: (figures(row), row.agency.code))
    ranked: list[AgencyRank] = []
    for index, row in enumerate(rows):
        shares = ranked and figures(ranked[-1]) == figures(row)
        position = ranked[-1].position if shares else index + 1
        ranked.append(AgencyRank(position, row.agency, row.due, row.on_time, row.overdue))
    return ranked


def board(session: Session, actor: Actor, programme_code: str = "",
          today: date | None = None) -> Board:
    day = today or calendar.today()
    tasks = service.visible_tasks(session, actor, programme_code)
    names = repository.agencies(session)
    by_agency: dict[int, list[Task]] = {}
    for task in tasks:
        by_agency.setdefault(task.lead_agency_id, []).append(task)
    overdue = sorted((OverdueTask(t, names[t.lead_agency_id], service.days_overdue(t, day))
                      for t in tasks if service.is_overdue(t, day)),
                     key=lambda row: (-row.days_overdue, row.task.code))
    by_id = {t.id: t for t in tasks}
    latest = [(u, by_id[u.task_id]) for u in
              repository.latest_updates(session, list(by_id), limit=10)]
    return Board(day, len(tasks), overdue, _progress(by_agency, names),
                 ranking(by_agency, names, day), latest)
