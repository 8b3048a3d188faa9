"""The officials' JSON API: what it returns and audits, and every refusal as an RFC 9457 problem
that leaves the register exactly as it was."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from civicstack.kit import apikeys
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry import pid
from civicstack.registry.models import CivilStatusEvent, Person, Sex
from tests.support.api import (
    BASE,
    PURPOSE,
    READ,
    READ_WRITE,
    assert_problem,
    audit_entries,
    bearer,
    fields_of,
    log_is_intact,
    register_state,
)
from tests.support.people import make_person, ward_in
from tests.support.web import Site

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


def new_person(site: Site, serial: int, **changes: Any) -> dict[str, Any]:
    """A valid POST /persons body: a woman born in Hà Nội in 1992 (her number says so)."""
    with transaction(site.services.session_factory) as session:
        ward = ward_in(session, "01")
    # serials far above those `make_person` hands out, so the two never collide
    body = {"personal_id_number": pid.compose("01", 1992, Sex.FEMALE, 900_000 + serial),
            "full_name": "Lê Thị Hoa", "date_of_birth": "1992-03-04", "sex": "F",
            "place_of_birth_province_code": "01", "permanent_ward_code": ward,
            "permanent_address_line": "5 Hàng Bài", "phone": "0987654321"}
    return {**body, **changes}


def person_in(site: Site, full_name: str, born: date, sex: Sex = Sex.MALE,
              province: str = "01") -> Person:
    with transaction(site.services.session_factory) as session:
        return make_person(session, full_name, born, sex, province_code=province,
                           legacy_province_code=province)


def post(site: Site, token: str, path: str, body: Any) -> httpx.Response:
    response: httpx.Response = site.client.post(f"{BASE}{path}", json=body,
                                                headers=bearer(token))
    return response


def posted(site: Site, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = post(site, token, path, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


READ_ACTIONS = ("registry.person.read", "registry.person.history", "registry.person.search_hit")


def audited_reads(site: Site) -> list[tuple[str, str]]:
    return [(e.action, e.subject_id) for e in audit_entries(site.services.session_factory)
            if e.action in READ_ACTIONS]


def read(site: Site, token: str, path: str, **params: str) -> httpx.Response:
    response: httpx.Response = site.client.get(
        f"{BASE}{path}", params={"purpose": PURPOSE, **params}, headers=bearer(token))
    return response


# --- reads ------------------------------------------------------------------------------------

def test_get_by_id_number_returns_the_record_and_audits_who_and_why(
        site: Site, an: Person) -> None:
    response = read(site, site.key("reader"), f"/persons/{an.personal_id_number}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with transaction(site.services.session_factory) as session:
        ward = ward_in(session, "01")
    assert response.json() == {
        "personal_id_number": an.personal_id_number, "full_name": "Nguyễn Văn An",
        "date_of_birth": "1990-05-17", "sex": "M", "place_of_birth_province_code": "01",
        "place_of_birth": "", "place_of_origin": "Hà Nội", "ethnicity": "Kinh",
        "nationality": "VN", "permanent_ward_code": ward, "permanent_province_code": "01",
        "permanent_address_line": "12 Phố Huế", "temporary_ward_code": None,
        "temporary_address_line": "", "phone": "0912345678", "status": "alive",
        "date_of_death": None, "version": 1}
    [entry] = audit_entries(site.services.session_factory, "registry.person.read")
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.purpose) == (
        "apikey:reader", "person", an.personal_id_number, PURPOSE)
    assert log_is_intact(site.services.session_factory)


def test_the_audited_purpose_is_the_callers_words_with_whitespace_tidied(
        site: Site, an: Person) -> None:
    response = read(site, site.key("reader"), f"/persons/{an.personal_id_number}",
                    purpose="  hồ sơ   cấp hộ chiếu ")
    assert response.status_code == 200
    [entry] = audit_entries(site.services.session_factory, "registry.person.read")
    assert entry.purpose == "hồ sơ cấp hộ chiếu"


@pytest.mark.parametrize("query", ["nguyen van", "Nguyễn Văn", "NGUYỄN VĂN AN", "nguyễn  van",
                                   "Nguyen"])
def test_search_by_name_ignores_case_diacritics_and_spacing(
        site: Site, an: Person, query: str) -> None:
    found = read(site, site.key("reader"), "/persons", full_name=query)
    assert found.status_code == 200, found.text
    assert found.json()["count"] == 1
    assert [p["personal_id_number"] for p in found.json()["results"]] == [an.personal_id_number]


def test_search_folds_the_letter_d_with_stroke(site: Site) -> None:
    dao = person_in(site, "Đặng Thị Đào", date(1995, 7, 7), Sex.FEMALE)
    found = read(site, site.key("reader"), "/persons", full_name="dang thi dao").json()
    assert [p["personal_id_number"] for p in found["results"]] == [dao.personal_id_number]


def test_search_matches_any_part_of_the_name(site: Site, an: Person) -> None:
    token = site.key("reader")
    found = read(site, token, "/persons", full_name="van an").json()
    assert [p["personal_id_number"] for p in found["results"]] == [an.personal_id_number]
    assert read(site, token, "/persons", full_name="tran").json()["count"] == 0
    assert read(site, token, "/persons", full_name="n%n").json()["count"] == 0  # not a wildcard


def test_search_narrows_by_birth_date_and_province(site: Site, an: Person) -> None:
    binh = person_in(site, "Nguyễn Văn Bình", date(1990, 5, 17), province="79")
    token = site.key("reader")

    def numbers(**params: str) -> list[str]:
        response = read(site, token, "/persons", full_name="nguyen van", **params)
        assert response.status_code == 200, response.text
        return [p["personal_id_number"] for p in response.json()["results"]]

    assert numbers() == [an.personal_id_number, binh.personal_id_number]  # by folded name
    assert numbers(date_of_birth="1990-05-17", province_code="01") == [an.personal_id_number]
    assert numbers(province_code="79") == [binh.personal_id_number]
    assert numbers(date_of_birth="1990-05-18") == []
    assert numbers(limit="1") == [an.personal_id_number]


def test_every_search_hit_is_audited_and_a_miss_records_nothing(
        site: Site, an: Person) -> None:
    binh = person_in(site, "Nguyễn Văn Bình", date(1988, 1, 1))
    token = site.key("searcher")
    read(site, token, "/persons", full_name="nguyen van")
    read(site, token, "/persons", full_name="pham")

    hits = audit_entries(site.services.session_factory, "registry.person.search_hit")
    assert {(e.actor, e.subject_id, e.purpose) for e in hits} == {
        ("apikey:searcher", an.personal_id_number, PURPOSE),
        ("apikey:searcher", binh.personal_id_number, PURPOSE)}
    assert {e.detail["query"] for e in hits} == {"nguyen van"}
    assert log_is_intact(site.services.session_factory)


def test_a_provincial_key_searches_only_its_provinces(site: Site, an: Person) -> None:
    binh = person_in(site, "Nguyễn Văn Bình", date(1988, 1, 1), province="79")
    hcmc = site.key("hcmc", READ, Scope.province("79"))

    found = read(site, hcmc, "/persons", full_name="nguyen van").json()
    assert [p["personal_id_number"] for p in found["results"]] == [binh.personal_id_number]
    assert read(site, hcmc, f"/persons/{binh.personal_id_number}").status_code == 200
    refused = read(site, hcmc, "/persons", full_name="nguyen", province_code="01")
    assert "Thành phố Hà Nội is outside your scope" in assert_problem(refused, 403)["detail"]


def test_a_control_character_is_refused_next_to_its_field_and_names_are_stored_composed(
        site: Site) -> None:
    token = site.key("registrar", READ_WRITE)
    before = register_state(site.services.session_factory)
    for field, value in (("full_name", "Lê Thị\x00 Hoa"), ("permanent_address_line", "5\x85")):
        refused = post(site, token, "/persons", new_person(site, 41, **{field: value}))
        assert fields_of(assert_problem(refused, 422)) == {field}
    assert register_state(site.services.session_factory) == before

    created = post(site, token, "/persons", new_person(
        site, 42, full_name=unicodedata.normalize("NFD", "Lê Thị Hoa"),
        permanent_address_line=unicodedata.normalize("NFD", "5 Hàng Bài")))
    assert created.status_code == 201, created.text
    assert (created.json()["full_name"], created.json()["permanent_address_line"]) == (
        "Lê Thị Hoa", "5 Hàng Bài")
    with transaction(site.services.session_factory) as session:
        stored = session.execute(select(Person).where(
            Person.personal_id_number == created.json()["personal_id_number"])).scalar_one()
    assert unicodedata.is_normalized("NFC", stored.full_name)
    assert stored.full_name == "Lê Thị Hoa"


def same_refusal(response: httpx.Response, number: str) -> dict[str, Any]:
    """The one answer for a number that is missing and for one outside the caller's scope."""
    problem = assert_problem(response, 404)
    assert problem["detail"] == f"no person with ID number {number} in your scope"
    return {key: value for key, value in problem.items() if key not in ("detail", "instance")}


