"""Builders that create real register records through the service, for tests of any domain."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.registry import pid, service
from civicstack.registry.models import Person, Sex, Ward
from civicstack.registry.rules import PersonFacts

CLERK = Actor("test", "registry-clerk")
_serials = itertools.count(1)


def ward_in(session: Session, province_code: str = "01") -> str:
    return session.execute(
        select(Ward.code).where(Ward.province_code == province_code).order_by(Ward.code).limit(1)
    ).scalar_one()


def make_person(
    session: Session, full_name: str = "Nguyễn Văn An", born: date = date(1990, 5, 17),
    sex: Sex = Sex.MALE, province_code: str = "01", legacy_province_code: str = "01",
    phone: str | None = "0912345678",
) -> Person:
    number = pid.compose(legacy_province_code, born.year, sex, next(_serials))
    facts = PersonFacts(number, full_name, born, sex, province_code,
                        ward_in(session, province_code), None, phone)
    return service.register_person(session, CLERK, service.NewPerson(
        facts, place_of_origin="Hà Nội", permanent_address_line="12 Phố Huế"))
