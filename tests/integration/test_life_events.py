"""Life events take effect everywhere at once (issue 22): a death recorded in the register, an
ID card lost or revoked, and a citizen closing their own account. Each runs through its real
entry point against a live provider serving the demo bank, then every consequence is checked in
every domain (sign-in, sessions, the bank's back-channel endpoint, wallet status bits, face
templates, travel passes, dossiers, organisations), and the event replayed changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.biometrics import repository as biometrics_repository
from civicstack.biometrics import service as biometrics
from civicstack.biometrics.site import BIOMETRICS
from civicstack.identity import service as identity
from civicstack.identity.models import CitizenAccount
from civicstack.kit import apikeys
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.b64 import b64url_decode
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict
from civicstack.oidc.models import Consent
from civicstack.organisations import repository as organisations_repository
from civicstack.organisations import service as organisations
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.services import repository as services_repository
from civicstack.services import service as services
from civicstack.support import cleanup
from civicstack.travel import repository as travel_repository
from civicstack.travel import urban
from civicstack.travel.models import UrbanPass
from civicstack.travel.service import local_today
from civicstack.travel.site import TRAVEL
from civicstack.wallet import repository as wallet_repository
from civicstack.wallet import service as wallet
from civicstack.wallet import statuslist
from civicstack.wallet.models import Issuer, StatusList
from civicstack.wallet.site import WALLET_SITE
from tests.integration import test_oidc_logout as logout
from tests.support.biometrics import ENROLLING_POLICE, face_photo
from tests.support.eid import PASSWORD, account_of, code_for, live_session_ids, make_level_two
from tests.support.oidc import Citizen, LiveProvider
from tests.support.organisations import registered
from tests.support.services import publish_everywhere
from tests.support.travel import TRAVEL_ADMIN
from tests.support.wallet import give_id_card, health_card_claims

provider = logout.provider  # the live provider with the demo bank registered
by_hand = logout.by_hand  # the back-channel delivery job, run when the test says
an = logout.an  # Nguyễn Văn An, with an active eID account
METRO = "Hanoi Metro"
HEALTH_INSURER = Actor("issuer", "bhxh-viet-nam")
POLICE = Actor("apikey", "police-national", NATIONAL, Role.POLICE)


@dataclass(frozen=True)
class Held:
    """What one person holds across the domains before the event."""

    id_card: str  # wallet credentials' public ids
    health_card: str
    pass_id: int
    draft: str  # a dossier's receipt code


def _hold_everything(provider: LiveProvider, person: Person) -> Held:
    pid = person.personal_id_number
    found = services_of(provider.app)
    with transaction(provider.factory) as session:
        publish_everywhere(session)
        give_id_card(session, person)
        card = wallet.issue_from_register(session, found[WALLET_SITE], pid, "id_card")
        health = wallet.issue_credential(session, found[WALLET_SITE], HEALTH_INSURER,
                                         "health_insurance", pid, health_card_claims(person))
        biometrics.enrol_from_id_card(session, found[BIOMETRICS], ENROLLING_POLICE, pid,
                                      face_photo("obama/1.jpg"))
    with transaction(provider.factory) as session:
        urban.add_site(session, TRAVEL_ADMIN, urban.SiteIn(
            "HN-CATLINH", "Cát Linh", METRO, "rail_station", "01", 8000, 0))
        metro_pass = urban.open_pass(session, found[TRAVEL], Actor("citizen", pid), METRO,
                                     "rail", consent=True)
        draft = services.start_draft(session, Actor("citizen", pid), pid, "DVC-CT-01")
    return Held(card.credential.public_id, health.credential.public_id, metro_pass.id,
                draft.receipt_code)


def _status_bit(provider: LiveProvider, public_id: str) -> statuslist.CredentialStatus:
    """What a verifier reads: the bit at the credential's index in its issuer's published,
    signed status list (fetched over HTTP like any verifier; the signature is the wallet
    tests' concern)."""
    with transaction(provider.factory) as session:
        credential = wallet_repository.credential(session, public_id)
        assert credential is not None
        status_list = session.get(StatusList, credential.status_list_id)
        assert status_list is not None
        issuer = session.get(Issuer, status_list.issuer_id)
        assert issuer is not None
        url = f"{provider.base}/wallet/issuers/{issuer.slug}/status/{status_list.number}"
        index = credential.status_index
    token = httpx.get(url).text
    claims = json.loads(b64url_decode(token.split(".")[1]))
    array = statuslist.decode(claims["status_list"]["lst"])
    return statuslist.CredentialStatus(statuslist.status_at(array, index))


def _account(provider: LiveProvider, person: Person) -> CitizenAccount:
    with transaction(provider.factory) as session:
        found = account_of(session, person.personal_id_number)
        session.expunge(found)
    return found


def _sign_in(provider: LiveProvider, person: Person) -> httpx.Response:
    return Citizen(provider).sign_in(person)


def _record_death_through_the_api(provider: LiveProvider, person: Person) -> None:
    with transaction(provider.factory) as session:
        key = apikeys.create_key(session, services_of(provider.app).pepper, "civil-status",
                                 Role.ADMIN)
    recorded = httpx.post(f"{provider.base}/api/v1/registry/events/deaths",
                          headers={"Authorization": f"Bearer {key.token}"},
                          json={"personal_id_number": person.personal_id_number,
                                "occurred_on": "2026-11-30", "cause": "illness"})
    assert recorded.status_code == 201, recorded.text


# --- finding 1: a dead person's eID kept working ----------------------------------------------

def test_a_dead_persons_session_sign_in_and_bank_sign_in_all_end_with_the_death(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int]) -> None:
    citizen = logout._customer_at_the_bank(provider, an)
    _record_death_through_the_api(provider, an)

    assert citizen.http.get("/account").status_code == 303  # the open session is over
    assert by_hand() == 1  # the bank's back-channel endpoint was called
    assert not logout._signed_in_at_the_bank(citizen)
    assert [d.reason for d in logout._deliveries(provider)] == ["account_closed"]
    refused = _sign_in(provider, an)
    assert refused.status_code == 401
    assert "đã bị đóng" in refused.text  # "has been closed", in the default language
    again = Citizen(provider)
    assert again.visit(f"{logout.MOUNT}/login", an).status_code == 401  # no new bank sign-in