@pytest.mark.parametrize("suffix", ["", "/history"])
def test_a_provincial_key_cannot_read_a_person_of_another_province(
        site: Site, an: Person, suffix: str) -> None:
    hcmc = site.key("hcmc", READ, Scope.province("79"))
    missing = "001190999999"
    elsewhere = read(site, hcmc, f"/persons/{an.personal_id_number}{suffix}")
    nobody = read(site, hcmc, f"/persons/{missing}{suffix}")
    assert same_refusal(elsewhere, an.personal_id_number) == same_refusal(nobody, missing)
    assert audited_reads(site) == []


def test_a_ward_key_reads_only_people_of_its_ward(site: Site, an: Person) -> None:
    elsewhere = Scope.ward("01", "00070" if an.permanent_ward_code != "00070" else "00073")
    response = read(site, site.key("ward-clerk", READ, elsewhere),
                    f"/persons/{an.personal_id_number}")
    same_refusal(response, an.personal_id_number)
    own = Scope.ward("01", an.permanent_ward_code)
    assert read(site, site.key("own-ward", READ, own),
                f"/persons/{an.personal_id_number}").status_code == 200
    found = read(site, site.key("ward-searcher", READ, elsewhere), "/persons",
                 full_name="nguyen van").json()
    assert found["results"] == []


