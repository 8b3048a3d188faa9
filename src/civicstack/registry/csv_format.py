"""The register's CSV interchange format, shared by `registry import` and `registry export`.

One row per person. Residence may be given with a current ward code or, for records digitised
from the pre-2025 units, an old commune code or old free-text address that is converted on
import. Family links name relatives by ID number; they must already be in the register or
appear earlier in the file.
"""

from __future__ import annotations

import functools
import operator
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import String

from civicstack.kit.errors import FieldError, Invalid
from civicstack.kit.text import has_control_character, typed_text
from civicstack.registry import service
from civicstack.registry.models import Household, Person, Sex
from civicstack.registry.rules import PersonFacts, ReferenceData, person_errors
from civicstack.registry.units import parse_legacy_ward_code

PERSON_COLUMNS = (
    "personal_id_number", "full_name", "date_of_birth", "sex", "place_of_birth_province_code",
    "place_of_birth", "place_of_origin", "ethnicity", "nationality", "permanent_ward_code",
    "permanent_address_line", "temporary_ward_code", "temporary_address_line", "phone",
)
LINK_COLUMNS = (
    "household_code", "relation_to_head", "father_id_number", "mother_id_number",
    "spouse_id_number",
)
LEGACY_COLUMNS = ("permanent_legacy_ward_code", "permanent_legacy_address")
EXPORT_COLUMNS = PERSON_COLUMNS + LINK_COLUMNS + ("status", "date_of_death", "version")
KNOWN_COLUMNS = frozenset(EXPORT_COLUMNS + LEGACY_COLUMNS)
REQUIRED_COLUMNS = ("personal_id_number", "full_name", "date_of_birth", "sex",
                    "place_of_birth_province_code")
RESIDENCE_COLUMNS = ("permanent_ward_code", *LEGACY_COLUMNS)
HOUSEHOLD_RELATIONS = frozenset(
    {"head", "spouse", "child", "parent", "grandchild", "sibling", "other"})


SEX_CODES = {sex.value: sex for sex in Sex}
# Longest value each text column can store, read from the table so the two never disagree.
MAX_LENGTHS = {column.name: column.type.length
               for table in (Person.__table__, Household.__table__) for column in table.columns
               if isinstance(column.type, String) and column.type.length}


NO_LIMIT = 1 << 30


@functools.cache
def _limits(names: tuple[str, ...]) -> tuple[int, ...]:
    """Each column's longest value in header order, so one C-level pass checks a whole row."""
    return tuple(MAX_LENGTHS.get(name, NO_LIMIT) for name in names)


class HeaderError(ValueError):
    """The file cannot be read as a register import at all; nothing is loaded."""


