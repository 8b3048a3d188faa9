"""Every query the register runs against its own tables."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

import psycopg
from psycopg import Copy, sql
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from civicstack.kit.authz import Scope
from civicstack.kit.db import Base
from civicstack.registry.models import (
    CivilStatusEvent,
    FamilyRelation,
    Household,
    HouseholdMember,
    IdCardIssuance,
    LegacyProvince,
    Person,
    PidSerialCounter,
    Province,
    RelationKind,
    Ward,
)


def person_by_pid(
    session: Session, personal_id_number: str, *, lock: bool = False,
) -> Person | None:
    query = select(Person).where(Person.personal_id_number == personal_id_number)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def persons_by_pids(session: Session, numbers: Collection[str]) -> list[Person]:
    if not numbers:
        return []
    return list(session.execute(
        select(Person).where(_among(session, Person.personal_id_number, numbers))).scalars())


def living_residents_born_between(session: Session, province_code: str, ward_code: str | None,
                                  earliest: date, latest: date) -> list[str]:
    """ID numbers of the living people permanently resident in a province (or one of its
    wards) born between two dates, both included."""
    query = select(Person.personal_id_number).where(
        Person.permanent_province_code == province_code, Person.status == "alive",
        Person.date_of_birth.between(earliest, latest))
    if ward_code:
        query = query.where(Person.permanent_ward_code == ward_code)
    return list(session.execute(query.order_by(Person.personal_id_number)).scalars())


def pid_exists(session: Session, personal_id_number: str) -> bool:
    return session.execute(
        select(Person.id).where(Person.personal_id_number == personal_id_number)
    ).first() is not None


@dataclass(frozen=True)
class SearchFilters:
    """What narrows every register search: the searcher's scope (where people live
    permanently), and optionally a date of birth and one province."""

    scope: Scope
    date_of_birth: date | None = None
    province_code: str | None = None


def _narrowed(query: Select[Any], filters: SearchFilters) -> Select[Any]:
    if filters.date_of_birth is not None:
        query = query.where(Person.date_of_birth == filters.date_of_birth)
    if filters.province_code:
        query = query.where(Person.permanent_province_code == filters.province_code)
    if filters.scope.ward_code:
        query = query.where(Person.permanent_ward_code == filters.scope.ward_code)
    elif filters.scope.province_code:
        query = query.where(Person.permanent_province_code == filters.scope.province_code)
    return query


_STABLE_ORDER = (Person.full_name_folded, Person.date_of_birth, Person.id)
# The least trigram similarity (PostgreSQL's pg_trgm) of a name found despite a typing
# mistake: "nguyen vna an" scores 0.69 against "nguyen van an", while a namesake sharing only
# the family name ("nguyen thi binh") scores about 0.35.
MIN_TRIGRAM_SIMILARITY = 0.5
# The same for SQLite, as difflib's ratio of the folded names ("nguyen vna an": 0.85).
MIN_SPELLING_RATIO = 0.75
# SQLite has no trigram index: the people whose name holds at least one word typed are read,
# most words first, up to this many, and re-ranked here.
SPELLING_CANDIDATES = 500


def persons_by_name(session: Session, folded_name: str, filters: SearchFilters,
                    limit: int) -> list[Person]:
    """People whose folded name holds every word typed, anywhere in it, or (a typing mistake)
    one close to the whole name typed; the closest names first."""
    if session.get_bind().dialect.name == "postgresql":
        return _persons_by_name_trigrams(session, folded_name, filters, limit)
    return _persons_by_name_spelling(session, folded_name, filters, limit)


def _persons_by_name_trigrams(session: Session, folded_name: str, filters: SearchFilters,
                              limit: int) -> list[Person]:
    holds_every_word = _holds_words(folded_name.split())
    # `%` is what the GIN trigram index answers; the similarity bound then keeps it strict.
    similarity = func.similarity(Person.full_name_folded, folded_name)
    close = Person.full_name_folded.op("%", is_comparison=True)(folded_name) & (
        similarity >= MIN_TRIGRAM_SIMILARITY)
    query = _narrowed(select(Person).where(or_(holds_every_word, close)), filters)
    query = query.order_by(holds_every_word.desc(), similarity.desc(), *_STABLE_ORDER)
    return list(session.execute(query.limit(limit)).scalars())


def _persons_by_name_spelling(session: Session, folded_name: str, filters: SearchFilters,
                              limit: int) -> list[Person]:
    words = folded_name.split()
    words_held = sum((case((_holds_words([word]), 1), else_=0) for word in words),
                     start=literal(0))
    query = _narrowed(select(Person).where(or_(*(_holds_words([w]) for w in words))), filters)
    query = query.order_by(words_held.desc(), *_STABLE_ORDER).limit(SPELLING_CANDIDATES)
    ranked = []
    for person in session.execute(query).scalars():
        holds_every_word = all(word in person.full_name_folded for word in words)
        ratio = SequenceMatcher(None, folded_name, person.full_name_folded).ratio()
        if holds_every_word or ratio >= MIN_SPELLING_RATIO:
            ranked.append((not holds_every_word, -ratio, person.full_name_folded,
                           person.date_of_birth, person.id, person))
    return [found[-1] for found in sorted(ranked, key=lambda found: found[:-1])[:limit]]


def persons_by_number(session: Session, digits: str, phone_digits: str,
                      filters: SearchFilters, limit: int) -> list[Person]:
    """People whose ID number begins with `digits` or whose phone number holds
    `phone_digits` (the number without its 0 or +84); ID numbers first."""
    by_id = Person.personal_id_number.startswith(digits, autoescape=True)
    by_phone = Person.phone.contains(phone_digits, autoescape=True)
    query = _narrowed(select(Person).where(or_(by_id, by_phone)), filters)
    query = query.order_by(by_id.desc(), Person.personal_id_number)
    return list(session.execute(query.limit(limit)).scalars())


def persons_by_address(session: Session, text: str, filters: SearchFilters,
                       limit: int) -> list[Person]:
    """People whose permanent or temporary address line holds `text`, letter case aside (the
    lines are kept as typed, diacritics included)."""
    lowered = text.lower()
    query = _narrowed(select(Person).where(or_(
        func.lower(Person.permanent_address_line).contains(lowered, autoescape=True),
        func.lower(Person.temporary_address_line).contains(lowered, autoescape=True))), filters)
    return list(session.execute(query.order_by(*_STABLE_ORDER).limit(limit)).scalars())


def _holds_words(folded_words: list[str]) -> ColumnElement[bool]:
    return and_(true(), *(Person.full_name_folded.contains(word, autoescape=True)
                          for word in folded_words))


def numbers_named(folded_words: list[str]) -> Select[str]:
    """The ID numbers of the people whose folded name holds every word, anywhere in it: a
    query for another domain to filter its own rows by, never run here."""
    return select(Person.personal_id_number).where(_holds_words(folded_words))


def events_of(session: Session, person_id: int,
              children_ids: Collection[int] = ()) -> list[CivilStatusEvent]:
    """The person's own events, those naming them, and their children's births."""
    return list(session.execute(
        select(CivilStatusEvent)
        .where(or_(CivilStatusEvent.person_id == person_id,
                   CivilStatusEvent.related_person_id == person_id,
                   (CivilStatusEvent.kind == "birth")
                   & CivilStatusEvent.person_id.in_(set(children_ids))))
        .order_by(CivilStatusEvent.occurred_on, CivilStatusEvent.id)
    ).scalars())


def pids_by_ids(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(
        select(Person.id, Person.personal_id_number).where(Person.id.in_(ids))
    ).all())


def current_spouse_relation(session: Session, person_id: int) -> FamilyRelation | None:
    return session.execute(
        select(FamilyRelation).where(
            FamilyRelation.kind == RelationKind.SPOUSE.value, FamilyRelation.until.is_(None),
            or_(FamilyRelation.person_id == person_id, FamilyRelation.relative_id == person_id),
        )
    ).scalar_one_or_none()


def relations_of(session: Session, person_id: int) -> list[tuple[FamilyRelation, Person]]:
    """Each relation touching the person, with the other person in it."""
    as_subject = session.execute(
        select(FamilyRelation, Person).join(Person, Person.id == FamilyRelation.relative_id)
        .where(FamilyRelation.person_id == person_id)
    ).all()
    as_relative = session.execute(
        select(FamilyRelation, Person).join(Person, Person.id == FamilyRelation.person_id)
        .where(FamilyRelation.relative_id == person_id)
    ).all()
    return [*as_subject, *as_relative]


def household_of(session: Session, person_id: int) -> tuple[Household, HouseholdMember] | None:
    row = session.execute(
        select(Household, HouseholdMember)
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .where(HouseholdMember.person_id == person_id)
    ).first()
    return (row[0], row[1]) if row else None


def household_by_code(session: Session, code: str) -> Household | None:
    return session.execute(
        select(Household).where(Household.household_code == code)
    ).scalar_one_or_none()


def household_members(session: Session, household_id: int) -> list[tuple[HouseholdMember, Person]]:
    return list(session.execute(
        select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
        .where(HouseholdMember.household_id == household_id).order_by(Person.date_of_birth)
    ))


def id_cards_of(session: Session, person_id: int) -> list[IdCardIssuance]:
    return list(session.execute(
        select(IdCardIssuance).where(IdCardIssuance.person_id == person_id)
        .order_by(IdCardIssuance.issued_on.desc())
    ).scalars())


def locked_counter(session: Session, prefix: str) -> PidSerialCounter | None:
    return session.execute(
        select(PidSerialCounter).where(PidSerialCounter.prefix == prefix).with_for_update()
    ).scalar_one_or_none()


def highest_serial(session: Session, prefix: str) -> int | None:
    top = session.execute(
        select(func.max(Person.personal_id_number))
        .where(Person.personal_id_number.startswith(prefix))
    ).scalar_one_or_none()
    return int(top[6:]) if top else None


# --- bulk loading (imports, demo data) -----------------------------------------------------

@dataclass(frozen=True)
class KnownPerson:
    id: int
    full_name_folded: str
    date_of_birth: date


def known_persons(session: Session, numbers: Collection[str]) -> dict[str, KnownPerson]:
    """ID number -> identity of those already registered, for one batch of an import."""
    if not numbers:
        return {}
    rows = session.execute(
        select(Person.personal_id_number, Person.id, Person.full_name_folded,
               Person.date_of_birth).where(_among(session, Person.personal_id_number, numbers)))
    return {number: KnownPerson(pk, folded, born) for number, pk, folded, born in rows}


def _among(session: Session, column: InstrumentedAttribute[str],
           values: Collection[str]) -> ColumnElement[bool]:
    """`column IN values`; one array parameter on PostgreSQL instead of thousands of them,
    passed as the array's text form because the driver's list adapter costs more per element
    than the lookup itself. It is unnested in a subquery, which runs once: a bare `= ANY(cast)`
    may be re-cast for every row the planner decides to scan."""
    if session.get_bind().dialect.name == "postgresql":
        listed = cast(bindparam("values", _array_text(values), type_=Text), ARRAY(Text))
        return column.in_(select(func.unnest(listed)))
    return column.in_(set(values))


def _array_text(values: Collection[str]) -> str:
    """PostgreSQL's input form of a text array: each element quoted, `\\` and `"` escaped.
    ID numbers and household codes hold neither: they are then quoted in one join."""
    joined = '","'.join(values)
    if values and "\\" not in joined and joined.count('"') == 2 * (len(values) - 1):
        return '{"' + joined + '"}'
    return "{" + ",".join(
        '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


def household_ids(session: Session, codes: Collection[str]) -> dict[str, int]:
    if not codes:
        return {}
    return dict(session.execute(
        select(Household.household_code, Household.id)
        .where(_among(session, Household.household_code, codes))).all())


def loads_by_copy(session: Session) -> bool:
    """Whether bulk inserts go through COPY (PostgreSQL), so rows may come as COPY text."""
    return session.get_bind().dialect.name == "postgresql"


def insert_with_ids(session: Session, model: type[Base], columns: Sequence[str],
                    rows: Sequence[tuple[Any, ...] | str]) -> list[int]:
    """Insert rows (values in `columns` order, or COPY text lines where loads_by_copy) and
    return their new ids in the same order. With COPY the ids are drawn from the table's
    sequence first, because COPY cannot return them; SQLite returns them from the insert."""
    if not rows:
        return []
    table = _table_of(model)
    if not loads_by_copy(session):
        inserted = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [dict(zip(columns, row, strict=True)) for row in rows])
        return list(inserted.scalars())
    sequence = _id_sequence(session, table.name)
    # The name goes in as a literal: looked up per row (as a function or a cast of a
    # parameter), it would cost several times the nextval itself.
    ids = [new_id for (new_id,) in _driver(session).execute(
        sql.SQL("SELECT nextval({}) FROM generate_series(1, %s)").format(sql.Literal(sequence)),
        (len(rows),))]
    if isinstance(rows[0], str):
        with _copy_into(session, table, ("id", *columns)) as copy:
            copy.write("".join(f"{new_id}\t{row}\n"
                               for new_id, row in zip(ids, rows, strict=True)))
    else:
        bulk_insert(session, model, ("id", *columns),
                    [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)])
    return ids


@contextmanager
def _copy_into(session: Session, table: Table, columns: Sequence[str]) -> Iterator[Copy]:
    """A COPY ... FROM STDIN in the session's transaction; a refusal by the driver itself is
    reported as SQLAlchemy would report it."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    try:
        with _driver(session).cursor() as cursor, cursor.copy(statement) as copy:
            yield copy
    except psycopg.Error as exc:
        raise DBAPIError(f"COPY {table.name}", None, exc) from exc