@pytest.mark.parametrize(("role", "path", "refusal"), [
    (Role.POLICE, "/events/deaths", "may not record births, deaths, marriages and divorces"),
    (Role.POLICE, "/persons", "may not record births, deaths, marriages and divorces"),
    (Role.SERVICE_CLERK, "/events/residence-changes", "may not register residence"),
])
def test_a_role_without_the_write_permission_is_refused(
        site: Site, an: Person, role: Role, path: str, refusal: str) -> None:
    body = new_person(site, 6) if path == "/persons" else event_body(path, an)
    token = site.key("narrow", role)
    before = register_state(site.services.session_factory)
    response = site.client.post(f"{BASE}{path}", json=body, headers=bearer(token))
    assert refusal in assert_problem(response, 403)["detail"]
    assert register_state(site.services.session_factory) == before


# --- writes, and the history they leave ---------------------------------------------------

def test_registering_a_person_returns_201_with_the_stored_record(site: Site) -> None:
    body = new_person(site, 1, temporary_ward_code=None, place_of_birth="Bệnh viện Bạch Mai")
    created = posted(site, site.key("registrar", READ_WRITE), "/persons", body)

    assert {k: created[k] for k in body} == body
    assert (created["permanent_province_code"], created["status"], created["version"]) == (
        "01", "alive", 1)
    [entry] = audit_entries(site.services.session_factory, "registry.person.create")
    assert (entry.actor, entry.subject_id) == ("apikey:registrar", body["personal_id_number"])
    fetched = read(site, site.key("reader"), f"/persons/{body['personal_id_number']}")
    assert fetched.json() == created


