"""Rules of the population register. Every read of a person is audited with who and why.

Services never commit: the caller (request, CLI command, job) owns the transaction, so a
refused civil-status event leaves nothing half-written.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission, Scope, ScopeLevel
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_, Message
from civicstack.kit.metrics import PERSON_READS
from civicstack.kit.text import fold, typed_text
from civicstack.registry import pid, repository
from civicstack.registry.models import (
    CivilStatusEvent,
    EventKind,
    FamilyRelation,
    Household,
    HouseholdMember,
    IdCardIssuance,
    LifeStatus,
    Person,
    PidSerialCounter,
    Province,
    RelationKind,
    Sex,
)
from civicstack.registry.rules import PersonFacts, ReferenceData, load_reference_data, person_errors

MIN_PURPOSE_LENGTH = 5
MARRIAGE_MIN_AGE = {Sex.MALE: 20, Sex.FEMALE: 18}  # Law on Marriage and Family 2014, art. 8


def now() -> datetime:
    return datetime.now(UTC)


def require_purpose(purpose: str) -> str:
    cleaned = " ".join(purpose.split())
    if len(cleaned) < MIN_PURPOSE_LENGTH:
        raise Invalid("purpose", "say why you need this person's data (at least 5 characters)")
    return cleaned


def _audit_read(session: Session, actor: Actor, action: str, subject_id: str, purpose: str,
                detail: dict[str, Any] | None = None) -> None:
    audit.record(session, actor, action, subject_type="person", subject_id=subject_id,
                 purpose=purpose, detail=detail)
    PERSON_READS.labels(action).inc()


def _existing_person(session: Session, actor: Actor, personal_id_number: str, *,
                     lock: bool = False) -> Person:
    """The person, if the actor's provinces include theirs: scope limits writes as well as
    reads (least privilege for officials). Someone outside the scope gets the answer a missing
    number gets, so an official cannot learn who is registered elsewhere."""
    person = repository.person_by_pid(session, personal_id_number, lock=lock)
    if person is None or not actor.may_see(person.permanent_province_code,
                                           person.permanent_ward_code):
        raise NotFound(f"no person with ID number {personal_id_number} in your scope")
    return person


# --- reads -------------------------------------------------------------------------------

def get_person(session: Session, actor: Actor, personal_id_number: str, purpose: str) -> Person:
    purpose = require_purpose(purpose)
    person = _existing_person(session, actor, personal_id_number)
    _audit_read(session, actor, "registry.person.read", personal_id_number, purpose)
    return person


def search_persons(
    session: Session, actor: Actor, purpose: str, *, text: str,
    date_of_birth: date | None = None, province_code: str | None = None, limit: int = 50,
) -> list[Person]:
    """The people a search box's text describes, within the actor's scope, ranked: an ID
    number (or its first digits) or a phone number; else any part of the name, with or without
    diacritics and despite a typing mistake, then an address. Optionally narrowed by birth date
    and province of residence. Each person found is an audited read."""
    purpose = require_purpose(purpose)
    typed = " ".join(typed_text(SEARCH_FIELD, text).split())
    if len(fold(typed)) < 2:
        raise Invalid(SEARCH_FIELD, "give at least two letters of the name, or digits of an ID "
                      "or phone number")
    if province_code and actor.scope.level != ScopeLevel.NATIONAL and \
            province_code != actor.scope.province_code:
        raise outside_scope(session, actor, Scope.province(province_code))
    filters = repository.SearchFilters(actor.scope, date_of_birth, province_code)
    found = _search(session, typed, filters, min(limit, 200))
    for person in found:
        _audit_read(session, actor, "registry.person.search_hit", person.personal_id_number,
                    purpose, {"query": text, "date_of_birth": date_of_birth})
    return found


# The search box of the console and the API's parameter: its name predates searching by
# anything but a name, and clients send it.
SEARCH_FIELD = "full_name"
_NUMBER = re.compile(r"\+?[\d .-]+")


def _search(session: Session, typed: str, filters: repository.SearchFilters,
            limit: int) -> list[Person]:
    if _NUMBER.fullmatch(typed):
        digits = re.sub(r"\D", "", typed)
        national = digits.removeprefix("84") if typed.startswith("+") else \
            digits.removeprefix("0")
        return repository.persons_by_number(session, digits, national or digits, filters, limit)
    by_name = repository.persons_by_name(session, fold(typed), filters, limit)
    by_address = repository.persons_by_address(session, typed, filters, limit)
    named = {person.id for person in by_name}
    return [*by_name, *(p for p in by_address if p.id not in named)][:limit]


def confirm_identity(session: Session, actor: Actor, personal_id_number: str, full_name: str,
                     date_of_birth: date, purpose: str) -> Person:
    """The living person these details describe, or one refusal that does not say which
    detail was wrong (so the check cannot be used to probe the register field by field)."""
    person = repository.person_by_pid(session, personal_id_number)
    _audit_read(session, actor, "registry.person.identity_check", personal_id_number,
                require_purpose(purpose), {"matched": person is not None})
    matches = (person is not None and person.status == LifeStatus.ALIVE.value
               and person.full_name_folded == fold(full_name)
               and person.date_of_birth == date_of_birth)
    if not matches or person is None:
        raise Invalid("personal_id_number",
                      "these details do not match a living person in the population register")
    return person


def names_in_scope(session: Session, actor: Actor, numbers: list[str],
                   purpose: str) -> dict[str, str]:
    """ID number -> full name of the people the actor may see, for work queues; each name
    shown is an audited read like any other."""
    purpose = require_purpose(purpose)
    visible = [p for p in repository.persons_by_pids(session, numbers)
               if actor.may_see(p.permanent_province_code, p.permanent_ward_code)]
    for person in visible:
        _audit_read(session, actor, "registry.person.listed", person.personal_id_number, purpose)
    return {p.personal_id_number: p.full_name for p in visible}


def numbers_named(name: str) -> Select[str]:
    """A query of the ID numbers of the people whose name holds every word typed, with or
    without diacritics, for another domain to narrow its own records by (a dossier inbox found
    by the applicant's name). It reads no name out, so it audits nothing; what the caller then
    shows of a person is read through names_in_scope."""
    return repository.numbers_named(fold(name).split())


def deceased_among(session: Session, actor: Actor, numbers: list[str],
                   purpose: str) -> set[str]:
    """The ID numbers, among these, of people the register records as deceased; each one
    found is an audited read."""
    purpose = require_purpose(purpose)
    dead = [p.personal_id_number for p in repository.persons_by_pids(session, numbers)
            if p.status == LifeStatus.DECEASED.value]
    for number in dead:
        _audit_read(session, actor, "registry.person.life_status", number, purpose)
    return set(dead)


def living_in_scope(session: Session, actor: Actor, numbers: list[str],
                    purpose: str) -> set[str]:
    """Which of these ID numbers belong to living people the actor may see (a roster checked
    against the register); each one found is an audited read. Someone outside the scope is
    not told apart from someone unknown."""
    purpose = require_purpose(purpose)
    found = {p.personal_id_number for p in repository.persons_by_pids(session, numbers)
             if p.status == LifeStatus.ALIVE.value
             and actor.may_see(p.permanent_province_code, p.permanent_ward_code)}
    for number in sorted(found):
        _audit_read(session, actor, "registry.person.listed", number, purpose)
    return found


def living_residents_aged(session: Session, actor: Actor, purpose: str, province_code: str,
                          ward_code: str | None, min_age: int, max_age: int,
                          on: date) -> list[str]:
    """ID numbers of the living residents of a province (or ward) aged `min_age` to
    `max_age` on a day, e.g. the pupils of a province; each is an audited read."""
    purpose = require_purpose(purpose)
    if not actor.may_see(province_code, ward_code):
        raise outside_scope(session, actor, Scope(
            ScopeLevel.WARD if ward_code else ScopeLevel.PROVINCE, province_code, ward_code))
    if not 0 <= min_age <= max_age <= 150:
        raise Invalid("max_age", "give ages from 0 to 150, the lower one first")
    # Aged max_age means born after the (max_age + 1)th birthday's eve; aged min_age means
    # born on or before the min_age-th birthday.
    earliest = _years_before(on, max_age + 1) + timedelta(days=1)
    latest = _years_before(on, min_age)
    found = repository.living_residents_born_between(session, province_code, ward_code,
                                                     earliest, latest)
    for number in found:
        _audit_read(session, actor, "registry.person.listed", number, purpose)
    return found


def _years_before(on: date, years: int) -> date:
    """The same day `years` earlier; 29 February falls back to the 28th."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def names_of_role_holders(session: Session, actor: Actor, numbers: list[str],
                          purpose: str) -> dict[str, str]:
    """ID number -> full name of people known to the reader through a public role, such as an
    organisation's legal representative. The role makes the name public (it is printed on the
    business registration), so the reader's provinces do not limit it; each name is still an
    audited read, shown to the person on their account page."""
    purpose = require_purpose(purpose)
    found = repository.persons_by_pids(session, numbers)
    for person in found:
        _audit_read(session, actor, "registry.person.role_holder", person.personal_id_number,
                    purpose)
    return {p.personal_id_number: p.full_name for p in found}