# --- a death, every consequence -------------------------------------------------------------

def test_a_death_reaches_every_domain_once_even_when_replayed(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int]) -> None:
    pid = an.personal_id_number
    with transaction(provider.factory) as session:
        secret = make_level_two(session, services_of(provider.app).totp_key, pid)
        token = identity.start_session(session, account_of(session, pid), "pytest", "127.0.0.1")
    with transaction(provider.factory) as session:
        assert identity.step_up(session, services_of(provider.app).totp_key, token,
                                code_for(secret, 1)) == identity.CodeOutcome.ACCEPTED
    organisation = registered(provider.factory, token)
    held = _hold_everything(provider, an)
    citizen = logout._customer_at_the_bank(provider, an)

    with transaction(provider.factory) as session:
        registry.record_death(session, POLICE, pid, date(2026, 11, 30), "illness")
    _check_death_consequences(provider, an, held, organisation.tax_code)
    assert by_hand() == 1
    assert not logout._signed_in_at_the_bank(citizen)

    before = _audit_count(provider)
    with transaction(provider.factory) as session:  # the consistency check replays it
        registry.replay_death(session, POLICE, pid)
    assert _audit_count(provider) == before + 1  # the replay itself, and nothing else
    _check_death_consequences(provider, an, held, organisation.tax_code)
    assert by_hand() == 0


def _audit_count(provider: LiveProvider) -> int:
    return len(logout.audit_entries(provider.factory))


def _check_death_consequences(provider: LiveProvider, person: Person, held: Held,
                              tax_code: str) -> None:
    pid = person.personal_id_number
    account = _account(provider, person)
    assert (account.status, account.closure_reason) == ("closed", "deceased")
    assert _sign_in(provider, person).status_code == 401
    assert _status_bit(provider, held.id_card) == statuslist.CredentialStatus.INVALID
    assert _status_bit(provider, held.health_card) == statuslist.CredentialStatus.SUSPENDED
    with transaction(provider.factory) as session:
        assert live_session_ids(session, pid) == []
        assert biometrics_repository.template_of(session, pid) is None
        assert not biometrics.has_consent(session, pid)
        assert _pass_withdrawn(session, pid, held.pass_id)
        dossier = services_repository.dossier(session, held.draft)
        assert dossier is not None
        assert (dossier.state, dossier.decision_reason) == (
            "refused", "applicant deceased on 2026-11-30")
        flagged = organisations_repository.by_tax_code(session, tax_code)
        assert flagged is not None
        assert flagged.succession_needed_since is not None
        assert [o.tax_code for o in organisations.awaiting_succession(session, POLICE)] == [
            tax_code]
        assert session.scalars(select(Consent).where(
            Consent.account_id == account.id, Consent.withdrawn_at.is_(None))).all() == []


def _pass_withdrawn(session: Session, personal_id_number: str, pass_id: int) -> bool:
    """No current pass is left, and the one held ended with its face copy gone."""
    found = session.get(UrbanPass, pass_id)
    return (travel_repository.passes_of_person(session, personal_id_number) == []
            and found is not None and found.ended_at is not None
            and found.valid_until < local_today()
            and travel_repository.token_of_pass(session, pass_id) is None)


# --- an ID card lost or revoked -----------------------------------------------------------

@pytest.mark.parametrize(("ending", "wallet_bit"), [
    (registry.CardEnd.LOST, statuslist.CredentialStatus.SUSPENDED),
    (registry.CardEnd.REVOKED, statuslist.CredentialStatus.INVALID)])
