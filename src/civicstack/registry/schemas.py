"""JSON shapes of the register's API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civicstack.kit.text import TypedLine
from civicstack.registry.models import Sex

PersonalIdNumber = Field(pattern=r"^\d{12}$", examples=["001090012345"])
WardCode = Field(pattern=r"^\d{5}$", examples=["00004"])


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    personal_id_number: str
    full_name: str
    date_of_birth: date
    sex: Sex
    place_of_birth_province_code: str
    place_of_birth: str
    place_of_origin: str
    ethnicity: str
    nationality: str
    permanent_ward_code: str
    permanent_province_code: str
    permanent_address_line: str
    temporary_ward_code: str | None
    temporary_address_line: str
    phone: str | None
    status: Literal["alive", "deceased"]
    date_of_death: date | None
    version: int


class PersonCreate(BaseModel):
    personal_id_number: str = PersonalIdNumber
    full_name: TypedLine = Field(min_length=1, max_length=200)
    date_of_birth: date
    sex: Sex
    place_of_birth_province_code: str = Field(pattern=r"^\d{2}$")
    place_of_birth: TypedLine = Field(default="", max_length=300)
    place_of_origin: TypedLine = Field(default="", max_length=300)
    ethnicity: TypedLine = Field(default="Kinh", max_length=50)
    nationality: str = Field(default="VN", pattern=r"^[A-Z]{2}$")
    permanent_ward_code: str = WardCode
    permanent_address_line: TypedLine = Field(default="", max_length=300)
    temporary_ward_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    temporary_address_line: TypedLine = Field(default="", max_length=300)
    phone: TypedLine | None = Field(default=None, max_length=20)


class SearchResult(BaseModel):
    results: list[PersonOut]
    count: int


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    occurred_on: date
    recorded_at: datetime
    recorded_by: str
    detail: dict[str, Any]
    related_person_id_number: str | None = None


class RelationOut(BaseModel):
    kind: Literal["parent", "child", "spouse"]
    personal_id_number: str
    full_name: str
    since: date | None
    until: date | None


class HouseholdOut(BaseModel):
    household_code: str
    ward_code: str
    relation_to_head: str


class IdCardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    card_number: str
    issued_on: date
    expires_on: date | None
    issuing_authority: str
    status: str


class HistoryOut(BaseModel):
    person: PersonOut
    events: list[EventOut]
    relations: list[RelationOut]
    household: HouseholdOut | None
    id_cards: list[IdCardOut]


class BirthIn(BaseModel):
    full_name: TypedLine = Field(min_length=1, max_length=200)
    date_of_birth: date
    sex: Sex
    birth_ward_code: str = WardCode
    mother_pid: str | None = Field(default=None, pattern=r"^\d{12}$")
    father_pid: str | None = Field(default=None, pattern=r"^\d{12}$")
    place_of_birth: TypedLine = Field(default="", max_length=300)
    ethnicity: TypedLine = Field(default="Kinh", max_length=50)


class CoupleEventIn(BaseModel):
    first_pid: str = PersonalIdNumber
    second_pid: str = PersonalIdNumber
    occurred_on: date


class DeathIn(BaseModel):
    personal_id_number: str = PersonalIdNumber
    occurred_on: date
    cause: TypedLine = Field(default="", max_length=300)


class IdCardEndIn(BaseModel):
    card_number: str = Field(pattern=r"^\d{12}$")
    ending: Literal["lost", "revoked"]
    reason: TypedLine = Field(min_length=5, max_length=300)


class ResidenceChangeIn(BaseModel):
    personal_id_number: str = PersonalIdNumber
    kind: Literal["permanent", "temporary"]
    ward_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    address_line: TypedLine = Field(default="", max_length=300)
    occurred_on: date