def test_a_life_recorded_through_the_api_appears_in_the_history(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    wife = posted(site, token, "/persons", new_person(site, 2))["personal_id_number"]
    with transaction(site.services.session_factory) as session:
        hcmc_ward = ward_in(session, "79")

    married = posted(site, token, "/events/marriages", {
        "first_pid": an.personal_id_number, "second_pid": wife, "occurred_on": "2018-06-01"})
    child = posted(site, token, "/events/births", {
        "full_name": "Nguyễn Gia Bảo", "date_of_birth": "2020-02-02", "sex": "M",
        "birth_ward_code": an.permanent_ward_code, "mother_pid": wife,
        "father_pid": an.personal_id_number, "place_of_birth": "Bệnh viện Phụ sản"})
    moved = posted(site, token, "/events/residence-changes", {
        "personal_id_number": an.personal_id_number, "kind": "permanent",
        "ward_code": hcmc_ward, "address_line": "1 Lê Lợi", "occurred_on": "2021-01-10"})
    divorced = posted(site, token, "/events/divorces", {
        "first_pid": wife, "second_pid": an.personal_id_number, "occurred_on": "2022-03-03"})
    died = posted(site, token, "/events/deaths", {
        "personal_id_number": an.personal_id_number, "occurred_on": "2025-01-05",
        "cause": "illness"})

    assert married == divorced == {"status": "recorded"}
    # born 2020 in Hà Nội, male: legacy code 001, century/sex digit 2, year 20
    assert child["personal_id_number"].startswith("001220")
    assert (child["date_of_birth"], child["sex"], child["permanent_ward_code"]) == (
        "2020-02-02", "M", an.permanent_ward_code)
    # every event that changes An's record bumps its version: marriage, move, the divorce
    # his wife filed (it changes both spouses), death
    assert (moved["permanent_ward_code"], moved["permanent_province_code"],
            moved["permanent_address_line"], moved["version"]) == (hcmc_ward, "79", "1 Lê Lợi", 3)
    assert (died["status"], died["date_of_death"], died["version"]) == (
        "deceased", "2025-01-05", 5)

    history = read(site, site.key("reader"), f"/persons/{an.personal_id_number}/history")
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["person"] == died
    assert [(e["kind"], e["occurred_on"], e["related_person_id_number"])
            for e in body["events"]] == [
        ("marriage", "2018-06-01", wife),
        ("birth", "2020-02-02", child["personal_id_number"]),
        ("residence_change", "2021-01-10", None),
        ("divorce", "2022-03-03", wife),
        ("death", "2025-01-05", None)]
    assert {e["recorded_by"] for e in body["events"]} == {"apikey:registrar"}
    assert body["events"][4]["detail"] == {"cause": "illness"}
    assert body["events"][2]["detail"]["to"] == {"ward_code": hcmc_ward, "line": "1 Lê Lợi"}
    assert sorted((r["kind"], r["personal_id_number"], r["since"], r["until"])
                  for r in body["relations"]) == [
        ("child", child["personal_id_number"], "2020-02-02", None),
        ("spouse", wife, "2018-06-01", "2022-03-03")]

    child_history = read(site, site.key("reader2"),
                         f"/persons/{child['personal_id_number']}/history").json()
    assert {(r["kind"], r["personal_id_number"]) for r in child_history["relations"]} == {
        ("parent", wife), ("parent", an.personal_id_number)}
    assert child_history["events"][0]["detail"]["parents"] == {
        "mother": wife, "father": an.personal_id_number}

    factory = site.services.session_factory
    written = [e.action for e in audit_entries(factory) if e.actor == "apikey:registrar"]
    # a marriage and a divorce are written to both spouses' trails
    assert written == ["registry.person.create", "registry.event.marriage",
                       "registry.event.marriage", "registry.person.create",
                       "registry.event.birth", "registry.event.residence_change",
                       "registry.event.divorce", "registry.event.divorce",
                       "registry.event.death"]
    [history_read] = audit_entries(factory, "registry.person.history", an.personal_id_number)
    assert (history_read.actor, history_read.purpose) == ("apikey:reader", PURPOSE)
    assert log_is_intact(factory)


def test_a_death_ends_the_marriage_so_the_widow_may_remarry(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    wife = posted(site, token, "/persons", new_person(site, 3))["personal_id_number"]
    other = person_in(site, "Phạm Văn Cường", date(1980, 1, 1))
    posted(site, token, "/events/marriages", {
        "first_pid": an.personal_id_number, "second_pid": wife, "occurred_on": "2015-01-01"})
    posted(site, token, "/events/deaths", {
        "personal_id_number": an.personal_id_number, "occurred_on": "2020-01-01"})
    posted(site, token, "/events/marriages", {
        "first_pid": wife, "second_pid": other.personal_id_number, "occurred_on": "2023-01-01"})

    relations = read(site, token, f"/persons/{wife}/history").json()["relations"]
    assert sorted((r["personal_id_number"], r["since"], r["until"]) for r in relations) == sorted([
        (an.personal_id_number, "2015-01-01", "2020-01-01"),
        (other.personal_id_number, "2023-01-01", None)])


def test_a_temporary_residence_can_be_set_and_cleared(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    with transaction(site.services.session_factory) as session:
        ward = ward_in(session, "48")
    moved = posted(site, token, "/events/residence-changes", {
        "personal_id_number": an.personal_id_number, "kind": "temporary", "ward_code": ward,
        "address_line": "Ký túc xá", "occurred_on": "2024-09-01"})
    cleared = posted(site, token, "/events/residence-changes", {
        "personal_id_number": an.personal_id_number, "kind": "temporary",
        "occurred_on": "2025-06-01"})

    assert (moved["temporary_ward_code"], moved["temporary_address_line"]) == (ward, "Ký túc xá")
    assert moved["permanent_province_code"] == "01"
    assert (cleared["temporary_ward_code"], cleared["temporary_address_line"]) == (None, "")


# --- who may call -----------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    None, "", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer ", "Bearer not-a-key",
    "Bearer csk_onlytwo", "Bearer xyz_0123456789abcdef_secret",
    "Bearer csk_0123456789abcdef_unknownsecret",
])
def test_requests_without_a_valid_key_are_401(site: Site, an: Person,
                                              header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE}, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert audited_reads(site) == []


def test_the_right_key_id_with_the_wrong_secret_is_401(site: Site, an: Person) -> None:
    token = site.key("reader")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(read(site, forged, f"/persons/{an.personal_id_number}"), 401)
    assert read(site, token, f"/persons/{an.personal_id_number}").status_code == 200


def test_the_bearer_scheme_is_case_insensitive(site: Site, an: Person) -> None:
    response = site.client.get(f"{BASE}/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE},
                               headers={"Authorization": f"bearer {site.key('reader')}"})
    assert response.status_code == 200


def test_a_revoked_key_is_401(site: Site, an: Person) -> None:
    token = site.key("leaver", READ_WRITE)
    assert read(site, token, f"/persons/{an.personal_id_number}").status_code == 200
    with transaction(site.services.session_factory) as session:
        apikeys.revoke_key(session, "leaver")

    assert_problem(read(site, token, f"/persons/{an.personal_id_number}"), 401)
    assert_problem(post(site, token, "/persons", new_person(site, 4)), 401)


EVENT_BODIES: dict[str, dict[str, Any]] = {
    "/events/births": {"full_name": "Bé Na", "date_of_birth": "2021-01-01", "sex": "F",
                       "birth_ward_code": "00004", "father_pid": "{an}"},
    "/events/marriages": {"first_pid": "{an}", "second_pid": "{an}", "occurred_on": "2019-01-01"},
    "/events/divorces": {"first_pid": "{an}", "second_pid": "{an}", "occurred_on": "2019-01-01"},
    "/events/deaths": {"personal_id_number": "{an}", "occurred_on": "2024-01-01"},
    "/events/residence-changes": {"personal_id_number": "{an}", "kind": "temporary",
                                  "ward_code": "00004", "occurred_on": "2024-01-01"},
}


def event_body(path: str, an: Person) -> dict[str, Any]:
    return {k: v.replace("{an}", an.personal_id_number) if isinstance(v, str) else v
            for k, v in EVENT_BODIES[path].items()}


@pytest.mark.parametrize("path", ["/persons", *EVENT_BODIES])
@pytest.mark.parametrize(("role", "status"), [(None, 401), (READ, 403)])
def test_writes_need_a_key_whose_role_may_write(
        site: Site, an: Person, path: str, role: Role | None, status: int) -> None:
    body = new_person(site, 5) if path == "/persons" else event_body(path, an)
    headers = bearer(site.key("reader", role)) if role else {}
    before = register_state(site.services.session_factory)

    response = site.client.post(f"{BASE}{path}", json=body, headers=headers)

    problem = assert_problem(response, status)
    if status == 403:
        assert "role may not" in problem["detail"]
    assert register_state(site.services.session_factory) == before


# --- refused reads ----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", "/history"])
def test_an_unknown_id_number_is_404(site: Site, suffix: str) -> None:
    response = read(site, site.key("reader"), f"/persons/001090999999{suffix}")
    assert "001090999999" in assert_problem(response, 404)["detail"]
    assert audited_reads(site) == []


@pytest.mark.parametrize("path", ["/persons/{an}", "/persons/{an}/history", "/persons"])
@pytest.mark.parametrize("purpose", [None, "", "why", "  a  b  ", "x" * 501])
def test_a_read_without_a_real_purpose_is_422(site: Site, an: Person, path: str,
                                              purpose: str | None) -> None:
    params = {"full_name": "nguyen"} if path == "/persons" else {}
    if purpose is not None:
        params["purpose"] = purpose
    response = site.client.get(f"{BASE}{path.replace('{an}', an.personal_id_number)}",
                               params=params, headers=bearer(site.key("reader")))
    problem = assert_problem(response, 422)
    assert {f.rsplit(".", 1)[-1] for f in fields_of(problem)} == {"purpose"}
    assert audited_reads(site) == []


@pytest.mark.parametrize(("params", "field"), [
    ({"full_name": "n"}, "full_name"),
    ({"full_name": " n "}, "full_name"),
    ({}, "full_name"),
    ({"full_name": "nguyen", "province_code": "1"}, "province_code"),
    ({"full_name": "nguyen", "date_of_birth": "17/05/1990"}, "date_of_birth"),
    ({"full_name": "nguyen", "limit": "0"}, "limit"),
    ({"full_name": "nguyen", "limit": "201"}, "limit"),
])
def test_a_malformed_search_is_422_naming_the_parameter(
        site: Site, an: Person, params: dict[str, str], field: str) -> None:
    response = read(site, site.key("reader"), "/persons", **params)
    problem = assert_problem(response, 422)
    assert field in {f.rsplit(".", 1)[-1] for f in fields_of(problem)}
    assert audited_reads(site) == []


# --- refused registrations ------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"date_of_birth": "1993-03-04"}, "date_of_birth"),  # number encodes 1992
    ({"sex": "M"}, "sex"),  # number encodes a woman
    ({"place_of_birth_province_code": "79"}, "place_of_birth_province_code"),
    ({"personal_id_number": "099192000001"}, "personal_id_number"),  # no such province code
    ({"personal_id_number": "12345"}, "personal_id_number"),
    ({"personal_id_number": "00119200000A"}, "personal_id_number"),
    ({"permanent_ward_code": "99999"}, "permanent_ward_code"),
    ({"temporary_ward_code": "99998"}, "temporary_ward_code"),
    ({"place_of_birth_province_code": "99"}, "place_of_birth_province_code"),
    ({"date_of_birth": TOMORROW}, "date_of_birth"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
    ({"date_of_birth": "1992-02-30"}, "date_of_birth"),
    ({"sex": "X"}, "sex"),
    ({"full_name": ""}, "full_name"),
    ({"full_name": "   "}, "full_name"),
    ({"phone": "12"}, "phone"),
    ({"nationality": "vn"}, "nationality"),
    ({"personal_id_number": None}, "personal_id_number"),
])
def test_an_invalid_person_is_422_naming_the_field(site: Site, changes: dict[str, Any],
                                                    field: str) -> None:
    token = site.key("registrar", READ_WRITE)
    before = register_state(site.services.session_factory)

    problem = assert_problem(post(site, token, "/persons", new_person(site, 6, **changes)), 422)

    assert field in fields_of(problem), problem
    assert field in problem["detail"]
    assert register_state(site.services.session_factory) == before