@dataclass(frozen=True)
class HouseholdMemberView:
    full_name: str
    relation_to_head: str
    personal_id_number: str
    date_of_birth: date


@dataclass(frozen=True)
class HouseholdView:
    household_code: str
    relation_to_head: str  # the asked person's
    members: list[HouseholdMemberView]


def household_of_person(session: Session, actor: Actor, personal_id_number: str,
                        purpose: str) -> HouseholdView | None:
    """The person's household, with every member's name and relation to its head; None when
    they belong to none. Each member's name is read too, so the read is audited under every
    member, not only the person asked about."""
    purpose = require_purpose(purpose)
    person = _existing_person(session, actor, personal_id_number)
    found = repository.household_of(session, person.id)
    if found is None:
        _audit_read(session, actor, "registry.household.read", personal_id_number, purpose)
        return None
    household, membership = found
    return HouseholdView(household.household_code, membership.relation_to_head,
                         _members_read(session, actor, household, purpose))


def household_by_code(session: Session, actor: Actor, household_code: str,
                      purpose: str) -> HouseholdView:
    """A household and its members, for an official whose scope holds its ward; one outside
    the scope gets the answer a missing code gets. Each member's name is an audited read."""
    purpose = require_purpose(purpose)
    household = repository.household_by_code(session, household_code)
    province = repository.province_of_ward(session, household.ward_code) if household else None
    if household is None or not actor.may_see(province, household.ward_code):
        raise NotFound("no household %(code)s in your scope", code=household_code)
    return HouseholdView(household.household_code, "",
                         _members_read(session, actor, household, purpose))


