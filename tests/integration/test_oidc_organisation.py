"""Signing in to a relying party on behalf of an organisation (issue 22): the `organisation`
scope, the choice on the consent page, and the claim in the ID token and userinfo, over the
real flow (a live server, a browser, an Authlib client)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.common.errors import AuthlibBaseError

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.organisations import service as organisations
from civicstack.registry.models import Person
from tests.support.api import audit_entries
from tests.support.oidc import Citizen, LiveProvider, live_provider, relying_party
from tests.support.organisations import DEMO_TAX_CODE, level_two_token, registered, signed
from tests.support.people import make_person

SCOPE = "openid profile organisation offline_access"
OFFICER = Actor("apikey", "org-officer", NATIONAL, Role.POLICE)


@pytest.fixture
def provider(database_url: str, tmp_path: Path) -> Iterator[LiveProvider]:
    with live_provider(database_url, tmp_path / "data") as running:
        yield running


@pytest.fixture
def binh(provider: LiveProvider, tmp_path: Path) -> Person:
    """Trần Thị Bình, authorised to file services for Sông Hồng Software, which Nguyễn Văn
    Khoa represents."""
    app = services_of(provider.app)
    with transaction(provider.factory) as session:
        khoa = make_person(session, "Nguyễn Văn Khoa", date(1980, 1, 2), phone="0911111111")
        person = make_person(session, "Trần Thị Bình", date(1992, 3, 8), phone="0922222222")
    token = level_two_token(provider.factory, app.pepper, str(app.totp_key), khoa,
                            tmp_path / "mailbox-khoa")
    registered(provider.factory, token)
    provider.active_account(person)
    with transaction(provider.factory) as session:
        organisations.add_member(session, signed(session, token), DEMO_TAX_CODE,
                                 person.personal_id_number, ["services:file"])
    return person


def sign_in_for(provider: LiveProvider, person: Person, organisation: str,
                ) -> tuple[Any, dict[str, Any], Citizen]:
    """Through sign-in and the consent page, choosing `organisation` ("" for none); the
    relying party, its token and the browser."""
    registered_client = provider.register_client(
        scopes=("openid", "profile", "organisation", "offline_access"))
    rp = relying_party(provider, registered_client, scope=SCOPE)
    citizen = Citizen(provider)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, _ = rp.create_authorization_url(provider.url("authorize"), code_verifier=verifier,
                                         nonce=nonce)
    page = citizen.visit(url, person)
    assert 'id="acting-for"' in page.text
    assert f'value="{DEMO_TAX_CODE}"' in page.text
    callback = citizen.consent(page, organisation=organisation).headers["location"]
    token = dict(rp.fetch_token(authorization_response=callback, code_verifier=verifier))
    token["claims"] = provider.verify_id_token(token["id_token"], registered_client.client_id)
    return rp, token, citizen


def test_discovery_advertises_the_organisation_scope_and_claim(provider: LiveProvider) -> None:
    config = httpx.get(f"{provider.base}/.well-known/openid-configuration").json()
    assert "organisation" in config["scopes_supported"]
    assert "organisation" in config["claims_supported"]


def test_a_member_signs_in_for_the_organisation_and_the_tokens_say_so(
        provider: LiveProvider, binh: Person) -> None:
    rp, token, _ = sign_in_for(provider, binh, DEMO_TAX_CODE)
    expected = {"tax_code": DEMO_TAX_CODE, "name": "Công ty TNHH Phần mềm Sông Hồng",
                "role": "authorised", "permissions": ["services:file"]}
    assert token["claims"]["organisation"] == expected
    assert rp.get(provider.url("userinfo")).json()["organisation"] == expected
    [entry] = [e for e in audit_entries(provider.factory, "oidc.sign_in")
               if e.subject_id == binh.personal_id_number]
    assert entry.detail["organisation"] == DEMO_TAX_CODE


def test_a_member_may_sign_in_as_themself(provider: LiveProvider, binh: Person) -> None:
    rp, token, _ = sign_in_for(provider, binh, "")
    assert "organisation" not in token["claims"]
    assert "organisation" not in rp.get(provider.url("userinfo")).json()


def test_a_withdrawn_authorisation_ends_the_sign_in_as_the_organisation(
        provider: LiveProvider, binh: Person) -> None:
    rp, token, _ = sign_in_for(provider, binh, DEMO_TAX_CODE)
    with transaction(provider.factory) as session:
        organisations.decide(session, OFFICER, DEMO_TAX_CODE, "suspend",
                             "court order 12/2026")
    assert rp.get(provider.url("userinfo")).status_code == 401
    with pytest.raises(AuthlibBaseError, match="no longer acts"):
        rp.refresh_token(provider.url("token"), refresh_token=token["refresh_token"])


def test_a_forged_choice_of_organisation_gets_no_code(provider: LiveProvider,
                                                     binh: Person) -> None:
    registered_client = provider.register_client(
        scopes=("openid", "profile", "organisation", "offline_access"))
    rp = relying_party(provider, registered_client, scope=SCOPE)
    citizen = Citizen(provider)
    url, _ = rp.create_authorization_url(provider.url("authorize"),
                                         code_verifier=secrets.token_urlsafe(48))
    page = citizen.visit(url, binh)
    refused = citizen.consent(page, organisation="0314409058")  # not hers
    assert refused.status_code == 404
    assert "code=" not in refused.headers.get("location", "")