def test_an_id_card_lost_or_revoked_ends_level_two_and_the_wallet_card(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int],
        ending: registry.CardEnd, wallet_bit: statuslist.CredentialStatus) -> None:
    pid = an.personal_id_number
    with transaction(provider.factory) as session:
        secret = make_level_two(session, services_of(provider.app).totp_key, pid)
    held = _hold_everything(provider, an)
    citizen = logout._customer_at_the_bank(provider, an)
    page = citizen.http.get("/account/step-up")
    stepped = citizen.http.post("/account/step-up", data={
        "code": code_for(secret, 1), "next": "/account", "csrf_token": citizen.form_token(page)})
    assert stepped.status_code == 303

    with transaction(provider.factory) as session:
        key = apikeys.create_key(session, services_of(provider.app).pepper, "card-office",
                                 Role.POLICE)
    body = {"card_number": pid, "ending": ending.value, "reason": "reported at the ward police"}
    url = f"{provider.base}/api/v1/registry/persons/{pid}/id-card-endings"
    auth = {"Authorization": f"Bearer {key.token}"}
    ended = httpx.post(url, headers=auth, json=body)
    assert ended.status_code == 201, ended.text
    assert ended.json()["status"] == ending.value

    assert by_hand() == 1
    assert not logout._signed_in_at_the_bank(citizen)
    assert [d.reason for d in logout._deliveries(provider)] == ["level_lowered"]
    account = _account(provider, an)
    assert (account.status, account.level, account.totp_secret) == ("active", 1, None)
    assert citizen.http.get("/account").status_code == 200  # level 1 goes on
    assert _status_bit(provider, held.id_card) == wallet_bit
    assert _status_bit(provider, held.health_card) == statuslist.CredentialStatus.VALID
    assert httpx.post(url, headers=auth, json=body).status_code == 409  # not twice


# --- a citizen closes their own account ---------------------------------------------------

def _closing_page(citizen: Citizen) -> httpx.Response:
    page = citizen.http.get("/account/close")
    assert page.status_code == 200, page.text[:300]
    return page


def test_a_citizen_closes_their_own_account_after_typing_number_and_password(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int]) -> None:
    pid = an.personal_id_number
    held = _hold_everything(provider, an)
    citizen = logout._customer_at_the_bank(provider, an)
    citizen.http.headers["accept-language"] = "vi"
    page = _closing_page(citizen)
    assert "Cơ sở dữ liệu quốc gia về dân cư" in page.text  # retention, said in Vietnamese

    for typed, password in ((pid[::-1], PASSWORD), (pid, "not my password")):
        refused = citizen.http.post("/account/close", data={
            "personal_id_number": typed, "password": password,
            "csrf_token": citizen.form_token(page)})
        assert refused.status_code == 422
    assert _account(provider, an).failed_logins == 1  # the wrong password counted
    closed = citizen.http.post("/account/close", data={
        "personal_id_number": pid, "password": PASSWORD, "csrf_token": citizen.form_token(page)})
    assert closed.status_code == 200, closed.text[:300]

    account = _account(provider, an)
    assert (account.status, account.closure_reason) == ("closed", "own_request")
    assert citizen.http.get("/account").status_code == 303
    assert by_hand() == 1
    assert not logout._signed_in_at_the_bank(citizen)
    assert _sign_in(provider, an).status_code == 401
    for public_id in (held.id_card, held.health_card):
        assert _status_bit(provider, public_id) == statuslist.CredentialStatus.INVALID
    with transaction(provider.factory) as session:
        card = wallet_repository.credential(session, held.id_card)
        assert card is not None
        assert card.sealed_sd_jwt is None
        assert biometrics_repository.template_of(session, pid) is None
        assert _pass_withdrawn(session, pid, held.pass_id)
        assert session.scalars(select(Consent).where(
            Consent.account_id == account.id, Consent.withdrawn_at.is_(None))).all() == []
        person = registry.get_person(session, POLICE, pid, "checking the register stays")
        assert person.status == "alive"  # the register record stays
        dossier = services_repository.dossier(session, held.draft)
        assert dossier is not None
        assert dossier.state == "draft"  # an agency still holds what the person filed
        with pytest.raises(Conflict, match="closed"):
            identity.lock(session, POLICE, pid, "a closed account cannot be reopened by a lock")


def test_a_level_two_account_steps_up_before_the_closing_page(
        provider: LiveProvider, an: Person) -> None:
    with transaction(provider.factory) as session:
        make_level_two(session, services_of(provider.app).totp_key, an.personal_id_number)
    citizen = Citizen(provider)
    citizen.sign_in(an)
    assert citizen.http.get("/account/close").headers["location"] == \
        "/account/step-up?next=/account/close"


# --- the consistency job ------------------------------------------------------------------

def test_the_consistency_check_closes_an_account_a_death_did_not_reach(
        provider: LiveProvider, an: Person) -> None:
    """A death recorded while identity did not yet subscribe (before this release, say)."""
    with transaction(provider.factory) as session:
        person = registry.get_person(session, POLICE, an.personal_id_number, "test set-up")
        person.status, person.date_of_death = "deceased", date(2026, 1, 2)
    with transaction(provider.factory) as session:
        assert cleanup.repair_deaths_not_acted_on(session) == [an.personal_id_number]
    assert _account(provider, an).status == "closed"
    with transaction(provider.factory) as session:
        assert cleanup.repair_deaths_not_acted_on(session) == []
