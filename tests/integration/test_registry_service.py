"""Register rules through the service: registration, audited reads, civil-status events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.errors import Conflict, Invalid, NotFound
from civicstack.registry import pid, service
from civicstack.registry.models import CivilStatusEvent, Person, Sex
from civicstack.registry.rules import PersonFacts
from civicstack.registry.units import legacy_province_codes
from tests.support.people import CLERK, make_person, ward_in

PURPOSE = "verifying a birth registration dossier"


def _audit_actions(session: Session, subject_id: str) -> list[str]:
    return list(session.execute(
        select(AuditEntry.action).where(AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.seq)).scalars())


def _event_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(CivilStatusEvent)).scalar_one())


def _parents(session: Session) -> tuple[Person, Person]:
    father = make_person(session, "Trần Văn Bình", date(1985, 2, 1), Sex.MALE)
    mother = make_person(session, "Lê Thị Cúc", date(1987, 8, 9), Sex.FEMALE)
    service.create_household(session, CLERK, "HH-0001", father.personal_id_number)
    service.add_household_member(session, CLERK, "HH-0001", mother.personal_id_number, "spouse")
    return father, mother


def test_registered_person_is_readable_and_the_read_is_audited(session: Session) -> None:
    person = make_person(session)
    read = service.get_person(session, CLERK, person.personal_id_number, PURPOSE)
    assert read.full_name == "Nguyễn Văn An"
    assert read.version == 1
    assert _audit_actions(session, person.personal_id_number) == [
        "registry.person.create", "registry.person.read"]
    entry = session.execute(select(AuditEntry).where(
        AuditEntry.action == "registry.person.read")).scalar_one()
    assert (entry.actor, entry.purpose) == ("test:registry-clerk", PURPOSE)


def test_read_without_a_real_purpose_is_refused(session: Session) -> None:
    person = make_person(session)
    with pytest.raises(Invalid, match="purpose"):
        service.get_person(session, CLERK, person.personal_id_number, "  ok ")


def test_official_outside_the_province_scope_cannot_read(session: Session) -> None:
    person = make_person(session)
    hcmc_clerk = Actor("official", "hcmc", Scope.province("79"), Role.SERVICE_CLERK)
    with pytest.raises(NotFound, match="in your scope"):
        service.get_person(session, hcmc_clerk, person.personal_id_number, PURPOSE)
    assert service.search_persons(session, hcmc_clerk, PURPOSE, text="Nguyen") == []


def test_unknown_number_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="001190999999"):
        service.get_person(session, CLERK, "001190999999", PURPOSE)


def test_search_ignores_accents_and_filters_by_birth_date(session: Session) -> None:
    make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    make_person(session, "Nguyễn Văn Anh", date(1991, 1, 2))
    make_person(session, "Phạm Thị Hoa", date(1990, 5, 17), Sex.FEMALE)
    found = service.search_persons(session, CLERK, PURPOSE, text="nguyen van an")
    assert [p.full_name for p in found] == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    dated = service.search_persons(session, CLERK, PURPOSE, text="Nguyễn",
                                   date_of_birth=date(1991, 1, 2))
    assert [p.full_name for p in dated] == ["Nguyễn Văn Anh"]
    assert service.search_persons(session, CLERK, PURPOSE, text="Nguyễn",
                                  province_code="79") == []


@pytest.mark.parametrize("typed", ["nguyen van an", "van a", "VĂN AN", "an nguyen"])
def test_search_finds_any_part_of_the_name_with_or_without_diacritics(
        session: Session, typed: str) -> None:
    an = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    make_person(session, "Phạm Thị Hoa", date(1990, 5, 17), Sex.FEMALE)
    found = service.search_persons(session, CLERK, PURPOSE, text=typed)
    assert [p.personal_id_number for p in found] == [an.personal_id_number]


def test_search_tolerates_a_typing_mistake_and_ranks_the_closest_name_first(
        session: Session) -> None:
    an = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    make_person(session, "Nguyễn Thị Bình", date(1992, 3, 4), Sex.FEMALE)
    found = service.search_persons(session, CLERK, PURPOSE, text="Nguyen Vna An")
    assert [p.personal_id_number for p in found] == [an.personal_id_number]
    exact_first = service.search_persons(session, CLERK, PURPOSE, text="nguyen")
    assert [p.full_name for p in exact_first] == ["Nguyễn Văn An", "Nguyễn Thị Bình"]


def test_search_finds_by_id_number_phone_or_address(session: Session) -> None:
    an = make_person(session, "Nguyễn Văn An", date(1990, 5, 17), phone="0987654321")
    binh = make_person(session, "Trần Văn Bình", date(1985, 2, 1), phone="+84912000111")

    def numbers(typed: str) -> list[str]:
        return [p.personal_id_number
                for p in service.search_persons(session, CLERK, PURPOSE, text=typed)]

    assert numbers(an.personal_id_number) == [an.personal_id_number]
    assert numbers("0987 654 321") == [an.personal_id_number]
    assert numbers("0912000111") == [binh.personal_id_number]  # stored as +84...
    assert numbers("phố huế") == [an.personal_id_number, binh.personal_id_number]
    assert numbers("0900000000") == []


def test_search_hits_outside_the_scope_stay_hidden_and_each_hit_is_audited(
        session: Session) -> None:
    an = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    make_person(session, "Nguyễn Văn Ân", date(1991, 1, 1), province_code="79",
                legacy_province_code="79")
    hanoi_clerk = Actor("official", "hanoi", Scope.province("01"), Role.SERVICE_CLERK)
    found = service.search_persons(session, hanoi_clerk, PURPOSE, text="van an")
    assert [p.personal_id_number for p in found] == [an.personal_id_number]
    assert _audit_actions(session, an.personal_id_number)[-1] == "registry.person.search_hit"


def _facts(session: Session, **changes: object) -> PersonFacts:
    base = {"personal_id_number": pid.compose("01", 1990, Sex.MALE, 424242),
                "full_name": "Đỗ Minh Quân", "date_of_birth": date(1990, 1, 1), "sex": Sex.MALE,
                "place_of_birth_province_code": "01",
                "permanent_ward_code": ward_in(session), "temporary_ward_code": None, "phone": None}
    base.update(changes)
    return PersonFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "field"), [
    ({"date_of_birth": date(1991, 1, 1)}, "date_of_birth"),
    ({"sex": Sex.FEMALE}, "sex"),
    ({"place_of_birth_province_code": "79"}, "place_of_birth_province_code"),
    ({"personal_id_number": "003190424242"}, "personal_id_number"),
    ({"permanent_ward_code": "99999"}, "permanent_ward_code"),
    ({"date_of_birth": date.today() + timedelta(days=1)}, "date_of_birth"),
    ({"phone": "12345"}, "phone"),
])
def test_registration_refuses_data_inconsistent_with_the_number(
    session: Session, changes: dict[str, object], field: str,
) -> None:
    with pytest.raises(Invalid) as refusal:
        service.register_person(session, CLERK, service.NewPerson(_facts(session, **changes)))
    assert field in [e.field for e in refusal.value.errors]
    assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 0


def test_duplicate_number_is_a_conflict(session: Session) -> None:
    service.register_person(session, CLERK, service.NewPerson(_facts(session)))
    with pytest.raises(Conflict, match="already registered"):
        service.register_person(session, CLERK, service.NewPerson(_facts(session)))


def test_birth_creates_a_person_with_a_fresh_consistent_number(session: Session) -> None:
    father, mother = _parents(session)
    ward = ward_in(session, "79")
    born = date(2024, 3, 3)
    first = service.record_birth(session, CLERK, service.Birth(
        "Trần Minh Khang", born, Sex.MALE, ward, mother.personal_id_number,
        father.personal_id_number))
    twin = service.record_birth(session, CLERK, service.Birth(
        "Trần Minh Khôi", born, Sex.MALE, ward, mother.personal_id_number,
        father.personal_id_number))
    assert first.personal_id_number != twin.personal_id_number
    parts = pid.parse(first.personal_id_number, legacy_province_codes())
    assert (parts.birth_year, parts.sex, parts.province_code) == (2024, Sex.MALE, "79")
    assert first.place_of_birth_province_code == "79"
    assert first.permanent_ward_code == father.permanent_ward_code  # lives with the parents
    history = service.person_history(session, CLERK, first.personal_id_number, PURPOSE)
    assert [e.event.kind for e in history.events] == ["birth"]
    assert {(r.kind, r.person.full_name) for r in history.relatives} == {
        ("parent", "Trần Văn Bình"), ("parent", "Lê Thị Cúc")}
    assert history.household is not None
    assert history.household[0].household_code == "HH-0001"
    father_view = service.person_history(session, CLERK, father.personal_id_number, PURPOSE)
    assert sorted(r.person.full_name for r in father_view.relatives if r.kind == "child") == [
        "Trần Minh Khang", "Trần Minh Khôi"]


def test_allocation_skips_numbers_already_taken_by_imports(session: Session) -> None:
    taken = make_person(session, "Võ Văn Tám", date(2020, 1, 1), Sex.MALE, "79", "79")
    prefix = taken.personal_id_number[:6]
    serials = {service.allocate_personal_id_number(session, "79", 2020, Sex.MALE)[6:]
               for _ in range(3)}
    assert len(serials) == 3
    assert taken.personal_id_number[6:] not in serials
    assert all(int(s) > int(taken.personal_id_number[6:]) for s in serials), prefix


def test_birth_before_a_parent_was_born_is_refused(session: Session) -> None:
    father, _ = _parents(session)
    with pytest.raises(Invalid, match="born after"):
        service.record_birth(session, CLERK, service.Birth(
            "Trần Văn Sai", date(1980, 1, 1), Sex.MALE, ward_in(session),
            father_pid=father.personal_id_number))


def test_marriage_then_divorce_are_history(session: Session) -> None:
    father, mother = _parents(session)
    a, b = father.personal_id_number, mother.personal_id_number
    service.record_marriage(session, CLERK, a, b, date(2010, 6, 1))
    with pytest.raises(Conflict, match="already married"):
        service.record_marriage(session, CLERK, b, a, date(2011, 6, 1))
    service.record_divorce(session, CLERK, b, a, date(2015, 6, 1))
    history = service.person_history(session, CLERK, b, PURPOSE)
    assert [(e.event.kind, e.counterpart_pid) for e in history.events] == [
        ("marriage", a), ("divorce", a)]
    spouse = next(r for r in history.relatives if r.kind == "spouse")
    assert (spouse.since, spouse.until) == (date(2010, 6, 1), date(2015, 6, 1))


def test_marriage_and_divorce_change_both_records_and_both_trails(session: Session) -> None:
    father, mother = _parents(session)
    versions = (father.version, mother.version)
    service.record_marriage(session, CLERK, father.personal_id_number,
                            mother.personal_id_number, date(2010, 6, 1))
    session.flush()
    assert (father.version, mother.version) == (versions[0] + 1, versions[1] + 1)
    service.record_divorce(session, CLERK, mother.personal_id_number,
                           father.personal_id_number, date(2015, 6, 1))
    session.flush()
    assert (father.version, mother.version) == (versions[0] + 2, versions[1] + 2)
    for spouse in (father, mother):
        actions = _audit_actions(session, spouse.personal_id_number)
        assert "registry.event.marriage" in actions
        assert "registry.event.divorce" in actions


def test_divorce_of_people_not_married_to_each_other_is_refused(session: Session) -> None:
    father, mother = _parents(session)
    with pytest.raises(Conflict, match="not married"):
        service.record_divorce(session, CLERK, father.personal_id_number,
                               mother.personal_id_number, date(2015, 1, 1))


def test_marriage_under_the_legal_age_is_refused(session: Session) -> None:
    young = make_person(session, "Bùi Văn Nhỏ", date(2008, 1, 1), Sex.MALE)
    partner = make_person(session, "Bùi Thị Lan", date(2000, 1, 1), Sex.FEMALE)
    with pytest.raises(Invalid, match="marriage age of 20"):
        service.record_marriage(session, CLERK, young.personal_id_number,
                                partner.personal_id_number, date(2025, 1, 1))


def test_death_recorded_twice_is_refused_and_changes_nothing(session: Session) -> None:
    father, mother = _parents(session)
    service.record_marriage(session, CLERK, father.personal_id_number,
                            mother.personal_id_number, date(2010, 6, 1))
    dead = service.record_death(session, CLERK, father.personal_id_number, date(2024, 1, 5))
    # One version per change: registration, marriage, death.
    assert (dead.status, dead.date_of_death, dead.version) == ("deceased", date(2024, 1, 5), 3)
    events_before = _event_count(session)
    with pytest.raises(Conflict, match=f"{father.personal_id_number} is recorded as deceased"):
        service.record_death(session, CLERK, father.personal_id_number, date(2024, 2, 1))
    assert _event_count(session) == events_before
    widow = service.person_history(session, CLERK, mother.personal_id_number, PURPOSE)
    assert next(r for r in widow.relatives if r.kind == "spouse").until == date(2024, 1, 5)
    with pytest.raises(Conflict, match="deceased"):
        service.record_marriage(session, CLERK, mother.personal_id_number,
                                father.personal_id_number, date(2024, 3, 1))


def test_residence_change_updates_person_and_keeps_the_old_address(session: Session) -> None:
    person = make_person(session)
    old_ward, new_ward = person.permanent_ward_code, ward_in(session, "79")
    service.record_residence_change(session, CLERK, service.ResidenceChange(
        person.personal_id_number, "permanent", new_ward, "5 Lê Lợi", date(2025, 8, 1)))
    assert (person.permanent_ward_code, person.permanent_province_code) == (new_ward, "79")
    history = service.person_history(session, CLERK, person.personal_id_number, PURPOSE)
    moved = history.events[-1].event
    assert moved.detail["from"]["ward_code"] == old_ward
    assert moved.detail["to"]["line"] == "5 Lê Lợi"
    with pytest.raises(Invalid, match="unknown ward"):
        service.record_residence_change(session, CLERK, service.ResidenceChange(
            person.personal_id_number, "temporary", "99999", "x", date(2025, 9, 1)))


def test_future_event_is_refused(session: Session) -> None:
    person = make_person(session)
    with pytest.raises(Invalid, match="future"):
        service.record_death(session, CLERK, person.personal_id_number,
                             date.today() + timedelta(days=2))


def test_id_card_issuance_replaces_the_previous_card(session: Session) -> None:
    person = make_person(session)
    number = person.personal_id_number
    service.issue_id_card(session, CLERK, number, service.IdCard(
        number, date(2016, 1, 1), date(2030, 5, 17), "Cục Cảnh sát QLHC về TTXH"))
    service.issue_id_card(session, CLERK, number, service.IdCard(
        number, date(2024, 7, 1), date(2030, 5, 17), "Bộ Công an"))
    cards = service.person_history(session, CLERK, number, PURPOSE).id_cards
    assert [(c.issuing_authority, c.status) for c in cards] == [
        ("Bộ Công an", "active"), ("Cục Cảnh sát QLHC về TTXH", "replaced")]


def test_civil_status_events_cannot_be_rewritten(session: Session, engine: Engine) -> None:
    person = make_person(session)
    service.record_death(session, CLERK, person.personal_id_number, date(2024, 1, 5))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE civil_status_event SET occurred_on = '2020-01-01'"))