_ID_SEQUENCES: dict[str, str] = {}  # table -> its id sequence; the migrations fix the names


def _id_sequence(session: Session, table: str) -> str:
    """Looked up once per process: the catalog function takes milliseconds."""
    if table not in _ID_SEQUENCES:
        _ID_SEQUENCES[table] = session.scalar(
            sql_text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table})
    return _ID_SEQUENCES[table]


def _driver(session: Session) -> psycopg.Connection[Any]:
    """The session's own psycopg connection, inside its transaction, for COPY and the like."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def _table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def bulk_insert(session: Session, model: type[Base], columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """Insert many rows (values in `columns` order): COPY on PostgreSQL, several times faster;
    executemany elsewhere."""
    table = _table_of(model)
    if not loads_by_copy(session):
        values = [dict(zip(columns, row, strict=True)) for row in rows]
        if values:
            session.execute(insert(table), values)
        return
    with _copy_into(session, table, columns) as copy:
        for row in rows:
            copy.write_row(row)


# The tables a bulk load writes. Their foreign keys and non-unique indexes are set aside during
# it; the primary keys and unique constraints stay, because the load's own lookups need them.
BULK_LOADED = (Person, Household, HouseholdMember, FamilyRelation)


@contextmanager
def checks_set_aside(session: Session) -> Iterator[None]:
    """Within the session's transaction, load without per-row foreign-key triggers and index
    upkeep, then rebuild the indexes and re-validate every foreign key over the whole tables.

    On PostgreSQL, DDL is transactional: if the load or the re-validation fails, the rollback
    restores the constraints with the data, so no state without them is ever committed. The
    tables stay locked against every other session until the commit. SQLite checks a foreign
    key with a plain index probe, so there the single transaction is the whole gain.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    tables = [_table_of(model) for model in BULK_LOADED]
    session.execute(sql_text(f"LOCK TABLE {', '.join(t.name for t in tables)} "
                             "IN ACCESS EXCLUSIVE MODE"))
    keys = [key for table in tables for key in table.foreign_key_constraints]
    indexes = [index for table in tables for index in table.indexes if not index.unique]
    for key in keys:
        session.execute(DropConstraint(key))
    for index in indexes:
        session.execute(DropIndex(index))
    yield
    session.execute(sql_text("SET LOCAL maintenance_work_mem = '256MB'"))
    for index in indexes:
        session.execute(CreateIndex(index))
    for key in keys:
        session.execute(AddConstraint(key))


