"""Tables owned by online public services: the procedure catalogue (with its per-province
offerings), dossiers with their event history, attachments and payments. People are referred to
by personal ID number and places by unit codes, through other domains' services."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base
from civicstack.services.catalogue import DocumentSpec, FieldSpec

Spec = TypeVar("Spec", FieldSpec, DocumentSpec)


class SpecList(TypeDecorator[list[Spec]]):
    """A procedure's field or document specs: dataclasses in Python, stored as the JSON list of
    their dicts (the same JSON the import file and the public API carry)."""

    impl = JSON
    cache_ok = True

    def __init__(self, spec: type[Spec]) -> None:
        super().__init__()
        self.spec: type[Spec] = spec

    def process_bind_param(self, value: list[Spec] | None,
                           dialect: Dialect) -> list[dict[str, Any]] | None:
        return None if value is None else [item.to_dict() for item in value]

    def process_result_value(self, value: Any | None, dialect: Dialect) -> list[Spec] | None:
        return None if value is None else [self.spec.from_dict(item) for item in value]


class Agency(Base):
    """A competent agency kind: a ministry's department, a province's department, the ward
    People's Committee. Ward- and province-level agencies act wherever the dossier is routed."""

    __tablename__ = "service_agency"
    __table_args__ = (
        CheckConstraint("level IN ('ministry', 'province', 'ward')", name="level_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))
    ministry: Mapped[str] = mapped_column(String(200))  # for statistics by ministry
    deciding_role: Mapped[str] = mapped_column(String(20))  # officials' role that decides


class Procedure(Base):
    """An administrative procedure of the national catalogue."""

    __tablename__ = "service_procedure"
    __table_args__ = (
        CheckConstraint("online_level IN ('full', 'partial')", name="online_level_known"),
        CheckConstraint("fee >= 0 AND online_fee >= 0", name="fees_not_negative"),
        CheckConstraint("processing_days >= 0", name="processing_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int] = mapped_column(ForeignKey("service_agency.id"), index=True)
    online_level: Mapped[str] = mapped_column(String(10))
    legal_basis: Mapped[str] = mapped_column(String(500))
    fee: Mapped[int] = mapped_column(Integer)  # VND, at the counter
    online_fee: Mapped[int] = mapped_column(Integer)  # VND, online (often zero by policy)
    processing_days: Mapped[int] = mapped_column(Integer)  # working days
    # Required information, each from a register field ("register:full_name"), a wallet claim
    # ("wallet:driving_licence.licence_number") or typed by the citizen ("applicant").
    fields: Mapped[list[FieldSpec]] = mapped_column(SpecList(FieldSpec))
    # Required documents; a document with a wallet type is never uploaded.
    documents: Mapped[list[DocumentSpec]] = mapped_column(SpecList(DocumentSpec))
    result_document_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    register_effect: Mapped[str | None] = mapped_column(String(20), nullable=True)
    group_code: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Offering(Base):
    """A procedure published in one province, with its local fees (None: the national fee)."""

    __tablename__ = "service_offering"
    __table_args__ = (UniqueConstraint("procedure_id", "province_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("service_procedure.id"))
    province_code: Mapped[str] = mapped_column(ForeignKey("admin_province.code"), index=True)
    fee: Mapped[int | None] = mapped_column(Integer, nullable=True)
    online_fee: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DossierGroup(Base):
    """Interlinked procedures submitted once (birth + residence + health insurance card)."""

    __tablename__ = "service_dossier_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(24), unique=True)
    group_code: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Dossier(Base):
    # The columns the statistics' tallies count a dossier by have active_history: a change is
    # taken off the tallies under the old value, so that value is loaded before it is replaced.
    __tablename__ = "service_dossier"
    __table_args__ = (
        CheckConstraint("channel IN ('online', 'assisted')", name="channel_known"),
        CheckConstraint(
            "state IN ('draft', 'submitted', 'received', 'in_processing', "
            "'supplement_requested', 'supplemented', 'approved', 'refused', "
            "'result_delivered', 'withdrawn')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(24), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("service_procedure.id"), index=True,
                                              active_history=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("service_dossier_group.id"),
                                                 nullable=True, index=True)
    applicant_pid: Mapped[str] = mapped_column(String(12), index=True, active_history=True)
    # Filed on behalf of this organisation by the applicant, one of its authorised members.
    organisation_tax_code: Mapped[str | None] = mapped_column(String(14), nullable=True,
                                                              index=True)
    submitted_by: Mapped[str] = mapped_column(String(120))  # the audit actor who submitted
    channel: Mapped[str] = mapped_column(String(10), active_history=True)
    state: Mapped[str] = mapped_column(String(24), index=True, active_history=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True, active_history=True)
    ward_code: Mapped[str] = mapped_column(String(5), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    fee: Mapped[int] = mapped_column(Integer)
    payment_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_to: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          index=True, active_history=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True,
                                                active_history=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                        active_history=True)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    result_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    result_credential_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result_person_pid: Mapped[str | None] = mapped_column(String(12), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)


class DossierEvent(Base):
    """One transition (or re-routing) of a dossier: who, when, from what to what, and why."""

    __tablename__ = "service_dossier_event"
    __table_args__ = (UniqueConstraint("dossier_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("service_dossier.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(500), default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class Attachment(Base):
    """A document the citizen uploaded because no register field or wallet document holds it;
    kept in the database so a dossier and its files commit together or not at all."""

    __tablename__ = "service_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("service_dossier.id"), index=True)
    document_code: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # recorded under its idempotency key before the channel is asked
    SETTLED = "settled"  # the channel took the money
    REFUNDED = "refunded"  # the channel gave it back
    FAILED = "failed"  # declined, or never charged: its key is spent


class Payment(Base):
    """A fee paid for a dossier through a payment channel (the local treasury in the demo),
    recorded as pending before the channel is asked, under a key of its own for each try at
    paying the dossier (service.py's fee_key)."""

    __tablename__ = "service_payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'settled', 'refunded', 'failed')",
                        name="status_known"),
        CheckConstraint("status IN ('pending', 'failed') OR reference IS NOT NULL",
                        name="charge_has_reference"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("service_dossier.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # How the citizen paid online (payments.PaymentMethod); "" where no method was chosen (a
    # fee taken at the counter, or before the payment step asked).
    method: Mapped[str] = mapped_column(String(10), default="", server_default="")


class ChannelTally(Base):
    """Submitted dossiers counted by the day, month and year (Vietnam's) they were submitted in,
    province, procedure and channel: the online rates and the personal-ID share read these few
    thousand rows, never the dossiers. statistics.py keeps every tally in the transaction that
    changes a dossier."""

    __tablename__ = "service_tally_channel"
    __table_args__ = (CheckConstraint("span IN ('day', 'month', 'year')", name="span_known"),)

    span: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    procedure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    dossiers: Mapped[int] = mapped_column(Integer)
    with_personal_id: Mapped[int] = mapped_column(Integer)


class StateTally(Base):
    """Submitted dossiers by day, month and year of submission, province and state, with how many of
    them were decided, and decided by their due date."""

    __tablename__ = "service_tally_state"
    __table_args__ = (CheckConstraint("span IN ('day', 'month', 'year')", name="span_known"),)

    span: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    state: Mapped[str] = mapped_column(String(24), primary_key=True)
    dossiers: Mapped[int] = mapped_column(Integer)
    decided: Mapped[int] = mapped_column(Integer)
    decided_on_time: Mapped[int] = mapped_column(Integer)


class DueTally(Base):
    """Open dossiers by day, month and year of submission, province and due date: those due before
    today are the overdue ones, whatever day today is."""

    __tablename__ = "service_tally_due"
    __table_args__ = (CheckConstraint("span IN ('day', 'month', 'year')", name="span_known"),)

    span: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    dossiers: Mapped[int] = mapped_column(Integer)


# The statistics (statistics.py) filter by period within one province or one procedure.
Index("ix_service_dossier_province_submitted", Dossier.province_code, Dossier.submitted_at)
Index("ix_service_dossier_procedure_submitted", Dossier.procedure_id, Dossier.submitted_at)


class RerouteRun(Base):
    """A re-routing after a unit reform, asked for in the console and carried out by the
    worker in batches: the abolished wards, why, who asked, and how far it has got. While one
    is queued or running for a set of wards, asking again for the same set returns it."""

    __tablename__ = "service_reroute_run"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state_known"),
        Index("ix_service_reroute_run_one_active", "wards_key", unique=True,
              postgresql_where=text("state IN ('queued', 'running')"),
              sqlite_where=text("state IN ('queued', 'running')")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wards_key: Mapped[str] = mapped_column(String(64))  # sha256 of the sorted ward codes
    ward_codes: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    total: Mapped[int] = mapped_column(Integer)  # dossiers to move, counted when asked
    moved: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