def _members_read(session: Session, actor: Actor, household: Household,
                  purpose: str) -> list[HouseholdMemberView]:
    members = repository.household_members(session, household.id)
    for _, member in members:
        _audit_read(session, actor, "registry.household.read", member.personal_id_number,
                    purpose, {"household": household.household_code})
    return [HouseholdMemberView(p.full_name, m.relation_to_head, p.personal_id_number,
                                p.date_of_birth) for m, p in members]


@dataclass(frozen=True)
class RegisterMatch:
    """How an ID number another system holds stands in the register."""

    well_formed: bool
    registered: bool = False
    alive: bool = False
    name_matches: bool | None = None  # None when no name was given to compare


def match_against_register(session: Session, actor: Actor,
                           claimed: list[tuple[str, str | None]],
                           purpose: str) -> list[RegisterMatch]:
    """For each (ID number, name another system holds or None): whether the number is well
    formed, registered, of a living person, under that name. Only the outcome leaves the
    register, never the person's data; each registered number checked is an audited read."""
    purpose = require_purpose(purpose)
    known_provinces = load_reference_data(session).legacy_province_codes
    well_formed = {n for n, _ in claimed if _well_formed(n, known_provinces)}
    found = {p.personal_id_number: p for p in repository.persons_by_pids(session, well_formed)}
    for number in found:
        _audit_read(session, actor, "registry.person.identity_check", number, purpose,
                    {"matched": True})
    matches = []
    for number, name in claimed:
        person = found.get(number)
        matches.append(RegisterMatch(number in well_formed) if person is None else RegisterMatch(
            True, True, person.status == LifeStatus.ALIVE.value,
            None if name is None else person.full_name_folded == fold(name)))
    return matches


def is_personal_id_number(session: Session, number: str) -> bool:
    """Whether `number` has the shape of a personal ID number (12 digits beginning with a
    known old province code): what a form checks before anyone looks the person up."""
    return _well_formed(number, repository.legacy_province_codes(session))


def _well_formed(number: str, known_provinces: frozenset[str]) -> bool:
    try:
        pid.parse(number, known_provinces)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class WardPlace:
    ward_code: str
    ward_name: str
    province_code: str
    province_name: str


def ward(session: Session, ward_code: str) -> WardPlace | None:
    """A current ward and its province (reference data, not audited); None when unknown."""
    found = repository.ward_with_province(session, ward_code)
    return WardPlace(*found) if found else None


@dataclass(frozen=True)
class Relative:
    kind: str  # "parent", "child" or "spouse", seen from the history's person
    person: Person
    since: date | None
    until: date | None


@dataclass(frozen=True)
class HistoryEvent:
    event: CivilStatusEvent
    counterpart_pid: str | None  # the other person in a marriage, divorce or birth


@dataclass
class PersonHistory:
    person: Person
    events: list[HistoryEvent]
    relations: list[tuple[FamilyRelation, Person]]
    household: tuple[Household, HouseholdMember] | None
    id_cards: list[IdCardIssuance] = field(default_factory=list)

    @property
    def relatives(self) -> list[Relative]:
        found = []
        for relation, other in self.relations:
            kind = relation.kind
            if kind == RelationKind.PARENT.value and relation.relative_id == self.person.id:
                kind = "child"
            found.append(Relative(kind, other, relation.since, relation.until))
        return sorted(found, key=lambda r: (r.kind, r.person.date_of_birth))


