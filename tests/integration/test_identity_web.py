"""The level-1 eID journey in the browser: register, prove the phone, get approved by an
official, sign in, and see who used your data."""

from __future__ import annotations

import re
import unicodedata

import pytest
from fastapi.testclient import TestClient

from civicstack.identity.service import FREE_LOGIN_FAILURES
from civicstack.kit.authz import Role, Scope
from civicstack.registry.models import Person
from tests.support import photos
from tests.support.api import audit_entries
from tests.support.web import Site

PASSWORD = "correct horse battery"
PHOTO = photos.png()


def register_an(site: Site, an: Person, photo: bytes = PHOTO, **changes: str) -> str:
    form = {"personal_id_number": an.personal_id_number, "full_name": "Nguyễn Văn An",
            "date_of_birth": "1990-05-17", "phone": "0912345678", "password": PASSWORD,
            "csrf_token": site.csrf("/account/register"), **changes}
    response = site.client.post("/account/register", data=form, follow_redirects=False,
                                files={"face_photo": ("selfie.png", photo, "image/png")})
    return response.text if response.status_code != 303 else response.headers["location"]


APPROVAL_REASON = "đã kiểm tra CCCD tại quầy"


def sms_code(site: Site) -> str:
    mailbox = site.services.channels["sms"].read("0912345678")
    return str(re.findall(r"\b(\d{6})\b", mailbox)[-1])


def citizen_sign_in(site: Site, an: Person, password: str = PASSWORD) -> int:
    return site.client.post("/account/login", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "password": password,
        "csrf_token": site.csrf("/account/login")}).status_code


def approve_as_official(site: Site, an: Person) -> int:
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    queue = site.client.get("/console/accounts")
    assert an.full_name in queue.text
    token = site.csrf("/console/accounts")
    return site.client.post(f"/console/accounts/{an.personal_id_number}/approve",
                            follow_redirects=False,
                            # as an official writes it (an English reason would read as
                            # English left on the citizen's Vietnamese page)
                            data={"reason": APPROVAL_REASON,
                                  "csrf_token": token}).status_code


def verify_phone(site: Site) -> int:
    return site.client.post("/account/verify-phone", data={
        "code": sms_code(site), "csrf_token": site.csrf("/account/verify-phone")}).status_code


def approved(site: Site, an: Person) -> None:
    """An account through registration, phone proof and approval; nobody signed in."""
    register_an(site, an)
    verify_phone(site)
    approve_as_official(site, an)
    site.client.cookies.clear()


def approved_and_signed_in(site: Site, an: Person) -> None:
    approved(site, an)
    assert citizen_sign_in(site, an) == 303


def test_register_verify_approve_sign_in_and_see_who_read_my_data(site: Site, an: Person) -> None:
    assert register_an(site, an) == "/account/verify-phone"
    assert verify_phone(site) == 200
    assert citizen_sign_in(site, an) == 401  # still waiting for approval

    assert approve_as_official(site, an) == 303
    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303

    page = site.client.get("/account?lang=en")
    assert an.personal_id_number in page.text
    assert "Official <small>police-" in page.text  # who, as people read it
    assert "eID account approved" in page.text  # what, not the audit code
    assert APPROVAL_REASON in page.text


def test_details_that_do_not_match_the_register_are_refused_next_to_the_field(
        site: Site, an: Person) -> None:
    page = register_an(site, an, date_of_birth="1990-05-18")
    assert 'id="personal_id_number-error"' in page
    assert "không khớp" in page  # the service's reason, shown in the page's language
    assert site.services.channels["sms"].read("0912345678") == ""


def test_a_control_character_in_the_name_is_refused_next_to_its_field(
        site: Site, an: Person) -> None:
    page = register_an(site, an, full_name="Nguyễn Văn\x00 An")
    assert re.search(r'id="full_name-error"[^>]*>chứa ký tự điều khiển', page)
    typed_apart = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert register_an(site, an, full_name=typed_apart) == "/account/verify-phone"


def test_a_file_that_is_not_a_face_photo_is_refused_next_to_its_field(
        site: Site, an: Person) -> None:
    page = register_an(site, an, photo=b"%PDF-1.7" + bytes(4096))
    assert 'id="face_photo-error"' in page
    assert "JPEG hoặc PNG" in page
    assert 'enctype="multipart/form-data"' in page
    assert site.services.channels["sms"].read("0912345678") == ""
    assert register_an(site, an) == "/account/verify-phone"  # nothing half-written blocks it


