"""The register's civil-status forms in the console: a clerk records a birth, a marriage and a
death with the API's rules, and a household is shown with its members."""

from __future__ import annotations

from datetime import date

from httpx import Response
from sqlalchemy import select

from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry import service
from civicstack.registry.models import CivilStatusEvent, Person, Sex
from tests.support.people import CLERK, make_person, ward_in
from tests.support.web import Site

PURPOSE = "checking a household registration"


def _person(site: Site, number: str) -> Person:
    with transaction(site.services.session_factory) as session:
        person = session.execute(select(Person).where(
            Person.personal_id_number == number)).scalar_one()
        session.expunge(person)
        return person


def _family(site: Site) -> tuple[Person, Person]:
    with transaction(site.services.session_factory) as session:
        father = make_person(session, "Trần Văn Bình", date(1985, 2, 1), Sex.MALE)
        mother = make_person(session, "Lê Thị Cúc", date(1987, 8, 9), Sex.FEMALE)
        service.create_household(session, CLERK, "HH-0042", father.personal_id_number)
        service.add_household_member(session, CLERK, "HH-0042", mother.personal_id_number,
                                     "spouse")
        return father, mother


def _post(site: Site, path: str, **fields: str) -> Response:
    return site.client.post(path, data={"csrf_token": site.csrf(path), **fields},
                            follow_redirects=False)


def test_a_clerk_records_a_birth_and_the_child_joins_the_household(site: Site) -> None:
    father, mother = _family(site)
    site.sign_in_as(Role.SERVICE_CLERK)
    response = site.client.post("/console/registry/births", data={
        "csrf_token": site.csrf("/console/registry/births"), "full_name": "Trần Minh Khôi",
        "date_of_birth": "2025-03-04", "sex": "M", "birth_ward_code": father.permanent_ward_code,
        "mother_pid": mother.personal_id_number, "father_pid": father.personal_id_number,
    }, follow_redirects=False)
    assert response.status_code == 303, response.text
    child_page = site.client.get(response.headers["location"] + "&lang=en")
    assert "Trần Minh Khôi" in child_page.text
    household = site.client.get("/console/registry/households/HH-0042",
                                params={"purpose": PURPOSE, "lang": "en"})
    assert household.status_code == 200
    for member in ("Trần Minh Khôi", "Trần Văn Bình", "Lê Thị Cúc"):
        assert member in household.text
    assert f"/console/registry/persons/{mother.personal_id_number}?purpose=" in household.text


def test_a_refused_birth_shows_the_summary_and_the_error_next_to_its_field(site: Site) -> None:
    father, _ = _family(site)
    site.sign_in_as(Role.SERVICE_CLERK)
    response = site.client.post("/console/registry/births", data={
        "csrf_token": site.csrf("/console/registry/births"), "full_name": "Trần Minh Khôi",
        "date_of_birth": "1980-03-04", "sex": "F", "birth_ward_code": father.permanent_ward_code,
        "father_pid": father.personal_id_number,
    }, follow_redirects=False)
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'id="father_pid-error"' in response.text
    assert f"cha {father.personal_id_number} sinh sau trẻ" in response.text  # the page's language
    assert 'value="Trần Minh Khôi"' in response.text  # what was typed is kept


def test_a_death_is_recorded_only_after_confirmation(site: Site) -> None:
    father, mother = _family(site)
    with transaction(site.services.session_factory) as session:
        service.record_marriage(session, CLERK, father.personal_id_number,
                                mother.personal_id_number, date(2010, 1, 1))
    site.sign_in_as(Role.SERVICE_CLERK)
    asked = _post(site, "/console/registry/deaths", personal_id_number=father.personal_id_number,
                  occurred_on="2025-01-02", cause="")
    assert asked.status_code == 200
    assert "Trần Văn Bình" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert _person(site, father.personal_id_number).status == "alive"

    confirmed = _post(site, "/console/registry/deaths",
                      personal_id_number=father.personal_id_number, occurred_on="2025-01-02",
                      cause="", confirmed="yes")
    assert confirmed.status_code == 303
    dead = _person(site, father.personal_id_number)
    assert (dead.status, dead.date_of_death) == ("deceased", date(2025, 1, 2))
    with transaction(site.services.session_factory) as session:
        kinds = session.execute(select(CivilStatusEvent.kind).where(
            CivilStatusEvent.person_id == dead.id)).scalars().all()
        assert "death" in kinds
        widow = service.person_history(session, CLERK, mother.personal_id_number, PURPOSE)
        assert [r.until for r in widow.relatives if r.kind == "spouse"] == [date(2025, 1, 2)]


def test_an_unknown_number_is_refused_next_to_its_field_before_any_confirmation(
        site: Site) -> None:
    site.sign_in_as(Role.SERVICE_CLERK)
    response = _post(site, "/console/registry/deaths", personal_id_number="001190999999",
                     occurred_on="2025-01-02")
    assert response.status_code == 404
    assert 'id="personal_id_number-error"' in response.text


