"""`registry export`: the register as CSV in the import format, so export -> import round-trips.

Streaming (rows leave as they are read, in chunks), and audited: an export is a read of every
exported person's data, recorded as one entry naming scope, purpose and count.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import islice
from typing import TextIO

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Scope
from civicstack.kit.errors import Forbidden
from civicstack.registry import repository
from civicstack.registry.csv_format import EXPORT_COLUMNS
from civicstack.registry.models import Person, RelationKind, Sex
from civicstack.registry.service import outside_scope, require_purpose

CHUNK = 2000


def export_persons(session: Session, actor: Actor, out: TextIO, purpose: str,
                   province_code: str | None = None) -> int:
    """Write every person (of one province, if given) to `out`; returns how many."""
    purpose = require_purpose(purpose)
    if province_code and not actor.scope.covers_province(province_code):
        raise outside_scope(session, actor, Scope.province(province_code))
    if not province_code and actor.scope != NATIONAL:
        raise Forbidden(f"your scope is {actor.scope}: export one province at a time")
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    count = 0
    rows = repository.persons_for_export(session, province_code, CHUNK)
    while chunk := tuple(islice(rows, CHUNK)):
        writer.writerows(_export_rows(session, chunk))
        count += len(chunk)
    audit.record(session, actor, "registry.export", subject_type="register",
                 subject_id=province_code or "national", purpose=purpose,
                 detail={"persons": count})
    return count


ExportedPerson = tuple[Person, str | None, str | None]  # person, household code, relation


def _export_rows(session: Session,
                 chunk: tuple[ExportedPerson, ...]) -> Iterator[dict[str, object]]:
    links: dict[int, dict[str, str]] = {}
    for person_id, kind, number, sex in repository.parents_and_spouses(
            session, [person.id for person, _, _ in chunk]):
        links.setdefault(person_id, {})[_link_column(kind, sex)] = number
    for person, household_code, relation in chunk:
        row: dict[str, object] = {name: getattr(person, name, "") for name in EXPORT_COLUMNS}
        row.update(household_code=household_code or "", relation_to_head=relation or "",
                   father_id_number="", mother_id_number="", spouse_id_number="")
        row.update(links.get(person.id, {}))
        yield {name: "" if value is None else value for name, value in row.items()}


def _link_column(kind: str, relative_sex: str) -> str:
    if kind == RelationKind.SPOUSE.value:
        return "spouse_id_number"
    return "father_id_number" if relative_sex == Sex.MALE.value else "mother_id_number"