def test_every_field_in_error_is_reported_at_once(site: Site) -> None:
    response = post(site, site.key("registrar", READ_WRITE), "/persons", new_person(
        site, 7, permanent_ward_code="99999", phone="12", date_of_birth=TOMORROW))
    assert {"permanent_ward_code", "phone", "date_of_birth"} <= fields_of(
        assert_problem(response, 422))


@pytest.mark.parametrize("body", [[1, 2], "text", None])
def test_a_body_that_is_not_an_object_is_422(site: Site, body: Any) -> None:
    response = post(site, site.key("registrar", READ_WRITE), "/persons", body)
    assert_problem(response, 422)


def test_a_body_that_is_not_json_is_422(site: Site) -> None:
    response = site.client.post(f"{BASE}/persons", content=b"{not json",
                                headers={**bearer(site.key("registrar", READ_WRITE)),
                                         "content-type": "application/json"})
    assert_problem(response, 422)


def test_a_duplicate_id_number_is_409_and_keeps_the_first_record(site: Site, an: Person) -> None:
    body = new_person(site, 8, personal_id_number=an.personal_id_number,
                      full_name="Someone Else", date_of_birth="1990-05-17", sex="M")
    before = register_state(site.services.session_factory)
    token = site.key("registrar", READ_WRITE)

    problem = assert_problem(post(site, token, "/persons", body), 409)

    assert an.personal_id_number in problem["detail"]
    assert register_state(site.services.session_factory).persons == before.persons
    assert read(site, token, f"/persons/{an.personal_id_number}").json()["full_name"] == (
        "Nguyễn Văn An")