def test_a_clerk_records_a_marriage_with_the_api_s_age_rule(site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        groom = make_person(session, "Phạm Văn Đức", date(1995, 1, 1), Sex.MALE)
        bride = make_person(session, "Vũ Thị Em", date(2006, 6, 1), Sex.FEMALE)
    site.sign_in_as(Role.SERVICE_CLERK)
    too_young = _post(site, "/console/registry/marriages", first_pid=groom.personal_id_number,
                      second_pid=bride.personal_id_number, occurred_on="2024-01-02")
    assert too_young.status_code == 422
    assert 'id="occurred_on-error"' in too_young.text
    recorded = _post(site, "/console/registry/marriages", first_pid=groom.personal_id_number,
                     second_pid=bride.personal_id_number, occurred_on="2025-01-02")
    assert recorded.status_code == 303
    with transaction(site.services.session_factory) as session:
        history = service.person_history(session, CLERK, bride.personal_id_number, PURPOSE)
        assert [r.person.full_name for r in history.relatives if r.kind == "spouse"] == [
            "Phạm Văn Đức"]


def test_officials_without_the_civil_status_permission_get_no_form(site: Site) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    assert site.client.get("/console/registry/deaths").status_code == 403
    refused = site.client.post("/console/registry/births", follow_redirects=False, data={
        "csrf_token": site.csrf("/console/registry"), "full_name": "Trần Minh Khôi"})
    assert refused.status_code == 403


def test_a_household_outside_the_officials_scope_is_not_shown(site: Site) -> None:
    _family(site)
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("79"))
    response = site.client.get("/console/registry/households/HH-0042",
                               params={"purpose": PURPOSE})
    assert response.status_code == 404
    assert "Lê Thị Cúc" not in response.text


def test_a_clerk_records_a_divorce_with_the_api_s_rules(site: Site) -> None:
    father, mother = _family(site)
    with transaction(site.services.session_factory) as session:
        service.record_marriage(session, CLERK, father.personal_id_number,
                                mother.personal_id_number, date(2010, 1, 1))
    site.sign_in_as(Role.SERVICE_CLERK)
    assert site.client.get("/console/registry/divorces").status_code == 200
    before_marriage = _post(site, "/console/registry/divorces",
                            first_pid=father.personal_id_number,
                            second_pid=mother.personal_id_number, occurred_on="2009-05-06")
    assert before_marriage.status_code == 422
    assert 'id="occurred_on-error"' in before_marriage.text
    assert f'value="{mother.personal_id_number}"' in before_marriage.text
    recorded = _post(site, "/console/registry/divorces", first_pid=father.personal_id_number,
                     second_pid=mother.personal_id_number, occurred_on="2024-05-06")
    assert recorded.status_code == 303, recorded.text
    with transaction(site.services.session_factory) as session:
        history = service.person_history(session, CLERK, mother.personal_id_number, PURPOSE)
        assert [r.until for r in history.relatives if r.kind == "spouse"] == [date(2024, 5, 6)]
    again = _post(site, "/console/registry/divorces", first_pid=father.personal_id_number,
                  second_pid=mother.personal_id_number, occurred_on="2024-05-07")
    assert again.status_code == 409  # no longer married: the summary says so
    assert 'class="error-summary"' in again.text


def test_a_clerk_records_a_change_of_permanent_residence(site: Site) -> None:
    father, _ = _family(site)
    with transaction(site.services.session_factory) as session:
        new_ward = ward_in(session, "79")
    site.sign_in_as(Role.SERVICE_CLERK)
    assert site.client.get("/console/registry/residence").status_code == 200
    unknown_ward = _post(site, "/console/registry/residence",
                         personal_id_number=father.personal_id_number, kind="permanent",
                         ward_code="99999", address_line="5 Lê Lợi", occurred_on="2025-02-03")
    assert unknown_ward.status_code == 422
    assert 'id="ward_code-error"' in unknown_ward.text
    moved = _post(site, "/console/registry/residence",
                  personal_id_number=father.personal_id_number, kind="permanent",
                  ward_code=new_ward, address_line="5 Lê Lợi", occurred_on="2025-02-03")
    assert moved.status_code == 303, moved.text
    person = _person(site, father.personal_id_number)
    assert (person.permanent_province_code, person.permanent_ward_code,
            person.permanent_address_line) == ("79", new_ward, "5 Lê Lợi")


def test_a_residence_change_for_someone_unknown_is_refused_next_to_the_number(
        site: Site) -> None:
    site.sign_in_as(Role.SERVICE_CLERK)
    response = _post(site, "/console/registry/residence", personal_id_number="001190999999",
                     kind="temporary", ward_code="", occurred_on="2025-02-03")
    assert response.status_code == 404
    assert 'id="personal_id_number-error"' in response.text


def test_the_record_shown_after_a_birth_names_its_purpose_in_the_pages_language(
        site: Site) -> None:
    """The purpose the form records with is a catalogue sentence: shown in Vietnamese on a
    Vietnamese page, not as the English it is stored as."""
    father, mother = _family(site)
    site.sign_in_as(Role.SERVICE_CLERK)
    response = _post(site, "/console/registry/births", full_name="Trần Minh Khôi",
                     date_of_birth="2025-03-04", sex="M",
                     birth_ward_code=father.permanent_ward_code,
                     mother_pid=mother.personal_id_number)
    child_page = site.client.get(response.headers["location"] + "&lang=vi").text
    assert "“đăng ký hộ tịch”" in child_page
    assert "civil status registration" not in child_page.split("<main")[1]
