"""The officials' JSON API: what it returns, and every refusal as an RFC 9457 problem."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from civicstack.kit import apikeys
from civicstack.kit.audit import AuditEntry, verify_chain
from civicstack.kit.db import transaction
from civicstack.registry import pid
from civicstack.registry.models import CivilStatusEvent, Person, Sex
from tests.support.people import ward_in
from tests.support.web import Site

BASE = "/api/v1/registry"
PURPOSE = "checking a passport application"
READ_WRITE = ("registry:read", "registry:write")




def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"].startswith("https://")
    return body


def new_person(site: Site, serial: int, **changes: Any) -> dict[str, Any]:
    with transaction(site.app.state.session_factory) as session:
        ward = ward_in(session, "01")
    body = {"personal_id_number": pid.compose("01", 1992, Sex.FEMALE, serial),
            "full_name": "Lê Thị Hoa", "date_of_birth": "1992-03-04", "sex": "F",
            "place_of_birth_province_code": "01", "permanent_ward_code": ward,
            "phone": "0987654321"}
    return {**body, **changes}


def test_get_by_id_number_returns_the_record_and_audits_who_and_why(
        site: Site, an: Person) -> None:
    response = site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE}, headers=bearer(site.key("reader")))

    assert response.status_code == 200
    body = response.json()
    assert (body["full_name"], body["date_of_birth"], body["version"]) == (
        "Nguyễn Văn An", "1990-05-17", 1)
    with transaction(site.app.state.session_factory) as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "registry.person.read")).scalar_one()
        assert (entry.actor, entry.subject_id, entry.purpose) == (
            "apikey:reader", an.personal_id_number, PURPOSE)
        assert verify_chain(session).ok


def test_search_by_name_birth_date_and_province(site: Site, an: Person) -> None:
    token = site.key("reader")
    found = site.client.get(f"{BASE}/persons", headers=bearer(token), params={
        "full_name": "nguyen van", "date_of_birth": "1990-05-17", "province_code": "01",
        "purpose": PURPOSE}).json()
    missed = site.client.get(f"{BASE}/persons", headers=bearer(token), params={
        "full_name": "nguyen van", "date_of_birth": "1990-05-18", "purpose": PURPOSE}).json()

    assert [p["personal_id_number"] for p in found["results"]] == [an.personal_id_number]
    assert missed == {"results": [], "count": 0}


def test_events_recorded_through_the_api_appear_in_the_history(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    wife = site.client.post(f"{BASE}/persons", json=new_person(site, 1), headers=bearer(token))
    assert wife.status_code == 201, wife.text
    wife_pid = wife.json()["personal_id_number"]
    married = site.client.post(f"{BASE}/events/marriages", headers=bearer(token), json={
        "first_pid": an.personal_id_number, "second_pid": wife_pid, "occurred_on": "2018-06-01"})
    born = site.client.post(f"{BASE}/events/births", headers=bearer(token), json={
        "full_name": "Nguyễn Gia Bảo", "date_of_birth": "2020-02-02", "sex": "M",
        "birth_ward_code": an.permanent_ward_code, "mother_pid": wife_pid,
        "father_pid": an.personal_id_number})

    assert (married.status_code, born.status_code) == (201, 201)
    child = born.json()
    assert child["personal_id_number"][3:6] == "220"  # born 2020, male: digit 2, year 20
    history = site.client.get(f"{BASE}/persons/{an.personal_id_number}/history",
                              params={"purpose": PURPOSE}, headers=bearer(token)).json()
    assert [e["kind"] for e in history["events"]] == ["marriage", "birth"]
    assert {(r["kind"], r["personal_id_number"]) for r in history["relations"]} == {
        ("spouse", wife_pid), ("child", child["personal_id_number"])}


def test_a_death_recorded_twice_is_refused_and_changes_nothing(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    body = {"personal_id_number": an.personal_id_number, "occurred_on": "2026-01-05"}
    first = site.client.post(f"{BASE}/events/deaths", json=body, headers=bearer(token))
    second = site.client.post(f"{BASE}/events/deaths", json=body, headers=bearer(token))

    assert first.status_code == 201
    assert "deceased" in assert_problem(second, 409)["detail"]
    with transaction(site.app.state.session_factory) as session:
        deaths = session.execute(select(func.count()).select_from(CivilStatusEvent).where(
            CivilStatusEvent.kind == "death")).scalar_one()
        person = session.get(Person, an.id)
        assert person is not None
        assert (deaths, person.version) == (1, first.json()["version"])


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer csk_unknown_secret",
                                    "Bearer not-a-key"])
def test_requests_without_a_valid_key_are_401(site: Site, an: Person, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE}, headers=headers)
    assert_problem(response, 401)


def test_a_revoked_key_is_401(site: Site, an: Person) -> None:
    token = site.key("leaver")
    with transaction(site.app.state.session_factory) as session:
        apikeys.revoke_key(session, "leaver")
    assert_problem(site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                                   params={"purpose": PURPOSE}, headers=bearer(token)), 401)


def test_a_read_only_key_cannot_write(site: Site) -> None:
    response = site.client.post(f"{BASE}/persons", json=new_person(site, 2),
                                headers=bearer(site.key("reader")))
    assert "registry:write" in assert_problem(response, 403)["detail"]


def test_a_provincial_key_cannot_read_other_provinces(site: Site, an: Person) -> None:
    token = site.key("hcmc", provinces=("79",))
    response = site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE}, headers=bearer(token))
    assert_problem(response, 403)
    assert_problem(site.client.get(f"{BASE}/persons", headers=bearer(token), params={
        "full_name": "nguyen", "province_code": "01", "purpose": PURPOSE}), 403)


def test_unknown_person_is_404_and_missing_purpose_is_422(site: Site) -> None:
    token = site.key("reader")
    assert_problem(site.client.get(f"{BASE}/persons/001090000999", params={"purpose": PURPOSE},
                                   headers=bearer(token)), 404)
    body = assert_problem(site.client.get(f"{BASE}/persons/001090000999",
                                          headers=bearer(token)), 422)
    assert body["errors"][0]["field"].endswith("purpose")


@pytest.mark.parametrize(("changes", "field"), [
    ({"date_of_birth": "1993-03-04"}, "date_of_birth"),
    ({"sex": "M"}, "sex"),
    ({"permanent_ward_code": "99999"}, "permanent_ward_code"),
    ({"date_of_birth": (date.today() + timedelta(days=3)).isoformat()}, "date_of_birth"),
    ({"personal_id_number": "12345"}, "personal_id_number"),
    ({"phone": "12"}, "phone"),
])
def test_invalid_people_are_422_naming_the_field(site: Site, changes: dict[str, str],
                                                  field: str) -> None:
    response = site.client.post(f"{BASE}/persons", json=new_person(site, 3, **changes),
                                headers=bearer(site.key("registrar", READ_WRITE)))
    body = assert_problem(response, 422)
    assert field in {error["field"] for error in body["errors"]}
    with transaction(site.app.state.session_factory) as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 0


def test_a_duplicate_id_number_is_409(site: Site, an: Person) -> None:
    body = new_person(site, 4, personal_id_number=an.personal_id_number,
                      full_name="Someone Else", date_of_birth="1990-05-17", sex="M")
    response = site.client.post(f"{BASE}/persons", json=body,
                                headers=bearer(site.key("registrar", READ_WRITE)))
    assert_problem(response, 409)