# --- refused civil-status events --------------------------------------------------------

def test_a_death_recorded_twice_is_409_and_changes_nothing(site: Site, an: Person) -> None:
    token = site.key("registrar", READ_WRITE)
    body = {"personal_id_number": an.personal_id_number, "occurred_on": "2026-01-05"}
    first = posted(site, token, "/events/deaths", body)
    before = register_state(site.services.session_factory)

    second = post(site, token, "/events/deaths", {**body, "occurred_on": "2026-01-06"})

    assert "deceased" in assert_problem(second, 409)["detail"]
    assert register_state(site.services.session_factory) == before
    with transaction(site.services.session_factory) as session:
        deaths = session.execute(select(CivilStatusEvent.occurred_on).where(
            CivilStatusEvent.kind == "death")).scalars().all()
        person = session.get(Person, an.id)
        assert person is not None
        assert (deaths, person.version, person.date_of_death) == (
            [date(2026, 1, 5)], first["version"], date(2026, 1, 5))


def _deceased(site: Site, token: str, person: Person) -> None:
    posted(site, token, "/events/deaths", {"personal_id_number": person.personal_id_number,
                                           "occurred_on": "2024-12-31"})


def _married(site: Site, token: str, first: Person, second: Person, on: str) -> None:
    posted(site, token, "/events/marriages", {"first_pid": first.personal_id_number,
                                              "second_pid": second.personal_id_number,
                                              "occurred_on": on})


