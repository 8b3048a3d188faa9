"""The wallet's pages: the citizen's cards, adding documents from the register, QR codes for a
counter, reporting a loss; the officials' verifier and status changes; the public monthly
list of integrated documents. Through the real app, on both databases."""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person, Sex
from civicstack.wallet import qr, sdjwt, service
from civicstack.wallet.models import Credential
from civicstack.wallet.site import IN_PERSON_AUDIENCE, WALLET_SITE
from civicstack.wallet.trust import LiveTrust
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.eid import code_for, make_active_account
from tests.support.people import make_person
from tests.support.wallet import give_id_card, grant, now, re_encoded_key_bindings
from tests.support.web import CSRF_PATTERN, Site

PRESENTATION = re.compile(r'<textarea readonly id="presentation"[^>]*>([^<]+)</textarea>')
CARD_LINK = re.compile(r'href="/wallet/cards/([0-9a-f]{32})"')


def csrf_in(html: str) -> str:
    found = CSRF_PATTERN.search(html)
    assert found, "no form on the page"
    return found.group(1)


@pytest.fixture
def citizen(site: Site, an: Person, tmp_path: Path) -> Person:
    """An, with an ID card on record and an active eID account, signed in; the catalogue
    loaded."""
    factory = site.services.session_factory
    with transaction(factory) as session:
        service.seed_catalogue(session)
        give_id_card(session, an)
    make_active_account(factory, site.services.pepper, an, tmp_path / "mailbox")
    assert citizen_sign_in(site, an) == 303
    return an


def add_from_register(site: Site, code: str = "id_card") -> tuple[int, str]:
    response = site.client.post("/wallet/add", follow_redirects=False, data={
        "document_code": code, "csrf_token": site.csrf("/wallet")})
    return response.status_code, response.headers.get("location", response.text)


def id_card(site: Site) -> str:
    """Add the ID card; returns its public id."""
    status, location = add_from_register(site)
    assert status == 303, location
    return location.rsplit("/", 1)[1]


def qr_page(site: Site, public_id: str, disclose: tuple[str, ...]) -> tuple[int, str]:
    response = site.client.post(f"/wallet/cards/{public_id}/qr", data={
        "disclose": list(disclose), "csrf_token": site.csrf("/wallet")})
    return response.status_code, response.text


def presentation_of(site: Site, public_id: str,
                    disclose: tuple[str, ...] = ("full_name", "date_of_birth")) -> str:
    status, html = qr_page(site, public_id, disclose)
    assert status == 200, html
    found = PRESENTATION.search(html)
    assert found, "no presentation on the QR page"
    return qr.decode(found.group(1))


def official(site: Site, role: Role = Role.SERVICE_CLERK,
             acts_for: str | None = None) -> TestClient:
    """A second browser signed in to the console, so the citizen's stays signed in; granted
    to act for the issuer `acts_for` if named."""
    browser = TestClient(site.app)
    account = site.new_official(role)
    if acts_for is not None:
        with transaction(site.services.session_factory) as session:
            grant(session, Actor("official", account.username), acts_for)
    login = browser.get("/console/login")
    assert browser.post("/console/login", follow_redirects=False, data={
        "username": account.username, "password": account.password,
        "csrf_token": csrf_in(login.text)}).status_code == 303
    page = browser.get("/console/login/code")
    assert browser.post("/console/login/code", follow_redirects=False, data={
        "code": code_for(account.secret, 1), "csrf_token": csrf_in(page.text)}
    ).status_code == 303
    return browser


def scan(browser: TestClient, presentation: str) -> tuple[int, str]:
    form = browser.get("/console/wallet/verify")
    response = browser.post("/console/wallet/verify", data={
        "presentation": presentation, "csrf_token": csrf_in(form.text)})
    return response.status_code, response.text


def audit_actions(site: Site, action: str) -> list[AuditEntry]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- the citizen's wallet -------------------------------------------------------------------