def check_header(header: list[str]) -> dict[str, int]:
    """Column name -> position, or HeaderError naming what is missing or unknown."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    unknown = sorted(set(names) - KNOWN_COLUMNS)
    if unknown:
        raise HeaderError(f"unknown column(s): {', '.join(unknown)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise HeaderError(f"missing required column(s): {', '.join(missing)}")
    if not any(name in names for name in RESIDENCE_COLUMNS):
        raise HeaderError(f"give residence in one of: {', '.join(RESIDENCE_COLUMNS)}")
    if len(set(names)) != len(names):
        raise HeaderError("a column appears twice in the header")
    return {name: position for position, name in enumerate(names)}


RELATIVE_COLUMNS = ("father_id_number", "mother_id_number", "spouse_id_number")


class Links(NamedTuple):
    household_code: str | None
    relation_to_head: str | None
    relatives: tuple[tuple[str, str], ...]  # (column, ID number) of every relative named


@dataclass
class ParsedRow:
    line: int
    cells: list[str]
    values: dict[str, str]
    person: service.NewPerson | None = None
    links: Links | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def personal_id_number(self) -> str:
        return self.values.get("personal_id_number", "")

    def reject(self, field_name: str, reason: str) -> None:
        self.errors.append(FieldError(field_name, reason))


def parse_row(line: int, cells: list[str], columns: dict[str, int],
              reference: ReferenceData, today: date) -> ParsedRow:
    """Turn one CSV record into a validated NewPerson, or a row carrying every reason why not."""
    if len(cells) != len(columns):
        row = ParsedRow(line, cells, {})
        row.reject("row", f"expected {len(columns)} fields, found {len(cells)}")
        return row
    values = dict(zip(columns, map(str.strip, cells), strict=True))
    row = ParsedRow(line, cells, values)
    text = "".join(cells)
    if "\ufffd" in text:  # the decoder's mark for bytes that were not UTF-8
        row.reject("row", "contains bytes that are not valid UTF-8")
        return row
    # One C-level pass over the whole row; only a row that needs it is typed cell by cell.
    if has_control_character(text) or not unicodedata.is_normalized("NFC", text):
        _type_cells(row)
        if row.errors:
            return row
    if any(map(operator.gt, map(len, values.values()), _limits(tuple(columns)))):
        for name in [name for name, value in values.items()
                     if len(value) > MAX_LENGTHS.get(name, NO_LIMIT)]:
            row.reject(name, f"is longer than {MAX_LENGTHS[name]} characters")
    facts = _facts(row, reference)
    if facts is None:
        return row
    row.errors.extend(person_errors(facts, reference, today))
    links = _links(row)
    if not row.errors:
        row.person = service.NewPerson(
            facts, values.get("place_of_birth", ""), values.get("place_of_origin", ""),
            values.get("ethnicity") or "Kinh", values.get("nationality") or "VN",
            values.get("permanent_address_line", ""), values.get("temporary_address_line", ""))
        row.links = links
    return row


def _type_cells(row: ParsedRow) -> None:
    """Each value composed (NFC) as the API keeps it; a control character refused."""
    for name, value in row.values.items():
        try:
            row.values[name] = typed_text(name, value)
        except Invalid as refusal:
            row.errors.extend(refusal.errors)


def _facts(row: ParsedRow, reference: ReferenceData) -> PersonFacts | None:
    values = row.values
    born = _date(row, "date_of_birth")
    sex = _sex(row)
    ward = _permanent_ward(row, reference)
    if born is None or sex is None or ward is None:
        return None
    return PersonFacts(
        values["personal_id_number"], values["full_name"], born, sex,
        values["place_of_birth_province_code"], ward,
        values.get("temporary_ward_code") or None, values.get("phone") or None)


def _date(row: ParsedRow, name: str) -> date | None:
    try:
        return date.fromisoformat(row.values[name])
    except ValueError:
        row.reject(name, f"'{row.values[name]}' is not a date like 1990-05-17")
        return None


def _sex(row: ParsedRow) -> Sex | None:
    sex = SEX_CODES.get(row.values["sex"].upper())
    if sex is None:
        row.reject("sex", f"'{row.values['sex']}' is not M or F")
    return sex


def _permanent_ward(row: ParsedRow, reference: ReferenceData) -> str | None:
    """A current ward code, converted from the old units when only those are given."""
    values = row.values
    if values.get("permanent_ward_code"):
        return values["permanent_ward_code"]
    legacy_code = values.get("permanent_legacy_ward_code") or None
    source = "permanent_legacy_ward_code"
    if legacy_code is None and values.get("permanent_legacy_address"):
        source = "permanent_legacy_address"
        legacy_code = parse_legacy_ward_code(values["permanent_legacy_address"])
        if legacy_code is None:
            row.reject(source, "cannot recognise an old commune, district and province in it")
            return None
    if legacy_code is None:
        row.reject("permanent_ward_code", "is empty")
        return None
    if legacy_code not in reference.legacy_ward:
        row.reject(source, f"unknown pre-reform commune code '{legacy_code}'")
        return None
    converted = reference.legacy_ward[legacy_code]
    if converted is None:
        row.reject(source, f"old commune {legacy_code} was split by the 2025 reform; "
                           "give permanent_ward_code")
    return converted


def _links(row: ParsedRow) -> Links:
    values = row.values
    relation = values.get("relation_to_head") or None
    household = values.get("household_code") or None
    if relation and relation not in HOUSEHOLD_RELATIONS:
        row.reject("relation_to_head", f"'{relation}' is not one of "
                                       f"{', '.join(sorted(HOUSEHOLD_RELATIONS))}")
    if bool(relation) != bool(household):
        row.reject("household_code", "household_code and relation_to_head go together")
    links = Links(household, relation, tuple(
        (column, values[column]) for column in RELATIVE_COLUMNS if values.get(column)))
    for column, number in links.relatives:
        if number == row.personal_id_number:
            row.reject(column, "a person cannot be their own relative")
    return links