def person_history(session: Session, actor: Actor, personal_id_number: str,
                   purpose: str) -> PersonHistory:
    purpose = require_purpose(purpose)
    person = _existing_person(session, actor, personal_id_number)
    _audit_read(session, actor, "registry.person.history", personal_id_number, purpose)
    relations = repository.relations_of(session, person.id)
    children = {r.person_id for r, _ in relations
                if r.kind == RelationKind.PARENT.value and r.relative_id == person.id}
    return PersonHistory(
        person, _history_events(session, person, children), relations,
        repository.household_of(session, person.id), repository.id_cards_of(session, person.id),
    )


def _history_events(session: Session, person: Person,
                    children: set[int]) -> list[HistoryEvent]:
    events = repository.events_of(session, person.id, children)
    others = {e.related_person_id if e.person_id == person.id else e.person_id for e in events}
    numbers = repository.pids_by_ids(session, {i for i in others if i is not None})
    return [HistoryEvent(e, _counterpart(e, person, numbers)) for e in events]


def _counterpart(event: CivilStatusEvent, person: Person, numbers: dict[int, str]) -> str | None:
    other = event.related_person_id if event.person_id == person.id else event.person_id
    return numbers.get(other) if other is not None else None


def scope_for(session: Session, *, province_code: str | None = None,
              ward_code: str | None = None) -> Scope:
    """The scope of an official or key working in this province or ward (neither: national),
    checked against the register's administrative units."""
    if province_code and ward_code:
        raise Invalid("scope", "give a province or a ward, not both")
    if ward_code:
        province_of_ward = repository.province_of_ward(session, ward_code)
        if province_of_ward is None:
            raise Invalid("ward", f"unknown ward code '{ward_code}'; use the five-digit codes "
                          "of the 2025 reform, e.g. 00004 for Phường Ba Đình")
        return Scope.ward(province_of_ward, ward_code)
    if province_code:
        if province_code not in {p.code for p in repository.provinces(session)}:
            raise Invalid("province", f"unknown province code '{province_code}'; use the "
                          "current two-digit codes, e.g. 01 for Hà Nội")
        return Scope.province(province_code)
    return Scope.national()


def scope_label(session: Session, scope: Scope) -> str:
    """The scope in words for display: "Phường Ba Đình, Thành phố Hà Nội"."""
    if scope.ward_code:
        labels = repository.ward_labels(session, [scope.ward_code])
        return ", ".join(labels.get(scope.ward_code, (scope.ward_code, "")))
    if scope.province_code:
        names = {p.code: p.name for p in repository.provinces(session)}
        return names.get(scope.province_code, scope.province_code)
    return ""


def outside_scope(session: Session, actor: Actor, place: Scope) -> Forbidden:
    """The refusal of a place beyond the official's scope, both named as people name them
    ("Phường Ba Đình, Thành phố Hà Nội", never a ward's code)."""
    return Forbidden("%(place)s is outside your scope (%(scope)s)",
                     place=scope_label(session, place),
                     scope=scope_label(session, actor.scope) or Message(N_("national")))


def provinces(session: Session) -> list[Province]:
    """The 34 current provinces, by name (reference data: reading them is not audited)."""
    return repository.provinces(session)


def place_names(session: Session, persons: list[Person]) -> dict[str, str]:
    """"Ward, Province" for every ward the given persons live in, for display."""
    codes = {p.permanent_ward_code for p in persons} | {
        p.temporary_ward_code for p in persons if p.temporary_ward_code}
    return {code: f"{ward}, {province}"
            for code, (ward, province) in repository.ward_labels(session, codes).items()}


# --- registration --------------------------------------------------------------------------

@dataclass(frozen=True)
class NewPerson:
    facts: PersonFacts
    place_of_birth: str = ""
    place_of_origin: str = ""
    ethnicity: str = "Kinh"
    nationality: str = "VN"
    permanent_address_line: str = ""
    temporary_address_line: str = ""


