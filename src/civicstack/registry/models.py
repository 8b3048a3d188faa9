"""Tables owned by the register. Other domains reach them only through registry.service."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class LifeStatus(enum.StrEnum):
    ALIVE = "alive"
    DECEASED = "deceased"


class EventKind(enum.StrEnum):
    BIRTH = "birth"
    MARRIAGE = "marriage"
    DIVORCE = "divorce"
    DEATH = "death"
    RESIDENCE_CHANGE = "residence_change"


class RelationKind(enum.StrEnum):
    PARENT = "parent"  # relative is the parent of person
    SPOUSE = "spouse"


class Province(Base):
    """A province-level unit of the two-tier system in force since 1 July 2025 (34 units)."""

    __tablename__ = "admin_province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    codename: Mapped[str] = mapped_column(String(100))


class Ward(Base):
    """A ward, commune or special zone of the 2025 reform (3,321 units)."""

    __tablename__ = "admin_ward"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(ForeignKey("admin_province.code"), index=True)


class LegacyProvince(Base):
    """One of the 63 provinces before the reform; their codes still prefix ID numbers."""

    __tablename__ = "legacy_province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    new_province_code: Mapped[str] = mapped_column(ForeignKey("admin_province.code"))


class LegacyWardMapping(Base):
    """Old province/district/commune -> the new ward that absorbed it (default when divided)."""

    __tablename__ = "legacy_ward_mapping"

    legacy_ward_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    legacy_ward_name: Mapped[str] = mapped_column(String(100))
    legacy_district_code: Mapped[str] = mapped_column(String(3))
    legacy_district_name: Mapped[str] = mapped_column(String(100))
    legacy_province_code: Mapped[str] = mapped_column(ForeignKey("legacy_province.code"))
    new_ward_code: Mapped[str | None] = mapped_column(ForeignKey("admin_ward.code"), nullable=True)
    new_province_code: Mapped[str] = mapped_column(ForeignKey("admin_province.code"))
    divided: Mapped[bool] = mapped_column(Boolean, default=False)


class ImportRun(Base):
    """One run of `registry import`: provenance for every person it loaded."""

    __tablename__ = "registry_import_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_already_present: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex_known"),
        CheckConstraint("status IN ('alive', 'deceased')", name="status_known"),
        CheckConstraint("length(personal_id_number) = 12", name="pid_twelve_digits"),
        Index("ix_person_name_dob", "full_name_folded", "date_of_birth"),
        # Any part of the name, or a name typed with a mistake (PostgreSQL's pg_trgm; SQLite
        # gets a plain index of the column, unused by the search).
        Index("ix_person_name_trigrams", "full_name_folded", postgresql_using="gin",
              postgresql_ops={"full_name_folded": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # Lower-case, accents stripped: "Nguyễn Văn An" and "nguyen van an" find the same person.
    full_name_folded: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    place_of_birth_province_code: Mapped[str] = mapped_column(ForeignKey("admin_province.code"))
    place_of_birth: Mapped[str] = mapped_column(String(300), default="")
    place_of_origin: Mapped[str] = mapped_column(String(300), default="")
    ethnicity: Mapped[str] = mapped_column(String(50), default="Kinh")
    nationality: Mapped[str] = mapped_column(String(2), default="VN")
    permanent_ward_code: Mapped[str] = mapped_column(ForeignKey("admin_ward.code"), index=True)
    permanent_province_code: Mapped[str] = mapped_column(
        ForeignKey("admin_province.code"), index=True
    )
    permanent_address_line: Mapped[str] = mapped_column(String(300), default="")
    temporary_ward_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_ward.code"), nullable=True
    )
    temporary_address_line: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=LifeStatus.ALIVE.value)
    date_of_death: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_import_run.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)


class Household(Base):
    __tablename__ = "household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_code: Mapped[str] = mapped_column(String(20), unique=True)
    ward_code: Mapped[str] = mapped_column(ForeignKey("admin_ward.code"))
    address_line: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HouseholdMember(Base):
    """A person's current household (one at a time; moves are recorded as events)."""

    __tablename__ = "household_member"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    relation_to_head: Mapped[str] = mapped_column(String(20))


class FamilyRelation(Base):
    __tablename__ = "family_relation"
    __table_args__ = (
        CheckConstraint("kind IN ('parent', 'spouse')", name="kind_known"),
        CheckConstraint("person_id <> relative_id", name="not_self"),
        UniqueConstraint("person_id", "relative_id", "kind", "since", name="uq_family_relation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    since: Mapped[date | None] = mapped_column(Date, nullable=True)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)


class IdCardIssuance(Base):
    __tablename__ = "id_card_issuance"
    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on > issued_on", name="expiry_after_issue"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    card_number: Mapped[str] = mapped_column(String(12))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    issuing_authority: Mapped[str] = mapped_column(String(200))
    photo_ref: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")


class CivilStatusEvent(Base):
    """Immutable: triggers in the migration refuse UPDATE and DELETE."""

    __tablename__ = "civil_status_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    related_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class PidSerialCounter(Base):
    """Next serial to try for a 6-digit ID prefix (province, century/sex, year)."""

    __tablename__ = "pid_serial_counter"

    prefix: Mapped[str] = mapped_column(String(6), primary_key=True)
    next_serial: Mapped[int] = mapped_column(Integer)
