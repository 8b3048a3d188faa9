"""Passkeys as the level-2 second factor: added during activation or later from a level-2
session, used to step up, removed; and each refusal — no CSRF header, a spent or foreign
challenge, a phishing origin, no user verification, a cloned authenticator, another account's
passkey, and removing the last second factor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from civicstack.identity import service
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved, citizen_sign_in
from tests.support.api import audit_entries
from tests.support.authenticator import Authenticator
from tests.support.eid import POLICE_HANOI, account_of, make_level_two
from tests.support.web import Site


def origin(site: Site) -> str:
    return str(site.services.settings.issuer)


def call(site: Site, path: str, body: dict[str, Any] | None = None,
         csrf: bool = True) -> httpx.Response:
    headers = {"X-CSRF-Token": site.csrf("/account")} if csrf else {}
    return site.client.post(path, json=body or {}, headers=headers)


def add_passkey(site: Site, device: Authenticator, name: str = "my phone") -> httpx.Response:
    options = call(site, "/account/passkeys/options")
    assert options.status_code == 200, options.text
    return call(site, "/account/passkeys", {"credential": device.create(options.json()),
                                            "name": name})


def step_up(site: Site, device: Authenticator) -> httpx.Response:
    options = call(site, "/account/step-up/passkey/options")
    assert options.status_code == 200, options.text
    return call(site, "/account/step-up/passkey",
                {"credential": device.get(options.json()), "next": "/oidc/authorize?x=1"})


def activated(site: Site, an: Person) -> None:
    """Approved at level 1, level 2 activated by the police, the citizen signed in."""
    approved(site, an)
    with transaction(site.services.session_factory) as session:
        service.authorise_level_two(session, POLICE_HANOI, an.personal_id_number,
                                    "citizen present with chip-based ID card")
    assert citizen_sign_in(site, an) == 303


def session_proof(site: Site, an: Person) -> tuple[int, int, tuple[str, ...]]:
    """(account level, level of the newest session, its amr)."""
    with transaction(site.services.session_factory) as session:
        account = account_of(session, an.personal_id_number)
        newest = max(service.live_sessions(session, account), key=lambda s: s.created_at)
        found = service.signed_in(session, newest.id)
        assert found is not None
        return account.level, found.level, found.amr


def test_a_passkey_completes_level_two_and_then_steps_up_a_new_sign_in(
        site: Site, an: Person) -> None:
    activated(site, an)
    page = site.client.get("/account/passkeys?lang=en").text
    assert "Add a passkey on this device" in page
    assert 'data-csrf=""' not in page  # the button carries the token its script sends
    device = Authenticator(origin(site))
    added = add_passkey(site, device)
    assert added.status_code == 201, added.text
    assert session_proof(site, an) == (2, 2, ("pwd", "hwk"))

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    page = site.client.get("/account/step-up?lang=en")
    assert "Use a passkey" in page.text
    assert "authenticator app" not in page.text.split("<main")[1]  # no TOTP on this account
    stepped = step_up(site, device)
    assert stepped.status_code == 200, stepped.text
    assert stepped.json() == {"redirect": "/oidc/authorize?x=1"}
    assert session_proof(site, an) == (2, 2, ("pwd", "hwk"))
    assert [e.detail["method"] for e in audit_entries(
        site.services.session_factory, "identity.step_up")] == ["passkey"]
    assert "my phone" in site.client.get("/account/passkeys").text


def test_json_calls_need_the_csrf_header_and_a_signed_in_citizen(
        site: Site, an: Person) -> None:
    assert call(site, "/account/passkeys/options").status_code == 401
    activated(site, an)
    assert call(site, "/account/passkeys/options", csrf=False).status_code == 403


def test_a_level_one_account_without_activation_cannot_add_a_passkey(
        site: Site, an: Person) -> None:
    approved(site, an)
    assert citizen_sign_in(site, an) == 303
    assert call(site, "/account/passkeys/options").status_code == 403
    assert "police office" in site.client.get("/account/passkeys?lang=en").text


@pytest.mark.parametrize(("device_changes", "reason"), [
    ({"origin": "https://civicstack-login.example"}, "origin"),  # a phishing site
    ({"verifies_user": False}, "verif"),
])
def test_a_passkey_from_elsewhere_or_without_user_verification_is_refused(
        site: Site, an: Person, device_changes: dict[str, Any], reason: str) -> None:
    activated(site, an)
    refused = add_passkey(site, Authenticator(**{"origin": origin(site), **device_changes}))
    assert refused.status_code == 422
    assert reason in refused.json()["errors"][0]["reason"]
    assert session_proof(site, an)[0] == 1  # nothing half-done: still waiting


def test_step_up_refuses_replays_clones_and_other_accounts_passkeys(
        site: Site, an: Person) -> None:
    activated(site, an)
    device = Authenticator(origin(site))
    assert add_passkey(site, device).status_code == 201
    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303

    options = call(site, "/account/step-up/passkey/options").json()
    answer = device.get(options)
    assert call(site, "/account/step-up/passkey", {"credential": answer}).status_code == 200
    replayed = call(site, "/account/step-up/passkey", {"credential": answer})
    assert replayed.status_code == 422  # the challenge was spent by the first answer
    assert "expired" in replayed.json()["errors"][0]["reason"]

    clone = Authenticator(origin(site), credential_id=device.credential_id, key=device.key)
    cloned = step_up(site, clone)  # its counter starts again from zero
    assert cloned.status_code == 422
    stranger = step_up(site, Authenticator(origin(site)))
    assert stranger.status_code == 422
    with transaction(site.services.session_factory) as session:
        assert account_of(session, an.personal_id_number).failed_logins == 2
    assert all(e.detail["outcome"] == "wrong" for e in audit_entries(
        site.services.session_factory, "identity.step_up")[1:])


def test_passkeys_are_added_later_and_removed_only_from_a_level_two_session(
        site: Site, an: Person) -> None:
    approved(site, an)
    with transaction(site.services.session_factory) as session:
        make_level_two(session, str(site.services.totp_key), an.personal_id_number)
    assert citizen_sign_in(site, an) == 303
    assert call(site, "/account/passkeys/options").status_code == 403  # step up first
    with transaction(site.services.session_factory) as session:
        [browser] = service.live_sessions(session, account_of(session, an.personal_id_number))
        browser.level = 2
    assert add_passkey(site, Authenticator(origin(site))).status_code == 201
    [passkey_id] = [p.id for p in _passkeys(site, an)]
    removed = site.client.post(f"/account/passkeys/{passkey_id}/remove",
                               data={"csrf_token": site.csrf("/account/passkeys")},
                               follow_redirects=False)
    assert removed.status_code == 303  # the authenticator app remains
    assert _passkeys(site, an) == []


def test_the_only_second_factor_cannot_be_removed(site: Site, an: Person) -> None:
    activated(site, an)
    assert add_passkey(site, Authenticator(origin(site))).status_code == 201
    [passkey_id] = [p.id for p in _passkeys(site, an)]
    refused = site.client.post(f"/account/passkeys/{passkey_id}/remove",
                               data={"csrf_token": site.csrf("/account/passkeys")})
    assert refused.status_code == 409
    assert len(_passkeys(site, an)) == 1


def _passkeys(site: Site, an: Person) -> list[Any]:
    with transaction(site.services.session_factory) as session:
        return service.my_passkeys(session, account_of(session, an.personal_id_number))