def register_person(session: Session, actor: Actor, new: NewPerson,
                    reference: ReferenceData | None = None) -> Person:
    """Add a person who already holds an ID number (e.g. digitising an existing record)."""
    reference = reference or load_reference_data(session)
    errors = person_errors(new.facts, reference, date.today())
    if errors:
        raise Invalid.of_fields(errors)
    ward_code = new.facts.permanent_ward_code
    if not actor.may_see(reference.ward_province[ward_code], ward_code):
        raise Forbidden(f"you may register only people living within your scope ({actor.scope})")
    if repository.pid_exists(session, new.facts.personal_id_number):
        raise Conflict(f"ID number {new.facts.personal_id_number} is already registered")
    person = _insert_person(session, new, reference)
    audit.record(session, actor, "registry.person.create", subject_type="person",
                 subject_id=person.personal_id_number, purpose="registration")
    return person


# The columns of a new person row, in the order person_row gives their values.
PERSON_ROW = (
    "personal_id_number", "full_name", "full_name_folded", "date_of_birth", "sex",
    "place_of_birth_province_code", "place_of_birth", "place_of_origin", "ethnicity",
    "nationality", "permanent_ward_code", "permanent_province_code", "permanent_address_line",
    "temporary_ward_code", "temporary_address_line", "phone", "status", "date_of_death",
    "version", "import_run_id", "created_at", "updated_at",
)


def person_row(new: NewPerson, reference: ReferenceData, moment: datetime,
               import_run_id: int | None = None) -> tuple[Any, ...]:
    """Values of a new person row in PERSON_ROW order: one definition for single and bulk
    registration (a tuple, because bulk registration makes hundreds of thousands of them)."""
    facts = new.facts
    return (
        facts.personal_id_number, " ".join(facts.full_name.split()), fold(facts.full_name),
        facts.date_of_birth, facts.sex.value, facts.place_of_birth_province_code,
        new.place_of_birth, new.place_of_origin, new.ethnicity, new.nationality,
        facts.permanent_ward_code, reference.ward_province[facts.permanent_ward_code],
        new.permanent_address_line, facts.temporary_ward_code, new.temporary_address_line,
        facts.phone, LifeStatus.ALIVE.value, None, 1, import_run_id, moment, moment,
    )


def _insert_person(session: Session, new: NewPerson, reference: ReferenceData) -> Person:
    values = dict(zip(PERSON_ROW, person_row(new, reference, now()), strict=True))
    del values["version"]  # the mapper's version counter sets it on insert
    person = Person(**values)
    session.add(person)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"ID number {person.personal_id_number} is already registered") from exc
    return person


def allocate_personal_id_number(session: Session, legacy_province_code: str, birth_year: int,
                                sex: Sex) -> str:
    """Next free number for the prefix; the counter row is locked so two births never collide."""
    prefix = pid.compose_prefix(legacy_province_code, birth_year, sex)
    counter = repository.locked_counter(session, prefix)
    if counter is None:
        highest = repository.highest_serial(session, prefix)
        counter = PidSerialCounter(prefix=prefix, next_serial=0 if highest is None else highest + 1)
        session.add(counter)
    while True:
        if counter.next_serial >= pid.SERIAL_LIMIT:
            raise Conflict(f"no serial numbers left for prefix {prefix}")
        candidate = f"{prefix}{counter.next_serial:06d}"
        counter.next_serial += 1
        if not repository.pid_exists(session, candidate):
            session.flush()
            return candidate


# --- civil-status events -------------------------------------------------------------------

def _event(session: Session, actor: Actor, person: Person, kind: EventKind, occurred_on: date,
           detail: dict[str, Any], related: Person | None = None) -> CivilStatusEvent:
    if occurred_on > date.today():
        in_the_future = Message(N_("%(day)s is in the future"), day=occurred_on)
        raise Invalid("occurred_on", in_the_future)
    event = CivilStatusEvent(
        person_id=person.id, kind=kind.value, occurred_on=occurred_on, recorded_at=now(),
        recorded_by=str(actor), related_person_id=related.id if related else None,
        detail={k: (v.isoformat() if isinstance(v, date) else v) for k, v in detail.items()},
    )
    session.add(event)
    person.updated_at = now()
    session.flush()
    audit.record(session, actor, f"registry.event.{kind.value}", subject_type="person",
                 subject_id=person.personal_id_number, purpose="civil status registration",
                 detail={"event_id": event.id, "related": related.personal_id_number
                         if related else None})
    return event


def _also_for_spouse(session: Session, actor: Actor, spouse: Person, event: CivilStatusEvent,
                     recorded_for: Person) -> None:
    """A marriage or divorce changes both records: the other spouse's version moves on too,
    and the event is in their audit trail ("who used my data") as well."""
    spouse.updated_at = now()
    audit.record(session, actor, f"registry.event.{event.kind}", subject_type="person",
                 subject_id=spouse.personal_id_number, purpose="civil status registration",
                 detail={"event_id": event.id, "related": recorded_for.personal_id_number})


