"""Monitoring's queries: the only place that builds them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from civicstack.monitoring.models import (
    Agency,
    AgencyMember,
    Evidence,
    Product,
    Programme,
    ProgressUpdate,
    Reminder,
    Task,
    TaskEvent,
)


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()


def agencies(session: Session) -> dict[int, Agency]:
    return {a.id: a for a in session.execute(select(Agency).order_by(Agency.code)).scalars()}


def member(session: Session, agency_id: int, username: str) -> AgencyMember | None:
    return session.execute(select(AgencyMember).where(
        AgencyMember.agency_id == agency_id, AgencyMember.username == username,
    )).scalar_one_or_none()


def programme_by_code(session: Session, code: str) -> Programme | None:
    return session.execute(select(Programme).where(Programme.code == code)).scalar_one_or_none()


def programmes(session: Session) -> list[Programme]:
    return list(session.execute(select(Programme).order_by(Programme.code)).scalars())


def task(session: Session, task_id: int, lock: bool = False) -> Task | None:
    query = select(Task).where(Task.id == task_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def task_codes(session: Session, programme_id: int) -> set[str]:
    return set(session.execute(select(Task.code).where(
        Task.programme_id == programme_id)).scalars())


def tasks_led_in(session: Session, province_code: str | None,
                 programme_id: int | None = None) -> list[Task]:
    """Tasks whose lead agency lies in the province; every task when `province_code` is
    None (a national scope)."""
    query = select(Task).join(Agency, Agency.id == Task.lead_agency_id)
    if province_code is not None:
        query = query.where(Agency.province_code == province_code)
    if programme_id is not None:
        query = query.where(Task.programme_id == programme_id)
    return list(session.execute(query.order_by(Task.deadline, Task.code)).scalars())


def tasks_of_reporter(session: Session, username: str) -> list[Task]:
    """Tasks the official is responsible for, or that an agency of theirs leads."""
    led = select(AgencyMember.agency_id).where(AgencyMember.username == username)
    return list(session.execute(select(Task).where(or_(
        Task.responsible_official == username, Task.lead_agency_id.in_(led),
    )).order_by(Task.deadline, Task.code)).scalars())




def highest_percent_before(session: Session, task_id: int, day: date) -> int:
    found = session.execute(select(func.max(ProgressUpdate.percent)).where(
        ProgressUpdate.task_id == task_id, ProgressUpdate.day < day)).scalar_one()
    return int(found or 0)


def updates_of(session: Session, task_id: int) -> list[ProgressUpdate]:
    """Every update, newest first."""
    return list(session.execute(select(ProgressUpdate).where(
        ProgressUpdate.task_id == task_id).order_by(ProgressUpdate.day.desc(),
                                                    ProgressUpdate.id.desc())).scalars())


def evidence_of(session: Session, update_ids: list[int]) -> list[Evidence]:
    """The files' names and sizes, without their content."""
    return list(session.execute(select(Evidence).where(Evidence.update_id.in_(update_ids))
                                .order_by(Evidence.id)).scalars())


def evidence_count_on(session: Session, task_id: int, day: date) -> int:
    """The files of the task's updates of that day."""
    return int(session.execute(select(func.count()).select_from(Evidence).join(
        ProgressUpdate, ProgressUpdate.id == Evidence.update_id).where(
        ProgressUpdate.task_id == task_id, ProgressUpdate.day == day)).scalar_one())


def products_of(session: Session, task_id: int) -> list[Product]:
    """The products handed in, newest first, without their files' content."""
    return list(session.execute(select(Product).options(defer(Product.content)).where(
        Product.task_id == task_id).order_by(Product.id.desc())).scalars())


def latest_product(session: Session, task_id: int) -> Product | None:
    return session.execute(select(Product).where(Product.task_id == task_id)
                           .order_by(Product.id.desc()).limit(1)).scalar_one_or_none()


def product(session: Session, product_id: int) -> Product | None:
    return session.get(Product, product_id)


def evidence(session: Session, evidence_id: int) -> Evidence | None:
    return session.get(Evidence, evidence_id)


def update(session: Session, update_id: int) -> ProgressUpdate | None:
    return session.get(ProgressUpdate, update_id)


def events_of(session: Session, task_id: int) -> list[TaskEvent]:
    return list(session.execute(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                .order_by(TaskEvent.id)).scalars())


def reminded_on(session: Session, task_id: int, day: date) -> bool:
    return session.execute(select(Reminder.id).where(
        Reminder.task_id == task_id, Reminder.day == day)).first() is not None


def latest_updates(session: Session, task_ids: list[int], limit: int) -> list[ProgressUpdate]:
    return list(session.execute(select(ProgressUpdate).where(
        ProgressUpdate.task_id.in_(task_ids)).order_by(
        ProgressUpdate.posted_at.desc(), ProgressUpdate.id.desc()).limit(limit)).scalars())
