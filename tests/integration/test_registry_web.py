"""The officials' console as a browser uses it: sign-in, CSRF, audited search, scope, language."""

from __future__ import annotations

from sqlalchemy import select

from civicstack.kit import apikeys
from civicstack.kit.audit import AuditEntry
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


def test_a_wrong_key_is_refused_next_to_the_field(site: Site) -> None:
    response = site.client.post("/console/login", data={"token": "csk_nope_nope",
                                                         "csrf_token": site.csrf()})
    assert response.status_code == 401
    assert 'id="token-error"' in response.text
    assert "revoked API key" in response.text


def test_sign_in_without_the_forms_csrf_token_is_refused(site: Site) -> None:
    token = site.key("clerk")
    site.csrf()  # the session has a token, the forged form does not carry it
    for forged in ({"token": token}, {"token": token, "csrf_token": "guessed"}):
        response = site.client.post("/console/login", data=forged, follow_redirects=False)
        assert response.status_code == 403
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_repeated_wrong_keys_are_rate_limited(site: Site) -> None:
    for _ in range(10):
        site.client.post("/console/login", data={"token": "csk_x_y", "csrf_token": site.csrf()})
    response = site.client.post("/console/login", data={"token": site.key("clerk"),
                                                        "csrf_token": site.csrf()})
    assert response.status_code == 429
    assert "too many failed attempts" in response.text


def test_search_finds_without_accents_and_audits_each_hit(site: Site, an: Person) -> None:
    site.sign_in(site.key("clerk"))

    page = search(site, full_name="nguyen van", purpose=PURPOSE, lang="en")

    assert "1 person found" in page
    assert an.personal_id_number in page
    with transaction(site.app.state.session_factory) as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.subject_id == an.personal_id_number,
            AuditEntry.action == "registry.person.search_hit")).scalar_one()
        assert (entry.actor, entry.purpose) == ("apikey:clerk", PURPOSE)


def test_htmx_requests_get_only_the_results_fragment(site: Site, an: Person) -> None:
    site.sign_in(site.key("clerk"))
    response = site.client.get("/console/registry", headers={"HX-Request": "true"},
                               params={"full_name": "Nguyễn", "purpose": PURPOSE})
    assert an.personal_id_number in response.text
    assert "<html" not in response.text
    assert "<form" not in response.text


def test_a_missing_purpose_is_shown_next_to_its_field(site: Site, an: Person) -> None:
    site.sign_in(site.key("clerk"))
    response = site.client.get("/console/registry", params={"full_name": "an", "purpose": "x"})
    assert response.status_code == 422
    assert 'id="purpose-error"' in response.text
    assert an.personal_id_number not in response.text


def test_person_page_shows_the_record_after_asking_why(site: Site, an: Person) -> None:
    site.sign_in(site.key("clerk"))
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


def test_a_provincial_key_cannot_open_people_of_another_province(site: Site, an: Person) -> None:
    site.sign_in(site.key("hcmc-clerk", provinces=("79",)))
    response = site.client.get(f"/console/registry/persons/{an.personal_id_number}",
                               params={"purpose": PURPOSE})
    assert response.status_code == 403
    assert an.full_name not in response.text
    assert an.personal_id_number not in search(site, full_name="nguyen", purpose=PURPOSE)


def test_revoking_the_key_ends_the_console_session(site: Site) -> None:
    site.sign_in(site.key("clerk"))
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 200
    with transaction(site.app.state.session_factory) as session:
        apikeys.revoke_key(session, "clerk")
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_csrf_token_and_then_ends_the_session(site: Site) -> None:
    site.sign_in(site.key("clerk"))
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