def _require_alive(person: Person, role: str) -> None:
    if person.status != LifeStatus.ALIVE.value:
        raise Conflict("%(role)s %(pid)s is recorded as deceased (died %(died_on)s)",
                       role=Message(role), pid=person.personal_id_number,
                       died_on=person.date_of_death)


@dataclass(frozen=True)
class Birth:
    full_name: str
    date_of_birth: date
    sex: Sex
    birth_ward_code: str
    mother_pid: str | None = None
    father_pid: str | None = None
    place_of_birth: str = ""
    ethnicity: str = "Kinh"


def record_birth(session: Session, actor: Actor, birth: Birth) -> Person:
    """A birth creates the person with a new ID number, links the parents, joins their household."""
    if not (birth.mother_pid or birth.father_pid):
        raise Invalid("mother_pid", "a birth names at least one parent")
    reference = load_reference_data(session)
    if birth.birth_ward_code not in reference.ward_province:
        unknown = Message(N_("unknown ward code '%(code)s'"), code=birth.birth_ward_code)
        raise Invalid("birth_ward_code", unknown)
    parents = _parents(session, actor, birth)
    province = reference.ward_province[birth.birth_ward_code]
    legacy_code = _legacy_code_for(reference, province)
    number = allocate_personal_id_number(session, legacy_code, birth.date_of_birth.year, birth.sex)
    residence = parents[0][1]
    child = register_person(session, actor, NewPerson(
        PersonFacts(number, birth.full_name, birth.date_of_birth, birth.sex, province,
                    residence.permanent_ward_code),
        place_of_birth=birth.place_of_birth, place_of_origin=residence.place_of_origin,
        ethnicity=birth.ethnicity, permanent_address_line=residence.permanent_address_line,
    ), reference)
    for _role, parent in parents:
        session.add(FamilyRelation(person_id=child.id, relative_id=parent.id,
                                   kind=RelationKind.PARENT.value, since=birth.date_of_birth))
    _join_parents_household(session, child, residence)
    _event(session, actor, child, EventKind.BIRTH, birth.date_of_birth,
           {"ward_code": birth.birth_ward_code, "parents": {r: p.personal_id_number
                                                           for r, p in parents}})
    return child


def _parents(session: Session, actor: Actor, birth: Birth) -> list[tuple[str, Person]]:
    parents: list[tuple[str, Person]] = []
    for role, number in ((N_("mother"), birth.mother_pid), (N_("father"), birth.father_pid)):
        if number:
            parent = _existing_person(session, actor, number)
            if parent.date_of_birth >= birth.date_of_birth:
                too_young = Message(N_("%(role)s %(pid)s was born after the child"),
                                    role=Message(role), pid=number)
                raise Invalid(f"{role}_pid", too_young)
            parents.append((role, parent))
    return parents


def _legacy_code_for(reference: ReferenceData, province_code: str) -> str:
    # New numbers still use a pre-reform code: the province's own old code where it kept it
    # (every merged province kept one member's code), else the lowest code merged into it.
    if reference.province_successor.get(province_code) == province_code:
        return province_code
    return min(old for old, new in reference.province_successor.items() if new == province_code)


def _join_parents_household(session: Session, child: Person, parent: Person) -> None:
    found = repository.household_of(session, parent.id)
    if found:
        session.add(HouseholdMember(person_id=child.id, household_id=found[0].id,
                                    relation_to_head="child" if found[1].relation_to_head in
                                    ("head", "spouse") else "grandchild"))


def record_marriage(session: Session, actor: Actor, first_pid: str, second_pid: str,
                    occurred_on: date) -> FamilyRelation:
    if first_pid == second_pid:
        raise Invalid("second_pid", "a person cannot marry themself")
    spouses = [_existing_person(session, actor, n, lock=True) for n in (first_pid, second_pid)]
    for person in spouses:
        _require_alive(person, N_("spouse"))
        _require_marriage_age(person, occurred_on)
        if repository.current_spouse_relation(session, person.id):
            raise Conflict("%(pid)s is already married", pid=person.personal_id_number)
    relation = FamilyRelation(person_id=spouses[0].id, relative_id=spouses[1].id,
                              kind=RelationKind.SPOUSE.value, since=occurred_on)
    session.add(relation)
    event = _event(session, actor, spouses[0], EventKind.MARRIAGE, occurred_on, {},
                   related=spouses[1])
    _also_for_spouse(session, actor, spouses[1], event, spouses[0])
    return relation


def _require_marriage_age(person: Person, on: date) -> None:
    minimum = MARRIAGE_MIN_AGE[Sex(person.sex)]
    if age_on(person.date_of_birth, on) < minimum:
        under_age = Message(N_("%(pid)s is under the marriage age of %(age)s on %(day)s"),
                            pid=person.personal_id_number, age=minimum, day=on)
        raise Invalid("occurred_on", under_age)