def test_a_wrong_code_is_refused(site: Site, an: Person) -> None:
    register_an(site, an)
    wrong = f"{(int(sms_code(site)) + 1) % 10**6:06d}"
    response = site.client.post("/account/verify-phone", data={
        "code": wrong, "csrf_token": site.csrf("/account/verify-phone")})
    assert response.status_code == 422
    assert 'id="code-error"' in response.text


def test_citizen_sign_in_is_rate_limited_per_address(site: Site, an: Person) -> None:
    for _ in range(10):
        assert citizen_sign_in(site, an, "wrong password!") == 401
    assert citizen_sign_in(site, an) == 429


def password_answers(site: Site, address: str, number: str) -> list[tuple[int, str]]:
    """Wrong passwords for one ID number, one past the free failures, each answer's status
    and message; from an address of its own, so the per-address limit plays no part."""
    browser = Site(site.app, TestClient(site.app, client=(address, 50000)))
    answers = []
    for _ in range(FREE_LOGIN_FAILURES + 1):
        page = browser.client.post("/account/login?lang=en", data={
            "personal_id_number": number, "password": "wrong password!",
            "csrf_token": browser.csrf("/account/login")})
        message = re.search(r'id="password-error"[^>]*>([^<]*)<', page.text)
        answers.append((page.status_code, message.group(1) if message else ""))
    return answers


def test_an_unknown_id_number_locks_after_the_same_failures_as_an_account(
        site: Site, an: Person) -> None:
    approved(site, an)
    real = password_answers(site, "203.0.113.1", an.personal_id_number)
    unknown = password_answers(site, "203.0.113.2", "001090999999")
    assert real == unknown
    assert real[-1] == (401, "Too many failed attempts: try again later.")
    assert set(real[:-1]) == {(401, "Wrong ID number or password.")}


def test_approval_needs_the_scope_and_the_csrf_token(site: Site, an: Person) -> None:
    register_an(site, an)
    site.sign_in_as(Role.AGENCY_APPROVER)
    assert site.client.get("/console/accounts").status_code == 403
    refused = site.client.post(f"/console/accounts/{an.personal_id_number}/approve",
                               data={"reason": "checked"}, follow_redirects=False)
    assert refused.status_code == 403


def test_an_official_of_another_province_does_not_see_the_applicant(
        site: Site, an: Person) -> None:
    register_an(site, an)
    verify_phone(site)
    site.sign_in_as(Role.POLICE, Scope.province("79"))
    assert an.full_name not in site.client.get("/console/accounts").text
    token = site.csrf("/console/accounts")
    response = site.client.post(f"/console/accounts/{an.personal_id_number}/approve",
                                data={"reason": "trying anyway", "csrf_token": token})
    assert response.status_code == 404  # as if nobody had that number: nothing to learn


def test_the_approving_official_sees_the_face_photo_and_each_look_is_audited(
        site: Site, an: Person) -> None:
    register_an(site, an)
    verify_phone(site)
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    queue = site.client.get("/console/accounts").text
    photo_url = f"/console/accounts/{an.personal_id_number}/photo"
    assert f'href="{photo_url}"' in queue
    shown = site.client.get(photo_url)
    assert (shown.status_code, shown.content) == (200, PHOTO)
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["cache-control"] == "no-store"
    [look] = audit_entries(site.services.session_factory, "identity.face_photo.read")
    assert look.subject_id == an.personal_id_number
    assert look.purpose == "identity.approval_face"  # "comparing the face photo..." as a code


@pytest.mark.parametrize(("role", "scope", "status"), [
    (Role.AGENCY_APPROVER, Scope.province("01"), 403),  # no identity:approve
    (Role.SERVICE_CLERK, Scope.province("79"), 404),  # another province: as if nobody
])
def test_the_face_photo_is_refused_without_the_permission_or_outside_the_scope(
        site: Site, an: Person, role: Role, scope: Scope, status: int) -> None:
    register_an(site, an)
    verify_phone(site)
    site.sign_in_as(role, scope)
    refused = site.client.get(f"/console/accounts/{an.personal_id_number}/photo")
    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert audit_entries(site.services.session_factory, "identity.face_photo.read") == []