def persons_for_export(session: Session, province_code: str | None,
                       chunk: int) -> Iterator[tuple[Person, str | None, str | None]]:
    """Every person with household code and relation to head, streamed in ID-number order."""
    query = (
        select(Person, Household.household_code, HouseholdMember.relation_to_head)
        .outerjoin(HouseholdMember, HouseholdMember.person_id == Person.id)
        .outerjoin(Household, Household.id == HouseholdMember.household_id)
        .order_by(Person.personal_id_number)
        .execution_options(yield_per=chunk)
    )
    if province_code:
        query = query.where(Person.permanent_province_code == province_code)
    yield from session.execute(query)


def parents_and_spouses(
    session: Session, person_ids: Collection[int],
) -> list[tuple[int, str, str, str]]:
    """(person id, kind, relative's ID number, relative's sex) for current parents and spouses."""
    if not person_ids:
        return []
    return list(session.execute(
        select(FamilyRelation.person_id, FamilyRelation.kind, Person.personal_id_number,
               Person.sex)
        .join(Person, Person.id == FamilyRelation.relative_id)
        .where(FamilyRelation.person_id.in_(set(person_ids)), FamilyRelation.until.is_(None))
    ).all())


def legacy_province_codes(session: Session) -> frozenset[str]:
    """The pre-reform province codes an ID number may begin with."""
    return frozenset(session.execute(select(LegacyProvince.code)).scalars())


def provinces(session: Session) -> list[Province]:
    return list(session.execute(select(Province).order_by(Province.name)).scalars())


def ward_labels(session: Session, ward_codes: Collection[str]) -> dict[str, tuple[str, str]]:
    """Ward code -> (ward name, province name)."""
    if not ward_codes:
        return {}
    rows = session.execute(
        select(Ward.code, Ward.name, Province.name)
        .join(Province, Province.code == Ward.province_code)
        .where(Ward.code.in_(set(ward_codes))))
    return {code: (ward, province) for code, ward, province in rows}


def province_of_ward(session: Session, ward_code: str) -> str | None:
    return session.execute(
        select(Ward.province_code).where(Ward.code == ward_code)).scalar_one_or_none()


def ward_with_province(session: Session, ward_code: str) -> tuple[str, str, str, str] | None:
    """(ward code, ward name, province code, province name) of a current ward."""
    row = session.execute(
        select(Ward.code, Ward.name, Province.code, Province.name)
        .join(Province, Province.code == Ward.province_code)
        .where(Ward.code == ward_code)).first()
    return (row[0], row[1], row[2], row[3]) if row else None
