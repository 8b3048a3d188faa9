"""The officials' console as a browser uses it: sign-in, CSRF, audited search, scope, language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.support.web import Site

PURPOSE = "checking dossier 2026-118"




def search(site: Site, **params: str) -> str:
    response = site.client.get("/console/registry", params=params)
    assert response.status_code == 200, response.text
    return response.text


def test_console_pages_send_strangers_to_sign_in(site: Site) -> None:
    response = site.client.get("/console/registry?full_name=an", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/registry%3Ffull_name%3Dan"


def test_search_finds_without_accents_and_audits_each_hit(site: Site, an: Person) -> None:
    clerk = site.sign_in_as(Role.AGENCY_APPROVER)

    page = search(site, full_name="nguyen van", purpose=PURPOSE, lang="en")

    assert "1 person found" in page
    assert an.personal_id_number in page
    with transaction(site.services.session_factory) as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.subject_id == an.personal_id_number,
            AuditEntry.action == "registry.person.search_hit")).scalar_one()
        assert (entry.actor, entry.purpose) == (f"official:{clerk.username}", PURPOSE)


def test_htmx_requests_get_only_the_search_fragment(site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    response = site.client.get("/console/registry", headers={"HX-Request": "true"},
                               params={"full_name": "Nguyễn", "purpose": PURPOSE})
    assert an.personal_id_number in response.text
    assert "<html" not in response.text
    assert "console-nav" not in response.text


def test_a_missing_purpose_is_shown_next_to_its_field(site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    response = site.client.get("/console/registry", params={"full_name": "an", "purpose": "x"})
    assert response.status_code == 422
    assert 'id="purpose-error"' in response.text
    assert an.personal_id_number not in response.text


def test_person_page_shows_the_record_after_asking_why(site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    path = f"/console/registry/persons/{an.personal_id_number}"

    asked = site.client.get(path)
    shown = site.client.get(path, params={"purpose": PURPOSE, "lang": "en"})

    assert 'name="purpose"' in asked.text
    assert an.full_name not in asked.text
    assert shown.status_code == 200
    assert an.full_name in shown.text
    assert "Civil-status history" in shown.text
    assert site.client.get("/console/registry/persons/001000000000",
                           params={"purpose": PURPOSE}).status_code == 404


def without_nonces(page: str) -> str:
    return re.sub(r'nonce="[^"]*"', 'nonce=""', page)


@pytest.mark.parametrize("scope", [Scope.province("79"), Scope.ward("01", "00073")])
def test_an_official_cannot_open_people_outside_their_scope(
        site: Site, an: Person, scope: Scope) -> None:
    assert an.permanent_ward_code != "00073"
    site.sign_in_as(Role.AGENCY_APPROVER, scope)
    response = site.client.get(f"/console/registry/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE})
    missing = site.client.get("/console/registry/persons/001190999999",
                              params={"purpose": PURPOSE})
    assert response.status_code == missing.status_code == 404
    assert "in your scope" in response.text
    # The same page but for the number asked (and each page's own script nonce).
    assert without_nonces(response.text.replace(an.personal_id_number, "001190999999")) == \
        without_nonces(missing.text)
    assert an.full_name not in response.text
    assert an.personal_id_number not in search(site, full_name="nguyen", purpose=PURPOSE)


def test_an_official_of_the_persons_ward_opens_the_record(site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER, Scope.ward("01", an.permanent_ward_code))
    response = site.client.get(f"/console/registry/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE})
    assert response.status_code == 200
    assert an.personal_id_number in search(site, full_name="nguyen", purpose=PURPOSE)


def test_sign_out_needs_the_csrf_token_and_then_ends_the_session(site: Site) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    assert site.client.post("/console/logout", data={}).status_code == 403
    token = site.csrf("/console/registry")
    site.client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_vietnamese_by_default_english_on_request_and_remembered(site: Site) -> None:
    assert "Một danh tính cho mọi dịch vụ công" in site.client.get("/").text
    assert "One identity for every public service" in site.client.get("/?lang=en").text
    assert "One identity for every public service" in site.client.get("/").text  # cookie
    page = site.client.get("/console/login?lang=vi").text
    assert '<html lang="vi">' in page
    assert 'href="/console/login?lang=en"' in page


def test_the_api_still_answers_problem_json(site: Site) -> None:
    response = site.client.get("/api/v1/registry/persons/001090000001?purpose=checking")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