def test_a_new_code_can_be_sent_three_times_an_hour(site: Site, an: Person) -> None:
    register_an(site, an)
    statuses = [site.client.post("/account/verify-phone/resend", data={
        "csrf_token": site.csrf("/account/verify-phone")}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the registration code counts as the first
    assert site.services.channels["sms"].read("0912345678").count("===") == 3
    assert verify_phone(site) == 200


def test_password_reset_through_the_phone_in_the_browser(site: Site, an: Person) -> None:
    approved(site, an)

    asked = site.client.post("/account/password-reset", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "phone": "0912345678",
        "csrf_token": site.csrf("/account/password-reset")})
    assert asked.headers["location"] == "/account/password-reset/confirm"
    weak = site.client.post("/account/password-reset/confirm", data={
        "code": sms_code(site), "password": "short",
        "csrf_token": site.csrf("/account/password-reset/confirm")})
    assert weak.status_code == 422
    assert 'id="password-error"' in weak.text
    done = site.client.post("/account/password-reset/confirm", follow_redirects=False, data={
        "code": sms_code(site), "password": "a brand new passphrase",
        "csrf_token": site.csrf("/account/password-reset/confirm")})

    assert done.headers["location"] == "/account/login"
    assert citizen_sign_in(site, an, "a brand new passphrase") == 303


def test_a_reset_request_answers_the_same_for_strangers(site: Site) -> None:
    response = site.client.post("/account/password-reset", follow_redirects=False, data={
        "personal_id_number": "001090999999", "phone": "0912345678",
        "csrf_token": site.csrf("/account/password-reset")})
    assert response.headers["location"] == "/account/password-reset/confirm"
    assert site.services.channels["sms"].read("0912345678") == ""



def test_a_citizen_locks_their_account_and_an_official_unlocks_it(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    locked = site.client.post("/account/lock", data={"csrf_token": site.csrf("/account")})
    assert locked.status_code == 200
    assert citizen_sign_in(site, an) == 401

    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    unlocked = site.client.post("/console/accounts/lock-state", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "action": "unlock",
        "reason": "citizen came with the ID card", "csrf_token": site.csrf("/console/accounts")})
    assert unlocked.status_code == 303
    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303


def test_lock_state_changes_need_a_known_action(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    site.sign_in_as(Role.POLICE)
    response = site.client.post("/console/accounts/lock-state", data={
        "personal_id_number": an.personal_id_number, "action": "delete",
        "reason": "testing", "csrf_token": site.csrf("/console/accounts")})
    assert response.status_code == 422


def test_a_citizen_sees_their_devices_and_signs_one_out(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    phone = TestClient(site.app, headers={"user-agent": "Lost phone browser"})
    phone.post("/account/login", data={
        "personal_id_number": an.personal_id_number, "password": PASSWORD,
        "csrf_token": Site(site.app, phone).csrf("/account/login")})
    assert phone.get("/account", follow_redirects=False).status_code == 200

    page = site.client.get("/account?lang=en").text
    assert "Lost phone browser" in page
    assert page.count("Sign this device out") == 1  # not offered for the current device
    handle = re.search(r"/account/sessions/(\w+)/end", page)
    assert handle is not None
    assert "citizen_session" not in page
    ended = site.client.post(f"/account/sessions/{handle.group(1)}/end", follow_redirects=False,
                             data={"csrf_token": site.csrf("/account")})

    assert ended.status_code == 303
    assert phone.get("/account", follow_redirects=False).status_code == 303
    assert site.client.get("/account", follow_redirects=False).status_code == 200


def test_a_password_reset_signs_every_device_out(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    other = TestClient(site.app)
    other.cookies = site.client.cookies  # the same signed-in browser session
    site.client.post("/account/password-reset", data={
        "personal_id_number": an.personal_id_number, "phone": "0912345678",
        "csrf_token": site.csrf("/account/password-reset")})
    site.client.post("/account/password-reset/confirm", data={
        "code": sms_code(site), "password": "a brand new passphrase",
        "csrf_token": site.csrf("/account/password-reset/confirm")})
    assert other.get("/account", follow_redirects=False).status_code == 303