REFUSED_EVENTS = [
    # (name, path, setup, body template, status, field or detail fragment)
    ("birth without parents", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": "2021-01-01", "sex": "F", "birth_ward_code": "{ward}"},
     422, "mother_pid"),
    ("birth in an unknown ward", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": "2021-01-01", "sex": "F", "birth_ward_code": "99999",
      "mother_pid": "{hoa}"}, 422, "birth_ward_code"),
    ("birth before the mother's", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": "1991-01-01", "sex": "F", "birth_ward_code": "{ward}",
      "mother_pid": "{hoa}"}, 422, "mother_pid"),
    ("birth in the future", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": TOMORROW, "sex": "F", "birth_ward_code": "{ward}",
      "mother_pid": "{hoa}"}, 422, "date_of_birth"),
    ("birth to an unknown parent", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": "2021-01-01", "sex": "F", "birth_ward_code": "{ward}",
      "mother_pid": "001192999999"}, 404, "001192999999"),
    ("birth with a malformed parent number", "/events/births", None,
     {"full_name": "Bé", "date_of_birth": "2021-01-01", "sex": "F", "birth_ward_code": "{ward}",
      "father_pid": "123"}, 422, "father_pid"),
    ("marriage to oneself", "/events/marriages", None,
     {"first_pid": "{an}", "second_pid": "{an}", "occurred_on": "2019-01-01"},
     422, "second_pid"),
    ("marriage under age", "/events/marriages", None,
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": "2009-01-01"},
     422, "occurred_on"),
    ("marriage in the future", "/events/marriages", None,
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": TOMORROW}, 422, "occurred_on"),
    ("marriage of a married man", "/events/marriages", "an_married_to_cuc",
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": "2019-01-01"},
     409, "already married"),
    ("marriage to a dead woman", "/events/marriages", "hoa_dead",
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": "2019-01-01"},
     409, "deceased"),
    ("marriage to an unknown person", "/events/marriages", None,
     {"first_pid": "{an}", "second_pid": "001192999999", "occurred_on": "2019-01-01"},
     404, "001192999999"),
    ("divorce of people not married", "/events/divorces", None,
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": "2019-01-01"},
     409, "not married"),
    ("divorce of someone else's spouse", "/events/divorces", "an_married_to_cuc",
     {"first_pid": "{an}", "second_pid": "{hoa}", "occurred_on": "2019-01-01"},
     409, "not married"),
    ("divorce before the wedding", "/events/divorces", "an_married_to_cuc",
     {"first_pid": "{an}", "second_pid": "{cuc}", "occurred_on": "2015-01-01"},
     422, "occurred_on"),
    ("death before birth", "/events/deaths", None,
     {"personal_id_number": "{an}", "occurred_on": "1989-01-01"}, 422, "occurred_on"),
    ("death in the future", "/events/deaths", None,
     {"personal_id_number": "{an}", "occurred_on": TOMORROW}, 422, "occurred_on"),
    ("death of an unknown person", "/events/deaths", None,
     {"personal_id_number": "001090999999", "occurred_on": "2020-01-01"}, 404, "001090999999"),
    ("death without a date", "/events/deaths", None,
     {"personal_id_number": "{an}"}, 422, "occurred_on"),
    ("move to an unknown ward", "/events/residence-changes", None,
     {"personal_id_number": "{an}", "kind": "permanent", "ward_code": "99999",
      "occurred_on": "2020-01-01"}, 422, "ward_code"),
    ("permanent move without a ward", "/events/residence-changes", None,
     {"personal_id_number": "{an}", "kind": "permanent", "occurred_on": "2020-01-01"},
     422, "ward_code"),
    ("move of an unknown kind", "/events/residence-changes", None,
     {"personal_id_number": "{an}", "kind": "holiday", "ward_code": "{ward}",
      "occurred_on": "2020-01-01"}, 422, "kind"),
    ("move in the future", "/events/residence-changes", None,
     {"personal_id_number": "{an}", "kind": "permanent", "ward_code": "{ward}",
      "occurred_on": TOMORROW}, 422, "occurred_on"),
    ("move of a dead woman", "/events/residence-changes", "hoa_dead",
     {"personal_id_number": "{hoa}", "kind": "permanent", "ward_code": "{ward}",
      "occurred_on": "2020-01-01"}, 409, "deceased"),
]


