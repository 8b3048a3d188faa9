"""The demo bank, an Authlib relying party served beside the provider: a citizen who denies
consent, or any error the provider sends back, lands on the bank's page with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from civicstack.kit.appservices import services_of
from civicstack.kit.db import transaction
from civicstack.oidc.demo_rp import MOUNT, register_demo_bank
from civicstack.registry.models import Person
from tests.support.oidc import ADMIN, Citizen, LiveProvider, live_provider
from tests.support.people import make_person

BANK = f"{MOUNT}/"


@pytest.fixture
def provider(database_url: str, tmp_path: Path) -> Iterator[LiveProvider]:
    with live_provider(database_url, tmp_path / "data", demo_relying_party=True) as running:
        with transaction(running.factory) as session:
            register_demo_bank(session, ADMIN, services_of(running.app).pepper,
                               running.data_dir, running.base)
        yield running


@pytest.fixture
def an(provider: LiveProvider) -> Person:
    with transaction(provider.factory) as session:
        person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    provider.active_account(person)
    return person


def _citizen(provider: LiveProvider) -> Citizen:
    citizen = Citizen(provider)
    citizen.http.headers["accept-language"] = "en"
    return citizen


def _consent_page(citizen: Citizen, person: Person) -> httpx.Response:
    """From the bank's sign-in button to the provider's consent page."""
    page = citizen.visit(f"{MOUNT}/login", person)
    assert 'name="pending"' in page.text, page.text[:300]
    return page


def _decide(citizen: Citizen, page: httpx.Response, decision: str) -> httpx.Response:
    """The provider sends the browser back to the bank's callback, and the bank home."""
    answer = citizen.consent(page, decision=decision)
    assert answer.headers["location"].startswith(f"{citizen.provider.base}{MOUNT}/callback?")
    return citizen.visit(answer.headers["location"])


def test_allowing_signs_the_citizen_in_at_the_bank(provider: LiveProvider, an: Person) -> None:
    citizen = _citizen(provider)
    landed = _decide(citizen, _consent_page(citizen, an), "allow")
    assert landed.url.path == BANK
    assert "Nguyễn Văn An" in landed.text


def test_denying_consent_shows_the_bank_page_saying_sign_in_was_cancelled(
        provider: LiveProvider, an: Person) -> None:
    citizen = _citizen(provider)
    landed = _decide(citizen, _consent_page(citizen, an), "deny")
    assert landed.status_code == 200, landed.text[:300]
    assert landed.url.path == BANK
    assert "Sign-in was cancelled" in landed.text
    assert "Nguyễn Văn An" not in landed.text


def _bank_starts_a_sign_in(citizen: Citizen) -> str:
    """The bank's sign-in button: the state of the request it sends to the provider."""
    started = citizen.http.get(f"{MOUNT}/login")
    return parse_qs(urlsplit(started.headers["location"]).query)["state"][0]


def test_any_error_from_the_provider_is_shown_not_a_server_error(
        provider: LiveProvider) -> None:
    citizen = _citizen(provider)
    state = _bank_starts_a_sign_in(citizen)
    landed = citizen.visit(f"{MOUNT}/callback?error=temporarily_unavailable"
                           f"&error_description=try+later&state={state}")
    assert landed.status_code == 200, landed.text[:300]
    assert "Sign-in did not complete: temporarily_unavailable: try later" in landed.text


def test_an_error_answer_without_the_banks_state_is_not_repeated(
        provider: LiveProvider) -> None:
    citizen = _citizen(provider)
    _bank_starts_a_sign_in(citizen)
    landed = citizen.visit(f"{MOUNT}/callback?error=server_error"
                           "&error_description=call+0900+123+456+to+unlock+your+account")
    assert landed.status_code == 200
    assert "does not belong to the sign-in the bank started" in landed.text
    assert "0900" not in landed.text