def may_have_married(personal_id_number: str, on: date) -> bool:
    """Whether the holder of a well-formed number can have reached the marriage age by `on`,
    from the birth year and sex the number carries: no register read (and no audit entry) to
    know that a 15-year-old is not to be offered a marriage certificate."""
    birth_year, sex = pid.birth_year_and_sex(personal_id_number)
    return on.year - birth_year >= MARRIAGE_MIN_AGE[sex]


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def record_divorce(session: Session, actor: Actor, first_pid: str, second_pid: str,
                   occurred_on: date) -> FamilyRelation:
    first = _existing_person(session, actor, first_pid, lock=True)
    second = _existing_person(session, actor, second_pid, lock=True)
    relation = repository.current_spouse_relation(session, first.id)
    if relation is None or second.id not in (relation.person_id, relation.relative_id):
        raise Conflict(f"{first_pid} and {second_pid} are not married to each other")
    if relation.since and occurred_on < relation.since:
        raise Invalid("occurred_on", f"divorce on {occurred_on} precedes the marriage")
    relation.until = occurred_on
    event = _event(session, actor, first, EventKind.DIVORCE, occurred_on, {}, related=second)
    _also_for_spouse(session, actor, second, event, first)
    return relation


@dataclass(frozen=True)
class PersonDied:
    """The register recorded a death. Announced in the transaction that records it (and again
    by `replay_death`): every domain that holds something of the person acts on it then, so
    each subscriber must be idempotent (docs/architecture.md, "Life events")."""

    personal_id_number: str
    died_on: date


def record_death(session: Session, actor: Actor, personal_id_number: str, occurred_on: date,
                 cause: str = "") -> Person:
    """Marks the person deceased and ends a marriage; every domain holding something of the
    person reacts to `PersonDied` in this transaction. A second death is refused."""
    person = _existing_person(session, actor, personal_id_number, lock=True)
    _require_alive(person, N_("person"))
    if occurred_on < person.date_of_birth:
        before_birth = Message(N_("death on %(day)s precedes birth"), day=occurred_on)
        raise Invalid("occurred_on", before_birth)
    # Query before changing the person: an autoflush mid-way would bump the version twice.
    marriage = repository.current_spouse_relation(session, person.id)
    person.status, person.date_of_death = LifeStatus.DECEASED.value, occurred_on
    if marriage:
        marriage.until = occurred_on
    _event(session, actor, person, EventKind.DEATH, occurred_on, {"cause": cause})
    events.announce(session, PersonDied(personal_id_number, occurred_on))
    return person


def replay_death(session: Session, actor: Actor, personal_id_number: str) -> None:
    """Announce a recorded death again, for a consistency check that found a domain still
    holding something of the person (a death recorded before a domain subscribed, say): the
    subscribers are idempotent, so whatever was already done stays as it is."""
    person = _existing_person(session, actor, personal_id_number)
    if person.status != LifeStatus.DECEASED.value or person.date_of_death is None:
        raise Conflict(f"{personal_id_number} is not recorded as deceased")
    audit.record(session, actor, "registry.death.replay", subject_type="person",
                 subject_id=personal_id_number, purpose="life events: consistency check")
    events.announce(session, PersonDied(personal_id_number, person.date_of_death))


@dataclass(frozen=True)
class ResidenceChange:
    personal_id_number: str
    kind: str  # "permanent" or "temporary"
    ward_code: str | None
    address_line: str
    occurred_on: date


def record_residence_change(session: Session, actor: Actor, change: ResidenceChange) -> Person:
    person = _existing_person(session, actor, change.personal_id_number, lock=True)
    _require_alive(person, N_("person"))
    reference = load_reference_data(session)
    if change.kind not in ("permanent", "temporary"):
        raise Invalid("kind", "must be 'permanent' or 'temporary'")
    if change.ward_code is not None and change.ward_code not in reference.ward_province:
        raise Invalid("ward_code", f"unknown ward code '{change.ward_code}'")
    if change.kind == "permanent":
        if change.ward_code is None:
            raise Invalid("ward_code", "a permanent residence needs a ward")
        before: dict[str, str | None] = {"ward_code": person.permanent_ward_code,
                                         "line": person.permanent_address_line}
        person.permanent_ward_code = change.ward_code
        person.permanent_province_code = reference.ward_province[change.ward_code]
        person.permanent_address_line = change.address_line
    else:
        before = {"ward_code": person.temporary_ward_code, "line": person.temporary_address_line}
        person.temporary_ward_code = change.ward_code
        person.temporary_address_line = change.address_line if change.ward_code else ""
    _event(session, actor, person, EventKind.RESIDENCE_CHANGE, change.occurred_on,
           {"kind": change.kind, "from": before,
            "to": {"ward_code": change.ward_code, "line": change.address_line}})
    return person