def test_the_wallet_asks_for_sign_in_first(site: Site) -> None:
    response = site.client.get("/wallet", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=%2Fwallet"


def test_a_citizen_adds_the_id_card_from_the_register_and_sees_it_as_a_card(
        site: Site, citizen: Person) -> None:
    before = site.client.get("/wallet").text
    assert "Thêm từ Cơ sở dữ liệu quốc gia về dân cư" in before
    assert 'value="id_card"' in before

    public_id = id_card(site)
    wallet = site.client.get("/wallet").text
    assert CARD_LINK.findall(wallet) == [public_id]
    assert "Căn cước" in wallet
    assert "Bộ Công an" in wallet
    assert citizen.full_name in wallet
    assert "còn hiệu lực" in wallet  # the status badge
    assert 'value="id_card"' not in wallet  # held now: no longer offered

    card = site.client.get(f"/wallet/cards/{public_id}?lang=en").text
    assert "ID card" in card
    assert "Ministry of Public Security" in card
    assert "Personal ID number" in card
    assert citizen.personal_id_number in card
    assert "17/05/1990" in card  # a date as people write it
    assert 'action="/wallet/offer"' in card
    assert 'name="document_code" value="id_card"' in card


def test_the_register_documents_are_offered_and_a_refusal_is_said_in_words(
        site: Site, citizen: Person) -> None:
    status, page = add_from_register(site, "marriage_certificate")
    assert status == 409
    assert "không ghi nhận quan hệ hôn nhân hiện tại" in page  # translated, on the wallet page
    assert 'id="wallet-refusal"' in page

    status, page = add_from_register(site, "driving_licence")  # the agency's, not the register's
    assert status == 422
    assert "giấy tờ này do hệ thống của cơ quan cấp chuyển sang" in page
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(Credential)).all() == []


def test_a_person_without_an_id_card_on_record_is_told_where_to_get_one(
        site: Site, an: Person, tmp_path: Path) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        service.seed_catalogue(session)
    make_active_account(factory, site.services.pepper, an, tmp_path / "mailbox")
    assert citizen_sign_in(site, an) == 303
    status, page = add_from_register(site)
    assert status == 409
    assert "thẻ phải được cấp tại cơ quan công an trước" in page