@pytest.mark.parametrize(("path", "setup", "template", "status", "expected"),
                         [case[1:] for case in REFUSED_EVENTS],
                         ids=[case[0] for case in REFUSED_EVENTS])
def test_a_refused_event_is_a_problem_and_changes_nothing(
        site: Site, an: Person, path: str, setup: str | None, template: dict[str, str],
        status: int, expected: str) -> None:
    token = site.key("registrar", READ_WRITE)
    hoa = person_in(site, "Lê Thị Hoa", date(1992, 3, 4), Sex.FEMALE)
    cuc = person_in(site, "Trần Thị Cúc", date(1993, 4, 5), Sex.FEMALE)
    if setup == "an_married_to_cuc":
        _married(site, token, an, cuc, "2016-01-01")
    elif setup == "hoa_dead":
        _deceased(site, token, hoa)
    names = {"{an}": an.personal_id_number, "{hoa}": hoa.personal_id_number,
             "{cuc}": cuc.personal_id_number, "{ward}": an.permanent_ward_code}
    body = {key: names.get(value, value) for key, value in template.items()}
    before = register_state(site.services.session_factory)

    problem = assert_problem(post(site, token, path, body), status)

    if status == 422:
        assert expected in fields_of(problem), problem
    else:
        assert expected in problem["detail"], problem
    assert register_state(site.services.session_factory) == before
    assert log_is_intact(site.services.session_factory)


def test_a_provincial_key_cannot_write_for_people_of_another_province(
        site: Site, an: Person) -> None:
    token = site.key("hcmc-registrar", READ_WRITE, Scope.province("79"))
    death = site.client.post(f"{BASE}/events/deaths", headers=bearer(token), json={
        "personal_id_number": an.personal_id_number, "occurred_on": "2026-01-05"})
    same_refusal(death, an.personal_id_number)
    with transaction(site.services.session_factory) as session:
        assert session.get(Person, an.id).status == "alive"  # type: ignore[union-attr]