# --- households and ID cards ------------------------------------------------------------

def create_household(session: Session, actor: Actor, household_code: str, head_pid: str,
                     address_line: str = "") -> Household:
    head = _existing_person(session, actor, head_pid)
    if repository.household_by_code(session, household_code):
        raise Conflict(f"household {household_code} already exists")
    if repository.household_of(session, head.id):
        raise Conflict(f"{head_pid} already belongs to a household")
    household = Household(household_code=household_code, ward_code=head.permanent_ward_code,
                          address_line=address_line or head.permanent_address_line,
                          created_at=now())
    session.add(household)
    session.flush()
    session.add(HouseholdMember(person_id=head.id, household_id=household.id,
                                relation_to_head="head"))
    audit.record(session, actor, "registry.household.create", subject_type="household",
                 subject_id=household_code, purpose="household registration",
                 detail={"head": head_pid})
    return household


def add_household_member(session: Session, actor: Actor, household_code: str, member_pid: str,
                         relation_to_head: str) -> HouseholdMember:
    household = repository.household_by_code(session, household_code)
    if household is None:
        raise NotFound(f"no household {household_code}")
    person = _existing_person(session, actor, member_pid)
    if repository.household_of(session, person.id):
        raise Conflict(f"{member_pid} already belongs to a household")
    member = HouseholdMember(person_id=person.id, household_id=household.id,
                             relation_to_head=relation_to_head)
    session.add(member)
    audit.record(session, actor, "registry.household.add_member", subject_type="household",
                 subject_id=household_code, purpose="household registration",
                 detail={"member": member_pid, "relation": relation_to_head})
    return member


@dataclass(frozen=True)
class IdCard:
    card_number: str
    issued_on: date
    expires_on: date | None
    issuing_authority: str
    photo_ref: str = ""


class CardEnd(enum.StrEnum):
    """How an ID card stops being valid before its expiry date (Law on Identification 2023,
    art. 28): its holder reports it lost, or the police revoke it (issued in error, taken by
    fraud, the holder's citizenship lost)."""

    LOST = "lost"
    REVOKED = "revoked"


@dataclass(frozen=True)
class IdCardRevoked:
    """A person's active ID card stopped being valid (lost or revoked). Announced in the
    transaction that records it; whatever rested on the card (eID level 2, the wallet's ID
    card) reacts then."""

    personal_id_number: str
    card_number: str
    ending: CardEnd


def end_id_card(session: Session, actor: Actor, personal_id_number: str, card_number: str,
                ending: CardEnd, reason: str) -> IdCardIssuance:
    """The police record that the person's active card is lost or revoked. A card already
    ended, replaced or unknown is refused, so a replayed request changes nothing twice."""
    actor.require(Permission.REGISTRY_ID_CARDS)
    person = _existing_person(session, actor, personal_id_number, lock=True)
    card = next((c for c in repository.id_cards_of(session, person.id)
                 if c.card_number == card_number), None)
    if card is None:
        raise NotFound(f"no ID card {card_number} of {personal_id_number}")
    if card.status != "active":
        raise Conflict(f"ID card {card_number} is already {card.status}")
    card.status = ending.value
    audit.record(session, actor, f"registry.id_card.{ending.value}", subject_type="person",
                 subject_id=personal_id_number, purpose=reason,
                 detail={"card_number": card_number})
    events.announce(session, IdCardRevoked(personal_id_number, card_number, ending))
    return card


def issue_id_card(session: Session, actor: Actor, personal_id_number: str,
                  card: IdCard) -> IdCardIssuance:
    """A new card replaces the person's active one."""
    person = _existing_person(session, actor, personal_id_number)
    _require_alive(person, N_("person"))
    if card.expires_on and card.expires_on <= card.issued_on:
        raise Invalid("expires_on", "must be after the issue date")
    for previous in repository.id_cards_of(session, person.id):
        if previous.status == "active":
            previous.status = "replaced"
    issuance = IdCardIssuance(person_id=person.id, card_number=card.card_number,
                              issued_on=card.issued_on, expires_on=card.expires_on,
                              issuing_authority=card.issuing_authority, photo_ref=card.photo_ref)
    session.add(issuance)
    audit.record(session, actor, "registry.id_card.issue", subject_type="person",
                 subject_id=personal_id_number, purpose="ID card issuance",
                 detail={"card_number": card.card_number})
    return issuance
