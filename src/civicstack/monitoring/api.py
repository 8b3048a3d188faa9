"""The leaders' board as JSON for dashboards and ministries' systems, read with an operator
key (`tasks:manage`, within the key's scope): the same figures as the console's board, and one
task with its six principles. Every rule is in service.py and board.py."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from civicstack.kit import calendar
from civicstack.kit.deps import DbSession, Operator, RowKey
from civicstack.monitoring import board, repository, service
from civicstack.monitoring.models import Task

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


class TaskOut(BaseModel):
    id: int
    code: str
    work: str
    responsible_official: str
    deadline: date
    lead_agency: str
    coordinating_agencies: list[str]
    deliverable: str
    accepting_official: str | None
    accepting_agency: str | None
    state: str
    percent: int
    submitted_on: date | None
    overdue: bool
    working_days_overdue: int


class RankOut(BaseModel):
    position: int
    agency: str
    name: str
    due: int
    on_time: int
    overdue: int
    on_time_rate: float | None = Field(description="on time ÷ due; null when nothing is due")


class ProgressOut(BaseModel):
    agency: str
    tasks: int
    average_percent: float


class BoardOut(BaseModel):
    today: date
    tasks: int
    overdue_count: int
    overdue: list[TaskOut]
    progress: list[ProgressOut]
    ranking: list[RankOut]


def _task_out(task: Task, codes: dict[int, str], today: date) -> TaskOut:
    return TaskOut(
        id=task.id, code=task.code, work=task.work,
        responsible_official=task.responsible_official, deadline=task.deadline,
        lead_agency=codes[task.lead_agency_id],
        coordinating_agencies=task.coordinating_agencies, deliverable=task.deliverable,
        accepting_official=task.accepting_official,
        accepting_agency=codes[task.accepting_agency_id] if task.accepting_agency_id else None,
        state=task.state, percent=task.percent, submitted_on=task.submitted_on,
        overdue=service.is_overdue(task, today),
        working_days_overdue=service.days_overdue(task, today))


@router.get("/board", response_model=BoardOut)
def board_json(session: DbSession, actor: Operator, programme: str = "") -> BoardOut:
    found = board.board(session, actor, programme)
    codes = {a.id: a.code for a in repository.agencies(session).values()}
    return BoardOut(
        today=found.today, tasks=found.tasks, overdue_count=len(found.overdue),
        overdue=[_task_out(row.task, codes, found.today) for row in found.overdue],
        progress=[ProgressOut(agency=p.agency.code, tasks=p.tasks,
                              average_percent=p.average_percent) for p in found.progress],
        ranking=[RankOut(position=r.position, agency=r.agency.code, name=r.agency.name,
                         due=r.due, on_time=r.on_time, overdue=r.overdue, on_time_rate=r.rate)
                 for r in found.ranking])


@router.get("/tasks/{task_id}", response_model=TaskOut)
def task_json(session: DbSession, actor: Operator, task_id: RowKey) -> TaskOut:
    task = service.read_task(session, actor, task_id)
    codes = {a.id: a.code for a in repository.agencies(session).values()}
    return _task_out(task, codes, calendar.today())
