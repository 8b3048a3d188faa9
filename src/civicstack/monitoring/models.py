"""Monitoring's tables: agencies and their officials, programmes, tasks (the six clear
principles), their events, the history of progress updates with evidence files, the products
handed in, and reminders sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class Agency(Base):
    """A ministry, a province's people's committee, or another body that leads or helps with
    tasks. A province's agency carries the province code, which officials' scopes cover."""

    __tablename__ = "monitoring_agency"
    __table_args__ = (
        CheckConstraint("kind IN ('ministry', 'province', 'other')", name="kind_known"),
        CheckConstraint("kind != 'province' OR province_code IS NOT NULL",
                        name="province_has_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)


class AgencyMember(Base):
    """An official (identity's, by username) working for an agency, with the work address
    that reminders are sent to: official accounts have no e-mail of their own."""

    __tablename__ = "monitoring_agency_member"
    __table_args__ = (UniqueConstraint("agency_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("monitoring_agency.id"), index=True)
    username: Mapped[str] = mapped_column(String(50), index=True)
    email: Mapped[str] = mapped_column(String(200))


class Programme(Base):
    """A government programme, e.g. Resolution 57 (code NQ57), whose tasks are monitored."""

    __tablename__ = "monitoring_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    legal_reference: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)


class Task(Base):
    """One task, with all six principles: the responsible official (clear person), the work,
    the deadline (clear time), the lead and coordinating agencies (clear responsibility), the
    deliverable (clear product) and who accepts it (clear authority: an official or an
    agency, never both)."""

    __tablename__ = "monitoring_task"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint(
            "state IN ('open', 'in_progress', 'submitted', 'accepted', 'returned')",
            name="state_known"),
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),
        CheckConstraint("(accepting_official IS NULL) != (accepting_agency_id IS NULL)",
                        name="one_accepting_authority"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("monitoring_programme.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    work: Mapped[str] = mapped_column(Text)
    responsible_official: Mapped[str] = mapped_column(String(50), index=True)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("monitoring_agency.id"), index=True)
    coordinating_agencies: Mapped[list[str]] = mapped_column(JSON)  # agency codes
    deliverable: Mapped[str] = mapped_column(String(300))
    accepting_official: Mapped[str | None] = mapped_column(String(50), nullable=True)
    accepting_agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitoring_agency.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(12))
    percent: Mapped[int] = mapped_column(Integer)  # of the latest progress update
    submitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskEvent(Base):
    """One transition of a task, with who took it and why (returns need a reason)."""

    __tablename__ = "monitoring_task_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("monitoring_task.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProgressUpdate(Base):
    """One progress update on a task. Updates are history: a second one, the same day or by
    another official, is a row of its own and never overwrites an earlier one."""

    __tablename__ = "monitoring_progress_update"
    __table_args__ = (CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("monitoring_task.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    percent: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    posted_by: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    """A file proving progress, kept in the database so an update and its files commit
    together (as dossier attachments are)."""

    __tablename__ = "monitoring_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("monitoring_progress_update.id"),
                                           index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Product(Base):
    """The deliverable as handed in (clear product): a file, or a link to where it is
    published. Each hand-in is a row, so a deliverable returned and handed in again keeps
    both."""

    __tablename__ = "monitoring_product"
    __table_args__ = (
        CheckConstraint("(link IS NULL) != (content IS NULL)", name="file_or_link"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("monitoring_task.id"), index=True)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    handed_in_by: Mapped[str] = mapped_column(String(200))
    handed_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reminder(Base):
    """A reminder sent about a task on a day: the unique pair keeps it to one a day."""

    __tablename__ = "monitoring_reminder"
    __table_args__ = (UniqueConstraint("task_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("monitoring_task.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(200))
    sent_by: Mapped[str] = mapped_column(String(200))