def test_the_qr_page_holds_a_presentation_of_only_the_chosen_fields_that_verifies(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    status, html = qr_page(site, public_id, ("full_name", "date_of_birth"))
    assert status == 200
    assert "<svg" in html
    assert "Có giá trị trong 5 phút" in html
    size = re.search(r"(\d+) ký tự; mã QR phiên bản (\d+), mức sửa lỗi ([LM])", html)
    assert size, "the page says how large the QR code is"
    assert int(size.group(2)) <= 40
    presentation = PRESENTATION.search(html)
    assert presentation
    assert int(size.group(1)) == len(presentation.group(1))

    with transaction(site.services.session_factory) as session:
        verified = sdjwt.verify(qr.decode(presentation.group(1)),
                                LiveTrust(session, site.services[WALLET_SITE]),
                                sdjwt.Expectations(IN_PERSON_AUDIENCE, now()))
    assert verified.claims == {"full_name": citizen.full_name, "date_of_birth": "1990-05-17"}


def test_every_field_of_the_id_card_fits_in_one_qr_code(site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    with transaction(site.services.session_factory) as session:
        every = tuple(service.card(session, site.services[WALLET_SITE], citizen.personal_id_number,
                                   public_id).claims)
    status, html = qr_page(site, public_id, every)
    assert status == 200
    assert "<svg" in html


def test_fields_too_large_for_a_qr_code_are_refused_beside_the_choice(
        site: Site, citizen: Person) -> None:
    relatives = [{"relation": "child", "full_name": secrets.token_hex(12),  # not compressible
                  "personal_id_number": f"0012{n:08d}", "date_of_birth": "2010-01-01"}
                 for n in range(80)]
    with transaction(site.services.session_factory) as session:
        issued = service.issue_credential(
            session, site.services[WALLET_SITE], Actor("issuer", "bo-cong-an"), "family_relations",
            citizen.personal_id_number, {"personal_id_number": citizen.personal_id_number,
                                         "full_name": citizen.full_name,
                                         "date_of_birth": "1990-05-17", "relatives": relatives})
    status, html = qr_page(site, issued.credential.public_id, ("full_name", "relatives"))
    assert status == 422
    assert "không vừa một mã QR" in html
    assert 'id="disclose-error"' in html


def test_a_qr_code_with_no_field_chosen_is_refused_beside_the_choice(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    status, html = qr_page(site, public_id, ())
    assert status == 422
    assert 'id="disclose-error"' in html


def test_reporting_a_card_lost_suspends_it_and_the_card_says_why(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    confirm = site.client.get(f"/wallet/cards/{public_id}/lost").text
    assert 'id="confirm-lost"' in confirm
    response = site.client.post(f"/wallet/cards/{public_id}/lost", follow_redirects=False,
                                data={"csrf_token": csrf_in(confirm)})
    assert response.status_code == 303

    card = site.client.get(f"/wallet/cards/{public_id}?lang=en").text
    assert "reported lost by the holder" in card
    assert 'id="suspension"' in card
    assert f'action="/wallet/cards/{public_id}/qr"' not in card  # cannot be shown
    status, html = qr_page(site, public_id, ("full_name",))
    assert status == 409
    assert "suspended or expired" in html


def test_another_persons_card_is_not_found_in_my_wallet(site: Site, citizen: Person) -> None:
    response = site.client.get(f"/wallet/cards/{'0' * 32}")
    assert response.status_code == 404
    assert "không có giấy tờ này trong ví của bạn" in response.text


# --- the officials' verifier ----------------------------------------------------------------

def test_an_official_verifies_a_qr_code_once_and_refuses_its_replay(
        site: Site, citizen: Person) -> None:
    presentation = presentation_of(site, id_card(site),
                                   ("personal_id_number", "full_name", "date_of_birth"))
    clerk = official(site)

    status, page = scan(clerk, presentation)
    assert status == 200
    assert "không yêu cầu xuất trình bản giấy hoặc bản sao" in page
    assert citizen.full_name in page
    assert "17/05/1990" in page
    assert "Bộ Công an" in page
    read = audit_actions(site, "wallet.presentation.verify")
    assert [(e.subject_id, e.detail["document"]) for e in read] == [
        (citizen.personal_id_number, "id_card")]
    assert read[0].detail["claims"] == ["date_of_birth", "full_name", "personal_id_number"]

    status, page = scan(clerk, presentation)
    assert status == 422
    assert "mã QR này đã được xuất trình tại đây" in page
    assert citizen.full_name not in page
    refused = audit_actions(site, "wallet.presentation.refuse")
    assert [e.detail["reason"] for e in refused] == [
        "this QR code was already shown here; ask the holder for a fresh one"]


def test_a_qr_code_shown_once_is_refused_when_its_signature_is_re_encoded(
        site: Site, citizen: Person) -> None:
    presentation = presentation_of(site, id_card(site))
    clerk = official(site)
    assert scan(clerk, presentation)[0] == 200
    for how, replayed in re_encoded_key_bindings(presentation).items():
        for scanned in (replayed, qr.encode(replayed)):
            status, page = scan(clerk, scanned)
            assert status == 422, how
            assert citizen.full_name not in page, how
    assert len(audit_actions(site, "wallet.presentation.verify")) == 1


def test_a_tampered_qr_code_is_refused(site: Site, citizen: Person) -> None:
    presentation = presentation_of(site, id_card(site))
    credential, *rest = presentation.split("~")
    made_up = "WyJzYWx0IiwgImZ1bGxfbmFtZSIsICJOZ3V5ZW4gVmFuIEIiXQ"  # [salt, full_name, ...]
    forged = "~".join([credential, *rest[:-2], made_up, rest[-1]])
    status, page = scan(official(site), forged)
    assert status == 422
    assert 'class="panel wallet-refused"' in page
    assert "wallet-verified" not in page


def test_a_qr_code_of_a_card_suspended_since_is_refused(site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    presentation = presentation_of(site, public_id)
    confirm = site.client.get(f"/wallet/cards/{public_id}/lost").text
    site.client.post(f"/wallet/cards/{public_id}/lost", data={"csrf_token": csrf_in(confirm)})
    status, page = scan(official(site), presentation)
    assert status == 422
    assert "giấy tờ đang bị tạm đình chỉ" in page


def test_the_verifier_needs_a_signed_in_official(site: Site) -> None:
    response = site.client.get("/console/wallet/verify", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


# --- the officials' status changes ----------------------------------------------------------

def test_police_suspend_a_document_with_a_reason_and_the_citizen_sees_it(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    police = official(site, Role.POLICE, acts_for="bo-cong-an")
    query = {"pid": citizen.personal_id_number, "purpose": "holder reports a theft"}
    listing = police.get("/console/wallet/credentials", params=query)
    assert listing.status_code == 200
    assert f'id="credential-{public_id}"' in listing.text
    assert "Căn cước" in listing.text
    assert audit_actions(site, "wallet.credential.list")[0].purpose == "holder reports a theft"

    response = police.post(f"/console/wallet/credentials/{public_id}/status",
                           follow_redirects=False, data={
                               "status": "suspended", "reason": "card stolen, under inquiry",
                               **query, "csrf_token": csrf_in(listing.text)})
    assert response.status_code == 303
    assert police.get(response.headers["location"]).text.count("card stolen, under inquiry") == 1
    assert "card stolen, under inquiry" in site.client.get(f"/wallet/cards/{public_id}").text


def test_a_clerk_without_the_status_permission_is_refused(site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    clerk = official(site, Role.SERVICE_CLERK)
    query = {"pid": citizen.personal_id_number, "purpose": "holder reports a theft"}
    assert clerk.get("/console/wallet/credentials", params=query).status_code == 403
    response = clerk.post(f"/console/wallet/credentials/{public_id}/status", data={
        "status": "revoked", "reason": "just because", **query,
        "csrf_token": csrf_in(clerk.get("/console/wallet/verify").text)})
    assert response.status_code == 403
    assert "không được thu hồi, tạm dừng và khôi phục giấy tờ trong ví" in response.text
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(Credential.status)).all() == ["valid"]


def test_an_official_not_granted_for_the_issuer_cannot_change_its_document(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)  # the Ministry of Public Security's
    health_office = official(site, Role.AGENCY_APPROVER, acts_for="bhxh-viet-nam")
    query = {"pid": citizen.personal_id_number, "purpose": "holder reports a theft"}
    listing = health_office.get("/console/wallet/credentials", params=query)
    assert listing.status_code == 200
    assert f'action="/console/wallet/credentials/{public_id}/status"' not in listing.text
    assert "Chỉ cán bộ được giao quyền" in listing.text
    response = health_office.post(f"/console/wallet/credentials/{public_id}/status", data={
        "status": "revoked", "reason": "not their agency's card", **query,
        "csrf_token": csrf_in(listing.text)})
    assert response.status_code == 403
    assert "chỉ khóa hoặc cán bộ được giao quyền" in response.text
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(Credential.status)).all() == ["valid"]


def test_a_person_lookup_needs_a_purpose(site: Site, citizen: Person) -> None:
    police = official(site, Role.POLICE)
    response = police.get("/console/wallet/credentials",
                          params={"pid": citizen.personal_id_number, "purpose": ""})
    assert response.status_code == 422
    assert 'id="purpose-error"' in response.text


# --- the public monthly list ----------------------------------------------------------------

def test_the_monthly_list_is_public_and_counts_issued_documents(
        site: Site, citizen: Person) -> None:
    id_card(site)
    site.client.cookies.clear()
    page = site.client.get("/wallet/documents?lang=en")
    assert page.status_code == 200
    assert "Integrated in 07/2023" in page.text
    row = re.search(r'<tr data-document="id_card">.*?<td class="issued">(\d+)</td>', page.text,
                    re.S)
    assert row
    assert row.group(1) == "1"
    assert 'href="/api/v1/wallet/integrated-documents.csv"' in page.text
    assert 'class="wallet-chart-bar" width="100.0"' in page.text
    assert date(2025, 11, 1).strftime("%m/%Y") in page.text  # the organisations' document


def test_a_15_year_old_is_not_offered_a_marriage_certificate_but_an_adult_is(
        site: Site, citizen: Person, tmp_path: Path) -> None:
    """Issue 19: a 15-year-old was offered "Add marriage certificate"."""
    adult_page = site.client.get("/wallet?lang=en").text
    assert 'name="document_code" value="marriage_certificate"' in adult_page
    today = date.today()
    with transaction(site.services.session_factory) as session:
        pupil = make_person(session, "Lê Thị Hoa", date(today.year - 15, 1, 10), sex=Sex.FEMALE,
                            phone="0912000444")
        give_id_card(session, pupil)
    make_active_account(site.services.session_factory, site.services.pepper, pupil,
                        tmp_path / "pupil-mailbox")
    site.client.cookies.clear()
    assert citizen_sign_in(site, pupil) == 303
    page = site.client.get("/wallet?lang=en").text
    assert 'name="document_code" value="birth_certificate"' in page
    assert 'name="document_code" value="marriage_certificate"' not in page
