"""Validation of a person's data against the register's rules; one place for the API and imports.

`ReferenceData` is loaded once per transaction (or import) so checking a row costs a few dict
lookups, which keeps bulk imports fast and the single-record API on exactly the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from civicstack.kit.errors import FieldError
from civicstack.registry import pid
from civicstack.registry.models import LegacyProvince, LegacyWardMapping, Sex, Ward

PHONE_PATTERN = re.compile(r"^(\+84|0)\d{9,10}$")
MAX_AGE_YEARS = 130


@dataclass(frozen=True)
class ReferenceData:
    ward_province: dict[str, str]  # ward code -> province code (current units)
    province_successor: dict[str, str]  # legacy province code -> current province code
    legacy_ward: dict[str, str | None]  # legacy ward code -> current ward code

    @cached_property
    def legacy_province_codes(self) -> frozenset[str]:
        return frozenset(self.province_successor)

    @cached_property
    def province_codes(self) -> frozenset[str]:
        return frozenset(self.ward_province.values())


def load_reference_data(session: Session) -> ReferenceData:
    return ReferenceData(
        ward_province=_pairs(session, Ward.code, Ward.province_code),
        province_successor=_pairs(session, LegacyProvince.code, LegacyProvince.new_province_code),
        legacy_ward=_pairs(session, LegacyWardMapping.legacy_ward_code,
                           LegacyWardMapping.new_ward_code),
    )


K = TypeVar("K")
V = TypeVar("V")


def _pairs(session: Session, key: InstrumentedAttribute[K],
           value: InstrumentedAttribute[V]) -> dict[K, V]:
    return dict(session.execute(select(key, value)).all())


@dataclass(frozen=True)
class PersonFacts:
    """The fields every new person record must carry, already parsed to Python types."""

    personal_id_number: str
    full_name: str
    date_of_birth: date
    sex: Sex
    place_of_birth_province_code: str
    permanent_ward_code: str
    temporary_ward_code: str | None = None
    phone: str | None = None


def person_errors(facts: PersonFacts, reference: ReferenceData, today: date) -> list[FieldError]:
    """Every reason this person cannot be registered; empty when the record is acceptable."""
    errors = _field_errors(facts, reference, today)
    if errors:
        return errors
    try:
        parts = pid.parse(facts.personal_id_number, reference.legacy_province_codes)
    except ValueError as exc:
        return [FieldError("personal_id_number", str(exc))]
    return [FieldError(field, reason) for field, reason in pid.inconsistencies(
        parts, facts.date_of_birth, facts.sex, facts.place_of_birth_province_code,
        reference.province_successor)]


def _field_errors(facts: PersonFacts, reference: ReferenceData, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not facts.full_name.strip():
        errors.append(FieldError("full_name", "is empty"))
    if facts.date_of_birth > today:
        errors.append(FieldError("date_of_birth", f"{facts.date_of_birth} is in the future"))
    elif today.year - facts.date_of_birth.year > MAX_AGE_YEARS:
        errors.append(FieldError("date_of_birth", f"{facts.date_of_birth} is implausibly old"))
    if facts.place_of_birth_province_code not in reference.province_codes:
        errors.append(FieldError("place_of_birth_province_code",
                                 f"unknown province code '{facts.place_of_birth_province_code}'"))
    for field, code in (("permanent_ward_code", facts.permanent_ward_code),
                        ("temporary_ward_code", facts.temporary_ward_code)):
        if code is not None and code not in reference.ward_province:
            errors.append(FieldError(field, f"unknown ward code '{code}'"))
    if facts.phone is not None and not PHONE_PATTERN.match(facts.phone):
        errors.append(FieldError("phone", "must be a Vietnamese number like 0912345678"))
    return errors
